import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    // Function logs are printed for failing tests only.
    silent: "passed-only",
    hookTimeout: 180_000,
  },
});
