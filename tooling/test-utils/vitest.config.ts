import { preset } from "./src/vitest";

export default preset;
