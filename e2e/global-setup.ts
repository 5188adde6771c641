import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";
import { chromiumPath } from "./support/env";

/**
 * Stops the run at once when there is no browser, rather than letting every test of three
 * projects fail one by one on a launch error that does not say what to do.
 */
export default function globalSetup(): void {
  const named = process.env.PLAYWRIGHT_CHROMIUM_PATH;
  if (named && !existsSync(named)) {
    throw new Error(
      `PLAYWRIGHT_CHROMIUM_PATH is ${named}, which does not exist: point it at a Chromium ` +
        "binary, or unset it to use /usr/bin/chromium (apt-get install -y chromium).",
    );
  }
  if (chromiumPath()) return;
  // No Debian Chromium: Playwright's own download is the last chance.
  const downloaded = chromium.executablePath();
  if (downloaded && existsSync(downloaded)) return;
  throw new Error(
    "No Chromium for the e2e suite: install Debian's (`apt-get install -y chromium`, found at " +
      "/usr/bin/chromium), set PLAYWRIGHT_CHROMIUM_PATH to a Chromium binary, or run " +
      "`pnpm --filter e2e exec playwright install chromium`.",
  );
}
