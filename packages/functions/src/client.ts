import { Inngest } from "inngest";

export interface InngestClientOptions {
  /**
   * The app id the functions register under. Several apps serving these same functions register
   * as distinct apps with one Inngest server (`next`, `astro`, `remix`).
   */
  appId: string;
  /**
   * What the SDK would otherwise read from the environment itself (INNGEST_DEV, INNGEST_BASE_URL,
   * INNGEST_EVENT_KEY, INNGEST_SIGNING_KEY, INNGEST_SIGNING_KEY_FALLBACK): an app passes what it
   * validated, so the client does not depend on when the environment was written.
   */
  isDev?: boolean | undefined;
  baseUrl?: string | undefined;
  eventKey?: string | undefined;
  signingKey?: string | undefined;
  signingKeyFallback?: string | undefined;
}

/**
 * An Inngest client for the functions. Options left out come from the environment, as the SDK
 * reads them: INNGEST_DEV (dev mode, optionally the dev server's URL), INNGEST_BASE_URL,
 * INNGEST_EVENT_KEY and INNGEST_SIGNING_KEY. Production needs the keys and no code change.
 */
export function createInngestClient({ appId, ...options }: InngestClientOptions) {
  const given = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Omit<InngestClientOptions, "appId">;
  return new Inngest({ id: appId, ...given });
}

export type FunctionsClient = ReturnType<typeof createInngestClient>;
