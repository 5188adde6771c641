import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // The browser module runs against a DOM: happy-dom's, with fetch stubbed per test.
    environment: "happy-dom",
    testTimeout: 120_000,
  },
});
