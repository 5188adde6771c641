import { loadAppEnv } from "@repo/app-runtime/env";

/**
 * The app's environment, validated once (the one place that reads process.env). It also sets
 * INNGEST_APP_ID (default `next`) and the dev-mode INNGEST_DEV default for the Inngest client,
 * which reads them itself: so it is imported before @repo/functions (see ./inngest.ts).
 */
export const env = loadAppEnv({
  appId: "next",
  // `next build` imports route modules to collect them: a build needs no production secrets.
  skipProductionChecks: process.env.NEXT_PHASE === "phase-production-build",
});
