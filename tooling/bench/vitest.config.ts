import { databasePreset } from "@repo/test-utils/vitest";
import { mergeConfig } from "vitest/config";

export default mergeConfig(databasePreset, {
  // The step-call test serves the real functions in dev mode.
  test: { env: { INNGEST_DEV: "1" } },
});
