import { preset } from "@repo/test-utils/vitest";
import { mergeConfig } from "vitest/config";

/**
 * The fault suite: scenarios one after another (each loads the two cores on its own; figures
 * taken side by side would measure each other), each in a fresh worker.
 */
export default mergeConfig(preset, {
  test: {
    include: ["scenarios/**/*.test.ts", "src/**/*.test.ts"],
    globalSetup: ["src/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
