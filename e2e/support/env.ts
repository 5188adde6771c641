import { existsSync } from "node:fs";

/**
 * Where the suite's servers listen, shared by the config (which starts them) and the specs (which
 * talk to them). The dev server gets a port of its own, not 8288, so that a developer's running
 * `pnpm dev` does not clash with the suite (or, worse, get its runs).
 */

export const DEV_SERVER_PORT = Number(process.env.E2E_DEV_SERVER_PORT ?? 8289);
export const DEV_SERVER_URL = `http://127.0.0.1:${DEV_SERVER_PORT}`;

export const APPS = [
  { name: "next", port: 4001 },
  { name: "astro", port: 4002 },
  { name: "remix", port: 4003 },
] as const;

export type AppName = (typeof APPS)[number]["name"];

export const appUrl = (port: number) => `http://127.0.0.1:${port}`;

/** The one secret every app is started with: the specs sign webhooks with it as a sender would. */
export const WEBHOOK_SECRET = "e2e-webhook-secret-0123456789";

/**
 * Debian's Chromium (`apt-get install -y chromium`), or any build named by
 * PLAYWRIGHT_CHROMIUM_PATH. Undefined: Playwright's own download, if `playwright install` put one.
 */
export function chromiumPath(): string | undefined {
  const named = process.env.PLAYWRIGHT_CHROMIUM_PATH;
  if (named) return named;
  return existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined;
}
