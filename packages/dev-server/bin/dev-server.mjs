#!/usr/bin/env node
// Runs the TypeScript CLI with no build step to remember: the sources are bundled by esbuild into
// one file in node_modules/.cache/dev-server/, named by a hash of the sources (path, size, mtime of
// each file under src/), rebuilt on the first start after any of them changes. Packages stay
// external (resolved from this package's node_modules as usual).
//
// Why not tsx (which this did before): tsx compiles each of the ~70 modules through its loader
// thread on every start, about 1.7 s of CPU before the server listens; the bundle loads in about
// 0.1 s (measured; packages/dev-server/README.md, "Speed").
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = join(root, "src");
const cacheDir = join(root, "node_modules", ".cache", "dev-server");
/** Bundles kept in the cache, the current one included. */
const KEPT_BUNDLES = 3;

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return entry.name.endsWith(".test.ts") ? [] : [path];
    })
    .sort();
}

const hash = createHash("sha256");
for (const file of sourceFiles(sources)) {
  const { size, mtimeMs } = statSync(file);
  hash.update(`${relative(root, file)}\0${size}\0${mtimeMs}\n`);
}
hash.update(statSync(join(root, "package.json")).mtimeMs.toString());
const bundle = join(cacheDir, `cli-${hash.digest("hex").slice(0, 16)}.mjs`);

let found = false;
try {
  found = statSync(bundle).isFile();
} catch {}
if (!found) {
  const { build } = await import("esbuild");
  mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed: processes starting at once never import a half-written bundle.
  const partial = `${bundle}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(sources, "cli.ts")],
    outfile: partial,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "error",
  });
  renameSync(partial, bundle);
  // Older bundles go, but not the last few: a process that started from the sources as they were
  // a moment ago may have found its bundle and be about to import it.
  const older = readdirSync(cacheDir)
    .filter((name) => name.startsWith("cli-") && name.endsWith(".mjs"))
    .map((name) => join(cacheDir, name))
    .filter((path) => path !== bundle)
    .map((path) => ({ path, mtimeMs: statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { path } of older.slice(KEPT_BUNDLES - 1)) rmSync(path, { force: true });
}
// Stack traces name the TypeScript sources, not the bundle.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(bundle).href);
