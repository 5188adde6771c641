import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * This package's folder, found from the running module upward: the same answer whether the code
 * runs from `src/` (tests, tsx) or from the CLI's bundle in `node_modules/.cache/dev-server/`.
 */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string };
      if (name === "@repo/dev-server") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`@repo/dev-server's package.json not found above ${from}`);
    dir = parent;
  }
}
