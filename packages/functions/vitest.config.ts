import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    // Function logs are printed for failing tests only.
    silent: "passed-only",
    hookTimeout: 180_000,
    // Tests configure their own database; this keeps a stray default from writing to disk.
    env: { PGLITE_DATA_DIR: "memory://", DATABASE_URL: "" },
  },
});
