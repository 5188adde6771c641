import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";
import { chromiumPath, EXTERNAL_INNGEST_URL } from "./support/env";
import { syncAllApps } from "./support/sync";

/**
 * Runs once the servers are up (Playwright starts `webServer` before global setup). Against an
 * Inngest server of someone else's (E2E_INNGEST_URL), nothing syncs the apps with it: each app
 * is asked to sync itself (the SDK's out-of-band PUT), and the specs start once the server lists
 * their functions. Then the browser check.
 */
export default async function globalSetup(): Promise<void> {
  checkBrowser();
  if (EXTERNAL_INNGEST_URL) await syncAllApps((line) => console.log(`[e2e] ${line}`));
}

/**
 * Stops the run at once when there is no browser, rather than letting every test of three
 * projects fail one by one on a launch error that does not say what to do.
 */
function checkBrowser(): void {
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
