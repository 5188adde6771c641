import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    // Function logs are printed for failing tests only.
    silent: "passed-only",
    hookTimeout: 60_000,
  },
});
