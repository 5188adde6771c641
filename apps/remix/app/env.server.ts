import { loadAppEnv } from "@repo/app-runtime/env";

/** The app's environment, validated once (the one place that reads process.env). */
export const env = loadAppEnv({
  appId: "remix",
  // A production build is production even where nothing set NODE_ENV.
  defaultNodeEnv: import.meta.env.PROD ? "production" : "development",
});
