import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    // The step-call test serves the real functions in dev mode under this app id.
    env: {
      INNGEST_DEV: "1",
      PGLITE_DATA_DIR: "memory://",
      DATABASE_URL: "",
    },
  },
});
