import { preset } from "@repo/test-utils/vitest";
import { mergeConfig } from "vitest/config";

export default mergeConfig(preset, {
  // The browser module runs against a DOM: happy-dom's, with fetch stubbed per test.
  test: { environment: "happy-dom" },
});
