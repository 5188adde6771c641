import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";
import {
  APPS,
  appUrl,
  chromiumPath,
  DEV_SERVER_PORT,
  DEV_SERVER_URL,
  EXTERNAL_INNGEST_URL,
  WEBHOOK_SECRET,
} from "./support/env";

/**
 * One configuration, a project per app sharing every spec: the same spec drives the same page of
 * Next, Astro and Remix. `webServer` starts one dev server in test mode (virtual clock) and the
 * three production builds (`pnpm e2e` builds them first), each app syncing with that dev server.
 */

const root = fileURLToPath(new URL("..", import.meta.url));
const dataDir = fileURLToPath(new URL("./.data/", import.meta.url));

/** Variables of the caller's shell that would point an app elsewhere: empty means unset to the
 * apps' env check and to the SDK. */
const CLEARED = {
  DATABASE_URL: "",
  INNGEST_BASE_URL: "",
  INNGEST_API_BASE_URL: "",
  INNGEST_EVENT_API_BASE_URL: "",
  INNGEST_EVENT_KEY: "",
  INNGEST_SIGNING_KEY: "",
  INNGEST_SIGNING_KEY_FALLBACK: "",
};

/** The servers' stderr is shown only when asked (E2E_SERVER_LOGS=1): the apps log every function
 * error, and the specs make some on purpose. */
const serverLogs = process.env.E2E_SERVER_LOGS ? ("pipe" as const) : ("ignore" as const);

// Generous: two cores, three production servers, a dev server and a browser.
const STARTUP_MS = 180_000;

export default defineConfig({
  testDir: "./specs",
  testMatch: "*.spec.ts",
  outputDir: "./test-results",
  // One worker: the three projects share the dev server's virtual clock, which a spec advances.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 60_000 },
  forbidOnly: Boolean(process.env.CI),
  globalSetup: "./global-setup.ts",
  reporter: [["list"], ["./support/conformance-reporter.ts"]],
  use: {
    browserName: "chromium",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: chromiumPath(),
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    ...APPS.map((app) => ({
      name: app.name,
      testDir: "./specs",
      use: { baseURL: appUrl(app.port) },
    })),
    // The dev server's own UI (issue #8): its specs, in their own folder, drive the dev server's
    // pages; the apps are only there to sync functions into it.
    {
      name: "dev-server-ui",
      testDir: "./dev-ui",
      use: { baseURL: DEV_SERVER_URL, viewport: { width: 1280, height: 800 } },
    },
  ],
  webServer: [
    // None of our own when E2E_INNGEST_URL names an Inngest server to use instead.
    ...(EXTERNAL_INNGEST_URL ? [] : [devServer()]),
    ...APPS.map((app) => ({
      name: app.name,
      // A fresh PGlite folder each run: rows of an earlier run must not pass for this one's. Named
      // by port too, so that two runs on other ports do not share (or delete) one another's.
      command: `rm -rf ${dataDir}${app.name}-${app.port} && pnpm run --silent start`,
      cwd: `${root}apps/${app.name}`,
      url: `${appUrl(app.port)}/api/inngest`,
      env: {
        ...CLEARED,
        PORT: String(app.port),
        HOST: "127.0.0.1",
        INNGEST_DEV: DEV_SERVER_URL,
        INNGEST_APP_ID: app.name,
        // The URL the app registers when it syncs itself (the SDK's out-of-band PUT, as the suite
        // does against another Inngest server): Astro without `security.allowedDomains` sees its
        // own host as `localhost`, which the SDK would register.
        INNGEST_SERVE_ORIGIN: appUrl(app.port),
        WEBHOOK_SECRET,
        PGLITE_DATA_DIR: `${dataDir}${app.name}-${app.port}/pglite`,
      },
      reuseExistingServer: false,
      timeout: STARTUP_MS,
      stdout: "ignore" as const,
      stderr: serverLogs,
    })),
  ],
});

/** Our dev server in test mode (virtual clock, memory storage), syncing the three apps. */
function devServer() {
  return {
    name: "dev-server",
    command: [
      "node bin/dev-server.mjs",
      `--port ${DEV_SERVER_PORT}`,
      "--storage memory://",
      "--test-mode",
      // Re-synced often, so the apps (started alongside) are synced soon after they answer.
      "--poll-interval 1s",
      ...APPS.map((app) => `-u ${appUrl(app.port)}/api/inngest`),
    ].join(" "),
    cwd: `${root}packages/dev-server`,
    url: `${DEV_SERVER_URL}/test/clock`,
    env: { ...CLEARED },
    reuseExistingServer: false,
    timeout: STARTUP_MS,
    stdout: "ignore" as const,
    stderr: serverLogs,
  };
}
