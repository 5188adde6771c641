import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Database } from "@repo/db";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { type DevServer, startDevServer } from "@repo/dev-server";
import {
  createRestClient,
  type EventJson,
  type OutgoingEvent,
  type RestClient,
  type RunJson,
  type TimelineStep,
  waitFor,
} from "@repo/test-utils";
import { serve } from "inngest/node";
import { afterAll, beforeAll } from "vitest";
import { createFunctions, createInngestClient, type FunctionsClient } from "../../src";

/**
 * End-to-end support: the real `functions` array served by `inngest/node` on node:http, driven by
 * our dev server in test mode, writing to a fresh database. Everything a test does to "the Inngest
 * server" goes through its public HTTP interfaces (the event API, REST API v1) plus the test-mode
 * clock, so the same specs could run against another Inngest-compatible server with a clock.
 *
 * The suites run with the package's `vitest run` (its include covers test/**), so `pnpm test` at
 * the root runs them, against PostgreSQL and PGlite. They move time only on the virtual clock and
 * poll with bounded deadlines, so they neither wait for real backoffs nor depend on timing.
 */

/** PGlite always, PostgreSQL too where it is reachable (it is on every machine of this project). */
export const drivers = await testDrivers();

/**
 * Where the virtual clock starts: noon UTC, so that no advance a test makes by a few seconds or
 * hours crosses the daily 09:00 UTC cron tick by chance, and the cron test knows its next tick.
 */
export const CLOCK_START = Date.parse("2030-06-14T12:00:00.000Z");

/**
 * Retry backoff on the virtual clock: 1 s after the first failed attempt, doubling. The Go server's
 * table starts at 15 s with jitter; a fixed, short one keeps the spacing exact and assertable.
 */
const RETRY = { baseMs: 1000, maxMs: 60_000 };

/**
 * INNGEST_DEV puts the client in dev mode with this URL; a base URL from the shell would win over
 * it (protocol notes §1), so all of them name the test's dev server.
 */
const CLIENT_URL_VARS = [
  "INNGEST_DEV",
  "INNGEST_BASE_URL",
  "INNGEST_API_BASE_URL",
  "INNGEST_EVENT_API_BASE_URL",
] as const;

export type { EventJson, OutgoingEvent, RunJson, TimelineStep };

export interface Stack {
  /** The functions' database (the same one they write to). */
  readonly db: Database;
  /** The functions' client (its app id names their slugs; it sends to this dev server). */
  readonly inngest: FunctionsClient;
  readonly server: DevServer;
  /** The slug the server knows a function by: the app id, then the function's id. */
  slug(functionId: string): string;
  /**
   * The slug of a run's function: its `function_id` is the function's internal id (a UUID, as on
   * Inngest), looked up in the app's function list (`GET /v1/apps/:app/functions`).
   */
  slugOf(run: RunJson): Promise<string>;
  /** POSTs one event to the event API; returns its internal id (what /v1/events/:id takes). */
  send(event: OutgoingEvent): Promise<string>;
  runsOf(eventId: string): Promise<RunJson[]>;
  run(runId: string): Promise<RunJson>;
  runsOfFunction(functionId: string): Promise<RunJson[]>;
  eventsNamed(name: string): Promise<EventJson[]>;
  timeline(runId: string): Promise<TimelineStep[]>;
  /** Moves the virtual clock; resolves once everything that came due has been run. */
  advance(ms: number): Promise<void>;
  /** Moves the virtual clock to an instant. */
  advanceTo(at: Date): Promise<void>;
  clock(): Promise<Date>;
  /** The one run an event started (waits for it to be scheduled). */
  onlyRunOf(eventId: string): Promise<RunJson>;
  /** Polls until the run is no longer Running (no clock moves: whatever is due now). */
  waitForEnd(runId: string): Promise<RunJson>;
  /** Polls until the run's timeline holds a step of `op` (e.g. it reached its wait). */
  waitForStep(runId: string, op: string, name?: string): Promise<TimelineStep>;
  /** Polls `probe` until it returns something other than undefined. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T>;
}

/** The app id the served functions register under. */
export const STACK_APP_ID = "functions-e2e";

/**
 * A database, dev server and app of the enclosing `describe`'s own. The functions are created with
 * the database, and INNGEST_DEV points the functions' client at this dev server.
 */
export function useDevServerStack(driver: (typeof drivers)[number]): Stack {
  let database: TestDatabase | undefined;
  let server: DevServer | undefined;
  let app: Server | undefined;
  const previousEnv = Object.fromEntries(CLIENT_URL_VARS.map((name) => [name, process.env[name]]));
  const inngest = createInngestClient({ appId: STACK_APP_ID });
  const functions = Object.values(
    createFunctions({
      inngest,
      db: () => {
        if (!database) throw new Error("the stack's database is not ready");
        return database.db;
      },
    }),
  );

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    server = await startDevServer({
      port: 0,
      storage: "memory://",
      testMode: true,
      clockStart: CLOCK_START,
      retry: RETRY,
    });
    // The client's mode and URLs come from env, as in the apps. The serve handler hands process.env
    // to the client on every request, the sync below included, so `inngest.send()` from the shared
    // client reaches this dev server too.
    for (const name of CLIENT_URL_VARS) process.env[name] = server.url;
    app = createServer(serve({ client: inngest, functions }));
    const listening = app;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const { port } = listening.address() as AddressInfo;
    await server.sync(`http://127.0.0.1:${port}/api/inngest`);
  }, 180_000);

  afterAll(async () => {
    if (app) {
      const closing = app;
      await new Promise<void>((resolve) => closing.close(() => resolve()));
      closing.closeAllConnections();
    }
    await server?.close();
    await database?.dispose();
    for (const [name, value] of Object.entries(previousEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const ready = () => {
    if (!server || !database)
      throw new Error("the dev server stack is not ready (outside a test?)");
    return { server, database };
  };

  let rest: RestClient | undefined;
  const api = () => {
    rest ??= createRestClient(ready().server.url);
    return rest;
  };

  const stack: Stack = {
    get db() {
      return ready().database.db;
    },
    get server() {
      return ready().server;
    },
    inngest,
    slug: (functionId) => `${inngest.id}-${functionId}`,
    async slugOf(run) {
      for (const [slug, id] of await api().functionIds(inngest.id)) {
        if (id === run.function_id) return slug;
      }
      throw new Error(`run ${run.run_id}: ${run.function_id} is none of the app's functions`);
    },
    async send(event) {
      const [id] = await api().send(event);
      if (!id) throw new Error(`POST /e/test-key returned no event id for ${event.name}`);
      return id;
    },
    runsOf: (eventId) => api().eventRuns(eventId),
    run: (runId) => api().run(runId),
    runsOfFunction: (functionId) => api().runs({ functionId: stack.slug(functionId), limit: 1000 }),
    eventsNamed: (name) => api().events({ name, limit: 1000 }),
    async timeline(runId) {
      return (await api().timeline(runId)).steps;
    },
    async advance(ms) {
      await api().test.advance(ms);
    },
    async advanceTo(at) {
      await api().test.advanceTo(at);
    },
    clock: () => api().test.now(),
    onlyRunOf: (eventId) =>
      waitFor(`a run of event ${eventId}`, async () => {
        const runs = await stack.runsOf(eventId);
        if (runs.length > 1) throw new Error(`event ${eventId} started ${runs.length} runs`);
        return runs[0];
      }),
    waitForEnd: (runId) =>
      waitFor(`run ${runId} to end`, async () => {
        const run = await stack.run(runId);
        return run.status === "Running" ? undefined : run;
      }),
    waitForStep: (runId, op, name) =>
      waitFor(`run ${runId} to reach a ${op}${name ? ` "${name}"` : ""} step`, async () =>
        (await stack.timeline(runId)).find(
          (step) => step.op === op && (name === undefined || step.name === name),
        ),
      ),
    waitFor: (what, probe) => waitFor(what, probe),
  };
  return stack;
}
