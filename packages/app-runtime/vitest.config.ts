import { databasePreset } from "@repo/test-utils/vitest";

export default databasePreset;
