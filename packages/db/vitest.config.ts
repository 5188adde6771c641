import { preset } from "@repo/test-utils/vitest";

export default preset;
