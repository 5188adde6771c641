import { loadAppEnv } from "@repo/app-runtime/env";

/**
 * The app's environment, validated once (the one place that reads process.env). It also sets
 * INNGEST_APP_ID (default `astro`) and the dev-mode INNGEST_DEV default for the Inngest client,
 * which reads them itself: so it is imported before @repo/functions (see ./inngest.ts).
 */
export const env = loadAppEnv({
  appId: "astro",
  // `node dist/server/entry.mjs` sets no NODE_ENV: a production build is production.
  defaultNodeEnv: import.meta.env.PROD ? "production" : "development",
});
