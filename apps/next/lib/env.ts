import { loadAppEnv } from "@repo/app-runtime/env";

/** The app's environment, validated once (the one place that reads process.env). */
export const env = loadAppEnv({
  appId: "next",
  // `next build` imports route modules to collect them: a build needs no production secrets.
  skipProductionChecks: process.env.NEXT_PHASE === "phase-production-build",
});
