import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TargetId } from "./report";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BENCH_DIR = join(REPO_ROOT, "tooling/bench");

/** One server under test: how it is built, started and sized. */
export interface Target {
  id: TargetId;
  label: string;
  /** The folder its build and start scripts run in. */
  dir: string;
  /** What a fresh build removes first (build outputs and build caches), relative to `dir`. */
  clean: string[];
  /** The shell command that builds it (the app's own `build` script); absent for the floor. */
  build?: string;
  /** The shell command that starts it: the app's own `start` script, run with `sh -c`. */
  start: string;
  /** The server output whose size is reported, relative to `dir`. */
  bundle: string;
}

function scripts(dir: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    scripts?: Record<string, string>;
  };
  return pkg.scripts ?? {};
}

function appTarget(
  id: Exclude<TargetId, "node">,
  label: string,
  clean: string[],
  bundle: string,
): Target {
  const dir = join(REPO_ROOT, "apps", id);
  const { build, start } = scripts(dir);
  if (!build || !start) throw new Error(`apps/${id}/package.json has no build or start script`);
  return { id, label, dir, clean, build, start, bundle };
}

/** The floor first, then the apps in the README's order. */
export function targets(): Target[] {
  return [
    {
      id: "node",
      label: "inngest/node",
      dir: BENCH_DIR,
      clean: ["dist"],
      start: "node dist/floor.mjs",
      bundle: "dist",
    },
    // `.next` whole: its `cache` folder would make the next build an incremental one.
    appTarget("next", "Next.js", [".next"], ".next/server"),
    appTarget("astro", "Astro", ["dist", "node_modules/.astro"], "dist/server"),
    appTarget("remix", "Remix", ["build", "node_modules/.vite"], "build/server"),
  ];
}

/**
 * Files counted in a server bundle: everything under the folder but source maps (`*.map`) and
 * Next's file traces (`*.nft.json`, lists of paths for deployment, not code that runs).
 */
export function countsTowardBundle(path: string): boolean {
  return !path.endsWith(".map") && !path.endsWith(".nft.json");
}

/** Total bytes of the files under `dir` that count toward the bundle (see countsTowardBundle). */
export function bundleBytes(dir: string): number {
  let total = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && countsTowardBundle(path)) total += statSync(path).size;
    }
  };
  walk(dir);
  return total;
}

/** How the report names a target's bundle: its path from the repository root. */
export function bundleDescription(target: Target): string {
  return `${relative(REPO_ROOT, join(target.dir, target.bundle))}/** (excluding *.map and *.nft.json)`;
}
