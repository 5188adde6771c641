import { preset } from "@repo/test-utils/vitest";
import { defineConfig } from "vitest/config";

/**
 * Three projects: the unit tests beside the source, and the HTTP suites under `test/` twice, once
 * per server mode (the harness reads DEV_SERVER_MODE): checkpointing (the default) and classic.
 * One mode alone: `vitest run --project classic`.
 */
const project = (name: string, include: string[], env: Record<string, string> = {}) => ({
  test: { ...preset.test, name, include, env: { ...preset.test?.env, ...env } },
});

export default defineConfig({
  test: {
    ...preset.test,
    projects: [
      project("unit", ["src/**/*.test.ts"]),
      project("checkpointing", ["test/**/*.test.ts"], { DEV_SERVER_MODE: "checkpointing" }),
      project("classic", ["test/**/*.test.ts"], { DEV_SERVER_MODE: "classic" }),
    ],
  },
});
