// Plain JavaScript: every package's vitest.config.ts imports it, and Node loads a config's imports
// from node_modules untranspiled. Its types are in vitest.d.ts.
import { defineConfig, mergeConfig } from "vitest/config";

/**
 * The one vitest preset of the workspace. Where tests live: a unit test beside the file it tests
 * (`src/**\/name.test.ts`); a suite across modules, or against servers, under `test/`. Both are
 * included everywhere. A package adds only what is its own (`mergeConfig(preset, { ... })`).
 */
export const preset = defineConfig({
  test: {
    include: ["src/**/*.test.{ts,tsx}", "test/**/*.test.{ts,tsx}"],
    // Generous: a passing test returns at once, and under `pnpm test` every suite shares two cores,
    // where creating a PGlite database or starting a server can take seconds.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Logs (the functions', the servers') are printed for failing tests only.
    silent: "passed-only",
  },
});

/** Packages whose tests open databases of their own: no stray default reaches the disk. */
export const databasePreset = mergeConfig(preset, {
  test: { env: { PGLITE_DATA_DIR: "memory://", DATABASE_URL: "" } },
});

/** The apps: each suite runs against a production server it starts. */
export const appPreset = mergeConfig(preset, {
  test: { testTimeout: 180_000, hookTimeout: 240_000 },
});
