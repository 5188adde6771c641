import { appPreset } from "@repo/test-utils/vitest";

export default appPreset;
