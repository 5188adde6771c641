import { Inngest } from "inngest";

/**
 * The one Inngest client. Mode and keys come from the environment, as the SDK reads them:
 * INNGEST_DEV (dev mode, optionally the dev server's URL), INNGEST_BASE_URL, INNGEST_EVENT_KEY and
 * INNGEST_SIGNING_KEY. Production needs the keys and no code change. INNGEST_APP_ID lets several
 * apps that serve these same functions register as distinct apps with one Inngest server.
 */
export const inngest = new Inngest({
  id: process.env.INNGEST_APP_ID || "inngest-frameworks",
});
