import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The app under test is a production server started per suite: generous on two shared cores.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    silent: "passed-only",
  },
});
