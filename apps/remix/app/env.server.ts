import { loadAppEnv } from "@repo/app-runtime/env";

/**
 * The app's environment, validated once (the one place that reads process.env). It also sets
 * INNGEST_APP_ID (default `remix`) and the dev-mode INNGEST_DEV default for the Inngest client,
 * which reads them itself: so it is imported before @repo/functions (see ./inngest.server.ts).
 */
export const env = loadAppEnv({
  appId: "remix",
  // A production build is production even where nothing set NODE_ENV.
  defaultNodeEnv: import.meta.env.PROD ? "production" : "development",
});
