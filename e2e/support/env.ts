import { existsSync } from "node:fs";

/**
 * Where the suite's servers listen, shared by the config (which starts them) and the specs (which
 * talk to them). The dev server gets a port of its own, not 8288, so that a developer's running
 * `pnpm dev` does not clash with the suite (or, worse, get its runs).
 */

export const DEV_SERVER_PORT = Number(process.env.E2E_DEV_SERVER_PORT ?? 8289);

/**
 * An Inngest server started by someone else (the real Inngest Dev Server, say): the suite then
 * starts none of its own and points the apps at this one. Specs that need our extras (the virtual
 * clock) skip against it, saying why.
 */
export const EXTERNAL_INNGEST_URL = process.env.E2E_INNGEST_URL?.replace(/\/+$/, "") || undefined;

export const DEV_SERVER_URL = EXTERNAL_INNGEST_URL ?? `http://127.0.0.1:${DEV_SERVER_PORT}`;

/** The apps' production ports are the base + 1, 2, 3 (4001-4003 unless E2E_APP_PORT_BASE says), so
 * that two runs of the suite (or a run beside `pnpm --filter <app> start`) can coexist. */
const APP_PORT_BASE = Number(process.env.E2E_APP_PORT_BASE ?? 4000);

export const APPS = [
  { name: "next", port: APP_PORT_BASE + 1 },
  { name: "astro", port: APP_PORT_BASE + 2 },
  { name: "remix", port: APP_PORT_BASE + 3 },
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
