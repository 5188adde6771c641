import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The checked-in migrations of @repo/db, found the way Node finds the package from this module.
 * Bundling moves this module (Vite puts it in the app's dist/ or build/ folder, from where the
 * app's own node_modules/@repo/db is found; Next keeps its source location), so the folder is
 * looked up at run time rather than taken from @repo/db's own location, which bundles lose.
 */
export function findMigrationsFolder(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(/* turbopackIgnore: true */ "@repo/db");
  } catch (error) {
    throw new Error(
      `Cannot find @repo/db (its migrations) from ${import.meta.url}: add @repo/db to the app's ` +
        `dependencies. ${(error as Error).message}`,
    );
  }
  const folder = join(dirname(entry), "..", "drizzle");
  if (!existsSync(join(folder, "meta", "_journal.json"))) {
    throw new Error(`No drizzle migrations in ${folder} (meta/_journal.json is missing)`);
  }
  return folder;
}
