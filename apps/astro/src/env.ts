import { loadAppEnv } from "@repo/app-runtime/env";

/** The app's environment, validated once (the one place that reads process.env). */
export const env = loadAppEnv({
  appId: "astro",
  // `node dist/server/entry.mjs` sets no NODE_ENV: a production build is production.
  defaultNodeEnv: import.meta.env.PROD ? "production" : "development",
});
