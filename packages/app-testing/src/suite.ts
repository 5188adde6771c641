import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { flows, testIds } from "@repo/contracts/flows";
import {
  analyticsEvents,
  createDatabase,
  type Database,
  type DatabaseDriver,
  emailOutbox,
  profiles,
  users,
  webhookLog,
} from "@repo/db";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { type DevServer, startDevServer } from "@repo/dev-server";
import { createFunctions, createInngestClient } from "@repo/functions";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from "@repo/handlers";
import { createRestClient, type RunJson } from "@repo/test-utils";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppProcess, childEnv, freePort, spawnApp, waitFor } from "./app-process";

/**
 * The suite every app runs, the same code for Next, Astro and Remix (each app's
 * `test/app.test.ts` is one call): the app's production build (turbo builds it first) is started
 * with its own `start` script against a dev server of the test's own, synced, and driven over HTTP
 * with no browser. What it proves is what the apps promise alike: the SDK endpoint in dev mode
 * with every function, sync, `hello-world` and the signup fan-out run to completion through the
 * app, the shared routes and pages mounted, the env checked and the migrations applied at start.
 */

interface AppRunJson extends RunJson {
  function: string;
  output_reported: boolean;
}

const ENDED = ["Completed", "Failed", "Cancelled", "Skipped"];
const WEBHOOK_SECRET = "app-suite-webhook-secret";

/** The functions every app serves, as an app creates them (the suite only reads their configs). */
const functions = Object.values(
  createFunctions({
    inngest: createInngestClient({ appId: "app-suite" }),
    db: () => {
      throw new Error("the suite reads the functions' configs only");
    },
  }),
);

/** Function configs the SDK reports: one per function, plus one per `onFailure` handler. */
export const expectedFunctionCount =
  functions.length + functions.filter((fn) => Boolean(fn.opts.onFailure)).length;

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${response.url}: ${response.status}, not JSON: ${text.slice(0, 300)}`);
  }
}

export interface AppSuiteOptions {
  /** The app's folder (where its package.json and `start` script are). */
  appDir: string | URL;
  /** Generous: two cores are shared by every suite that `pnpm test` runs at once. */
  timeoutMs?: number;
}

export function describeAppSuite(options: AppSuiteOptions): void {
  const appDir =
    typeof options.appDir === "string" ? options.appDir : fileURLToPath(options.appDir);
  const pkg = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as {
    name: string;
    scripts?: Record<string, string>;
  };
  const appId = pkg.name;
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!pkg.scripts?.start) throw new Error(`${appDir}/package.json has no start script`);

  describe(`${appId}: the production server refuses a wrong environment`, () => {
    it("exits at start with a message naming every wrong variable", async () => {
      const dataRoot = mkdtempSync(join(tmpdir(), `${appId}-env-`));
      const app = spawnApp(
        appDir,
        await freePort(),
        childEnv({
          NODE_ENV: "production",
          PGLITE_DATA_DIR: join(dataRoot, "pglite"),
          DATABASE_URL: "mysql://nope",
        }),
      );
      try {
        const code = await Promise.race([
          app.exited,
          new Promise<"still running">((resolve) =>
            setTimeout(() => resolve("still running"), timeoutMs / 2),
          ),
        ]);
        expect(code, app.output()).not.toBe(0);
        expect(code, app.output()).not.toBe("still running");
        const output = app.output();
        expect(output).toContain(`Invalid environment for the ${appId} app`);
        for (const variable of [
          "DATABASE_URL",
          "INNGEST_SIGNING_KEY",
          "INNGEST_EVENT_KEY",
          "WEBHOOK_SECRET",
        ]) {
          expect(output).toContain(`- ${variable}:`);
        }
      } finally {
        await app.stop();
        rmSync(dataRoot, { recursive: true, force: true });
      }
    });
  });

  const drivers = testDrivers();
  // Awaited by each driver's suite; this only keeps an early failure from being reported twice.
  drivers.catch(() => {});

  for (const driver of ["postgres", "pglite"] as const satisfies DatabaseDriver[]) {
    describe(`${appId}: production build on ${driver}, driven through a dev server`, () => {
      let skip = false;
      let devServer: DevServer;
      let app: AppProcess;
      let testDatabase: TestDatabase | undefined;
      let dataRoot: string | undefined;
      let pgliteDir = "";
      const appUrl = () => `${app.url}/api/inngest`;
      const signupUserId = `${appId}-${driver}-${Date.now().toString(36)}`;

      beforeAll(async () => {
        if (!(await drivers).includes(driver)) {
          skip = true;
          return;
        }
        devServer = await startDevServer({ port: 0, storage: "memory://", testMode: true });
        const database: Record<string, string | undefined> = {};
        if (driver === "postgres") {
          // Left unmigrated: applying the migrations is the app's job at start.
          testDatabase = await createTestDatabase("postgres", { migrated: false });
          database.DATABASE_URL = testDatabase.url;
        } else {
          dataRoot = mkdtempSync(join(tmpdir(), `${appId}-app-`));
          pgliteDir = join(dataRoot, "pglite");
          database.PGLITE_DATA_DIR = pgliteDir;
        }
        app = spawnApp(
          appDir,
          await freePort(),
          childEnv({
            INNGEST_DEV: devServer.url,
            INNGEST_APP_ID: appId,
            WEBHOOK_SECRET,
            ...database,
          }),
        );
        await waitFor(
          `${appUrl()} to answer`,
          async () => ((await fetch(appUrl())).ok ? true : undefined),
          { app, timeoutMs },
        );
      }, timeoutMs * 2);

      afterAll(async () => {
        await app?.stop();
        await devServer?.close();
        await testDatabase?.dispose();
        if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
      }, timeoutMs * 2);

      /**
       * Runs the event started, read from the dev server's REST API, once they have all ended; each
       * with `slug`, its function's slug (its `function_id` is the function's internal id, a UUID,
       * which the app's function list maps to the slug).
       */
      const endedRuns = (eventId: string, count: number, advanceClock = false) =>
        waitFor(
          `${count} run(s) of event ${eventId} to end`,
          async () => {
            const rest = createRestClient(devServer.url);
            const data: RunJson[] = await rest.eventRuns(eventId);
            if (data.length >= count && data.every((run) => ENDED.includes(run.status))) {
              const slugs = new Map(
                [...(await rest.functionIds(appId))].map(([slug, id]) => [id, slug]),
              );
              return data.map((run) => ({ ...run, slug: slugs.get(run.function_id) }));
            }
            // The virtual clock moves only when told: sleeps end when the test says so.
            if (advanceClock) await rest.test.advance(1000);
            return undefined;
          },
          { app, timeoutMs, intervalMs: 200 },
        );

      /** The rows, read directly from the app's database (PGlite: once the app has let go of it). */
      async function readDatabase<T>(read: (db: Database) => Promise<T>): Promise<T> {
        if (testDatabase) return read(testDatabase.db);
        await app.stop();
        const handle = createDatabase({ dataDir: pgliteDir });
        try {
          return await read(handle.db);
        } finally {
          await handle.close();
        }
      }

      it("validates its env, opens the database and applies the migrations at start", async ({
        skip: skipTest,
      }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        await waitFor(
          "the start-up line that reports the migrated database",
          async () => (/database \S+ .* migrated/.test(app.output()) ? true : undefined),
          { app, timeoutMs },
        );
        expect(app.output()).toContain(`app id ${appId}`);
        if (testDatabase?.client.kind === "postgres") {
          const { sql } = testDatabase.client;
          const [row] = await sql`select to_regclass('public.users')::text as users`;
          expect(row?.users).toBe("users");
        }
      });

      it("answers GET /api/inngest in dev mode with every function", async ({ skip: skipTest }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const response = await fetch(appUrl());
        expect(response.headers.get("x-inngest-sdk")).toMatch(/^inngest-js:v4\./);
        expect(await json(response)).toMatchObject({
          mode: "dev",
          function_count: expectedFunctionCount,
        });
      });

      it("is synced by the dev server under its own app id", async ({ skip: skipTest }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const synced = await devServer.sync(appUrl());
        expect(synced).toMatchObject({
          appId,
          functionCount: expectedFunctionCount,
          error: null,
        });
        const { data } = await json<{ data: { slug: string }[] }>(
          await fetch(`${devServer.url}/api/functions`),
        );
        const slugs = data.map((fn) => fn.slug);
        for (const fn of functions) expect(slugs).toContain(`${appId}-${fn.id()}`);
      });

      it("renders every flow of the catalogue with its routes, labels and test ids", async ({
        skip: skipTest,
      }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const home = await (await fetch(app.url)).text();
        for (const flow of flows) {
          expect(home).toMatch(
            new RegExp(
              `<a[^>]*href="${flow.route}"[^>]*data-testid="${testIds.flowLink(flow.id)}"`,
            ),
          );
        }
        for (const flow of flows) {
          const response = await fetch(`${app.url}${flow.route}`);
          expect(response.status, flow.route).toBe(200);
          const page = await response.text();
          expect(page).toContain(`data-flow="${flow.id}"`);
          expect(page).toContain(`data-testid="${testIds.runs}"`);
          expect(page).toContain(`data-testid="${testIds.results}"`);
          for (const form of flow.forms) {
            expect(page).toContain(`data-testid="${testIds.form(form.id)}"`);
            expect(page).toContain(`action="/api/flows/${flow.id}/${form.id}"`);
            expect(page).toContain(`data-testid="${testIds.submit(form.id)}"`);
            expect(page).toContain(`data-testid="${testIds.eventIds(form.id)}"`);
            expect(page).toContain(`data-testid="${testIds.formError(form.id)}"`);
            for (const field of form.fields) {
              const id = `${form.id}-${field.name}`;
              expect(page, `${flow.route} ${id}`).toMatch(
                new RegExp(`<label[^>]*for="${id}"[^>]*>${escapeRegExp(field.label)}</label>`),
              );
              expect(page).toMatch(
                new RegExp(`id="${id}"[^>]*data-testid="${testIds.field(form.id, field.name)}"`),
              );
              expect(page).toContain(`data-testid="${testIds.fieldError(form.id, field.name)}"`);
            }
          }
        }
      });

      it("ships the shared stylesheet and the shared browser module with its pages", async ({
        skip: skipTest,
      }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const page = await (await fetch(`${app.url}/flows/signup`)).text();
        const assets = await Promise.all(
          [...page.matchAll(/<(?:link|script)\b[^>]*\b(?:href|src)="([^"]+\.(?:css|js)[^"]*)"/g)]
            .map((match) => new URL((match[1] ?? "").replaceAll("&amp;", "&"), app.url))
            .filter((url) => url.origin === app.url)
            .map(async (url) => {
              const response = await fetch(url);
              expect(response.status, url.pathname).toBe(200);
              return response.text();
            }),
        );
        const everything = [page, ...assets].join("\n");
        // A rule of styles.css and a selector of flow-page.ts, whichever way the build shipped them
        // (linked or inlined). Booleans: a failure would otherwise print every bundle.
        expect(/\.field-error\s*[,{]/.test(everything), "styles.css is served").toBe(true);
        expect(everything.includes("[data-flow-page]"), "flow-page.ts is served").toBe(true);
      });

      it("mounts the shared handlers under /api", async ({ skip: skipTest }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const invalid = await fetch(`${app.url}/api/flows/signup/send`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ userId: "", email: "not-an-email", name: "Ada" }),
        });
        expect(invalid.status).toBe(400);
        expect(await json(invalid)).toMatchObject({
          fieldErrors: { userId: ["is required"], email: [expect.any(String)] },
        });

        const unsigned = await fetch(`${app.url}/api/webhooks/billing`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        expect(unsigned.status).toBe(401);

        const results = await fetch(`${app.url}/api/flows/signup/results?key=nobody`);
        expect(results.status).toBe(200);
        expect(await json(results)).toMatchObject({ flow: "signup", results: { user: null } });

        const unknown = await fetch(`${app.url}/api/no-such-route`);
        expect(unknown.status).toBe(404);
        expect(await json(unknown)).toMatchObject({ error: expect.stringContaining("no route") });
      });

      it("accepts a signed webhook and processes it through the app", async ({
        skip: skipTest,
      }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const payload = JSON.stringify({
          type: "invoice.paid",
          id: `evt-${signupUserId}`,
          data: { invoice: "inv_1", amount: 4200 },
        });
        const response = await fetch(`${app.url}/api/webhooks/billing`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [WEBHOOK_SIGNATURE_HEADER]: signWebhook(WEBHOOK_SECRET, payload),
          },
          body: payload,
        });
        expect(response.status).toBe(202);
        const { ids } = await json<{ logId: number; ids: string[] }>(response);
        const [run] = await endedRuns(ids[0] ?? "", 1);
        expect(run).toMatchObject({ slug: `${appId}-process-webhook`, status: "Completed" });
      });

      it("runs hello-world to completion: GET /api/hello, a durable 1 s sleep, the greeting", async ({
        skip: skipTest,
      }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const hello = await json<{ id: string }>(await fetch(`${app.url}/api/hello`));
        expect(hello.id).toMatch(/^[0-9A-Z]{26}$/);
        const runs = await endedRuns(hello.id, 1, true);
        expect(runs).toEqual([
          expect.objectContaining({
            slug: `${appId}-hello-world`,
            status: "Completed",
            output: { message: "Hello World!" },
          }),
        ]);

        // The page reads the same runs through the app, named by the app's function id.
        const throughApp = await json<{ runs: AppRunJson[] }>(
          await fetch(`${app.url}/api/events/${hello.id}/runs`),
        );
        expect(throughApp.runs).toEqual([
          expect.objectContaining({
            function: "hello-world",
            function_id: runs[0]?.function_id,
            status: "Completed",
            output: { message: "Hello World!" },
            output_reported: true,
          }),
        ]);
      });

      it("fans a signup out to three functions that write their rows", async ({
        skip: skipTest,
      }) => {
        if (skip) skipTest(`PostgreSQL is not reachable`);
        const sent = await fetch(`${app.url}/api/flows/signup/send`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            userId: signupUserId,
            email: "ada@example.com",
            name: "Ada Lovelace",
            plan: "pro",
          }),
        });
        expect(sent.status).toBe(200);
        const { ids } = await json<{ ids: string[] }>(sent);
        expect(ids).toHaveLength(1);
        const runs = await endedRuns(ids[0] ?? "", 3);
        expect(runs.map((run) => [run.slug, run.status]).sort()).toEqual(
          ["create-profile", "send-welcome-email", "track-analytics"].map((fn) => [
            `${appId}-${fn}`,
            "Completed",
          ]),
        );

        const rows = await readDatabase(async (db) => ({
          users: await db.select().from(users).where(eq(users.id, signupUserId)),
          profiles: await db.select().from(profiles).where(eq(profiles.userId, signupUserId)),
          emails: await db
            .select()
            .from(emailOutbox)
            .where(eq(emailOutbox.dedupeKey, `welcome:${signupUserId}`)),
          analytics: await db
            .select()
            .from(analyticsEvents)
            .where(eq(analyticsEvents.userId, signupUserId)),
          webhooks: await db.select().from(webhookLog).where(eq(webhookLog.source, "billing")),
        }));
        expect(rows.users).toEqual([
          expect.objectContaining({ id: signupUserId, email: "ada@example.com" }),
        ]);
        expect(rows.profiles).toHaveLength(1);
        expect(rows.emails).toEqual([expect.objectContaining({ recipient: "ada@example.com" })]);
        expect(rows.analytics).toEqual([expect.objectContaining({ name: "user.signed_up" })]);
        // The webhook of the test before: logged first, then marked processed by its function.
        expect(rows.webhooks).toEqual([expect.objectContaining({ status: "processed" })]);
      });
    });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
