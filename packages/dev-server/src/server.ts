import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
import { AppSync, type SyncOutcome } from "./app-sync";
import { type Clock, realClock, VirtualClock } from "./clock";
import { parseEventIdSeed, seededUlid } from "./event-ids";
import { type Executor, Executor as ExecutorImpl, type Logger, type RetryPolicy } from "./executor";
import { validateFunctions } from "./function-validation";
import {
  answerErrors,
  dateQuery,
  HttpError,
  isObject,
  limitQuery,
  readText,
  typeNameShowingStrings as typeName,
  ulidParam,
  ulidQuery,
} from "./http/request";
import { registerSyncApi } from "./http/sync";
import {
  appJson,
  eventJson,
  functionJson,
  iso,
  runJson,
  timelineStepJson,
  v1Answer,
} from "./http/wire";
import { SdkClient } from "./sdk-client";
import { signingKeyProblem } from "./signing";
import { openPglite, openPostgres, type SqlClient } from "./store/sql";
import { Store } from "./store/store";
import type { AppRecord, JsonObject, RunRecord, StoredEvent } from "./types";
import { registerUiApi } from "./ui-api";
import { registerUiAssets } from "./ui-assets";

export { functionCountText, type SyncOutcome } from "./app-sync";
export { validateFunctions };

export interface DevServerOptions {
  port?: number;
  host?: string;
  /** App serve URLs to sync at start and keep synced (like `inngest-cli dev -u`). */
  sdkUrls?: string[];
  /** `postgres://...`, a PGlite folder, or `memory://`. Default: `.data/dev-server`. */
  storage?: string;
  /**
   * Secure mode: calls to apps are signed and their answers verified, `/fn/register` needs the
   * key's hash as Bearer token. Apps must run in cloud mode with the same `INNGEST_SIGNING_KEY`.
   */
  signingKey?: string | undefined;
  /** When set, events are only accepted at `/e/<eventKey>`. */
  eventKey?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** Test mode: a virtual clock that only moves on `POST /test/clock/advance`, and `/test/reset`. */
  testMode?: boolean;
  /** Virtual clock's start (test mode). */
  clockStart?: number;
  logger?: Logger;
  /** How often apps given with `sdkUrls` are re-synced once reachable (ms). Default 5 s, as Go. */
  resyncIntervalMs?: number;
}

export interface DevServer {
  url: string;
  port: number;
  executor: Executor;
  store: Store;
  /** Syncs the app at `url` now (in band, or out of band if the app prefers); throws on failure. */
  sync(url: string): Promise<AppRecord>;
  /**
   * Settles once the first sync attempt of every `sdkUrls` entry has finished, one way or the
   * other. Those first outcomes are not logged: whoever starts the server reports them.
   */
  firstSync: Promise<SyncOutcome[]>;
  /** The latest sync outcome of each `sdkUrls` entry that has had one. */
  syncOutcomes(): SyncOutcome[];
  close(): Promise<void>;
}

const MAX_EVENT_BYTES = 512 * 1024;
const MAX_EVENTS_PER_REQUEST = 5000;
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const DEFAULT_RESYNC_MS = 5000;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;
/** Test mode remembers this many send seeds (see `storeEvents`). */
const REMEMBERED_SEEDS = 10_000;

const quietLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (m) => console.error(m),
};

export async function openStorage(storage: string): Promise<SqlClient> {
  if (/^postgres(ql)?:\/\//.test(storage)) return openPostgres(storage);
  return openPglite(storage);
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const logger = options.logger ?? quietLogger;
  if (options.signingKey) {
    const problem = signingKeyProblem(options.signingKey);
    if (problem) throw new Error(`signingKey: ${problem}`);
  }
  const clock: Clock = options.testMode ? new VirtualClock(options.clockStart) : realClock;
  const sql = await openStorage(options.storage ?? ".data/dev-server");
  const store = new Store(sql);
  await store.migrate();
  const sdk = new SdkClient({ signingKey: options.signingKey });
  const executor = new ExecutorImpl({
    store,
    clock,
    sdk,
    logger,
    retry: { baseMs: options.retry?.baseMs ?? 1000, maxMs: options.retry?.maxMs ?? 3_600_000 },
  });
  await executor.start();

  const resyncMs = options.resyncIntervalMs ?? DEFAULT_RESYNC_MS;
  const apps = new AppSync({ executor, store, sdk, logger, resyncMs });

  const app = new Hono();

  answerErrors(app, logger);

  // ------------------------------------------------------------------ events

  // Attempts of one send (same seed) are stored one after the other, so that "is this seed's send
  // already stored?" and the storing cannot interleave. Different sends go in parallel, and the
  // executor commits them together.
  const sendsBySeed = new Map<string, Promise<unknown>>();
  const seedIdsInTestMode = new Map<string, string[]>();

  app.post("/e/:key", async (c) => {
    if (options.eventKey && c.req.param("key") !== options.eventKey) {
      // The key is not echoed: it may be someone's real key sent to the wrong place.
      return c.json(
        { ids: [], status: 401, error: "Event key not found: send with the server's event key" },
        401,
      );
    }
    let inputs: EventInput[];
    try {
      inputs = parseEvents(await readText(c.req.raw, MAX_REQUEST_BYTES));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // The SDK throws on any `error` field, and Go answers failures in this shape.
      return c.json({ ids: [], status: error.status, error: error.message }, error.status);
    }
    const seed = c.req.header("x-inngest-event-id-seed") ?? null;
    let work: Promise<string[]>;
    if (seed) {
      work = (sendsBySeed.get(seed) ?? Promise.resolve()).then(() => storeEvents(inputs, seed));
      const settled = work.catch(() => {});
      sendsBySeed.set(seed, settled);
      void settled.then(() => {
        if (sendsBySeed.get(seed) === settled) sendsBySeed.delete(seed);
      });
    } else {
      work = storeEvents(inputs, seed);
    }
    return c.json({ ids: await work, status: 200 });
  });

  /**
   * Stores a send's events (durably: the ids are only answered after the commit) and starts what
   * they trigger. A retried send is recognised by its seed: its events are already stored, so it
   * gets the same ids and starts nothing again.
   */
  /**
   * Which of a send's events are new. Ids this process stored are remembered, so the common case
   * asks the database nothing (and sends keep being committed together); only a send first tried
   * before this process started (a retry across a restart) is looked up in the store.
   */
  const recentlyStored = new Set<string>();
  const processStartedAt = Date.now();
  async function notYetStored(events: StoredEvent[], seedMs: number | undefined) {
    let fresh = events.filter((event) => !recentlyStored.has(event.internalId));
    if (fresh.length > 0 && seedMs !== undefined && seedMs < processStartedAt) {
      const stored = new Set(
        (await store.getEvents(fresh.map((event) => event.internalId))).map((e) => e.internalId),
      );
      fresh = fresh.filter((event) => !stored.has(event.internalId));
    }
    return fresh;
  }
  function rememberStored(events: StoredEvent[]) {
    for (const event of events) recentlyStored.add(event.internalId);
    // A retried send comes within seconds: the last 100,000 ids are plenty.
    if (recentlyStored.size > 100_000) {
      let excess = recentlyStored.size - 100_000;
      for (const id of recentlyStored) {
        if (excess-- <= 0) break;
        recentlyStored.delete(id);
      }
    }
  }

  async function storeEvents(inputs: EventInput[], seedHeader: string | null): Promise<string[]> {
    const events = inputs.map((input) => executor.makeEvent(input));
    const seed = parseEventIdSeed(seedHeader);
    if (seed && seedHeader) {
      if (clock.virtual) {
        // The seed's time is the sender's wall clock, which means nothing on the virtual clock:
        // ids from it would sort before runs and waits created after a clock advance, and the
        // order of events sent at one virtual instant would be random. Test mode keeps the
        // executor's ordered ids and recognises a retry by remembering the seed instead.
        const known = seedIdsInTestMode.get(seedHeader);
        if (known?.length === events.length) {
          events.forEach((event, index) => {
            event.internalId = known[index] as string;
          });
        }
      } else {
        events.forEach((event, index) => {
          event.internalId = seededUlid(seed, index + 1);
        });
      }
    }
    const ids = events.map((event) => event.internalId);
    const fresh = await notYetStored(events, seed?.ms);
    if (fresh.length > 0) await executor.ingest(fresh);
    rememberStored(fresh);
    if (seed && seedHeader && clock.virtual) {
      seedIdsInTestMode.set(seedHeader, ids);
      if (seedIdsInTestMode.size > REMEMBERED_SEEDS) {
        const oldest = seedIdsInTestMode.keys().next().value;
        if (oldest !== undefined) seedIdsInTestMode.delete(oldest);
      }
    }
    return ids;
  }

  // ------------------------------------------------------------------ sync

  registerSyncApi(app, { apps, store, sdk, signingKey: options.signingKey });

  app.get("/api/apps", async (c) => {
    const functions = executor.functionList();
    return c.json({
      data: (await store.listApps()).map((record) => ({
        ...appJson(record),
        functions: functions.filter((fn) => fn.appUrl === record.url).map((fn) => fn.slug),
      })),
    });
  });

  app.get("/api/functions", (c) =>
    c.json({
      data: executor.functionList().map(functionJson),
    }),
  );

  // The dev server's info endpoint, in the Go dev server's shape (its UI and tools read it).
  app.get("/dev", async (c) => {
    const functions = executor.functionList();
    return c.json({
      version: "inngest-frameworks-dev-server",
      startOpts: {
        sdkURLs: options.sdkUrls ?? [],
        autodiscover: false,
        poll: (options.sdkUrls ?? []).length > 0,
        pollInterval: Math.round(resyncMs / 1000),
        testMode: Boolean(options.testMode),
        serverKind: sdk.serverKind,
      },
      functions: functions.map((fn) => fn.config),
      handlers: (await store.listApps()).map((record) => ({
        url: record.url,
        sdk: record.sdk,
        framework: record.framework,
        app_id: record.appId,
        functions: functions.filter((fn) => fn.appUrl === record.url).map((fn) => fn.config),
        synced_at: iso(record.syncedAt),
        error: record.error,
      })),
      isSingleNodeService: false,
      // Go reports these only when keys are required, which this server never insists on.
      isMissingSigningKey: false,
      isMissingEventKeys: false,
      features: {},
    });
  });

  // ------------------------------------------------------------------ REST API v1

  app.get("/v1/events", async (c) => {
    const events = await store.listEvents({
      name: c.req.query("name") || undefined,
      limit: limitQuery(c, DEFAULT_PAGE, MAX_PAGE),
      cursor: ulidQuery(c, "cursor"),
      receivedAfter: dateQuery(c, "received_after"),
      receivedBefore: dateQuery(c, "received_before"),
    });
    return c.json(v1Answer(events.map(eventJson)));
  });

  app.get("/v1/events/:id", async (c) => {
    const event = await store.getEvent(ulidParam(c, "event"));
    if (!event) throw new HttpError(404, `event ${c.req.param("id")} not found`);
    return c.json(v1Answer(eventJson(event)));
  });

  app.get("/v1/events/:id/runs", async (c) => {
    const id = ulidParam(c, "event");
    if (!(await store.getEvent(id))) throw new HttpError(404, `event ${id} not found`);
    const runs = await store.listRunsByEvent(id);
    return c.json(v1Answer(runs.map(runJson)));
  });

  app.get("/v1/runs", async (c) => {
    const runs = await store.listRuns({
      status: c.req.query("status") || undefined,
      functionSlug: c.req.query("function_id") || undefined,
      limit: limitQuery(c, DEFAULT_PAGE, MAX_PAGE),
      cursor: ulidQuery(c, "cursor"),
    });
    return c.json(v1Answer(runs.map(runJson)));
  });

  app.get("/v1/runs/:id", async (c) => c.json(v1Answer(runJson(await findRun(c)))));

  app.delete("/v1/runs/:id", async (c) => {
    const run = await executor.cancel(ulidParam(c, "run"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    return c.json(v1Answer(runJson(run)));
  });

  app.get("/v1/runs/:id/timeline", async (c) => {
    const run = await findRun(c);
    const entries = await store.timeline(run.runId);
    return c.json(
      v1Answer({
        run: runJson(run),
        steps: entries.map(timelineStepJson),
      }),
    );
  });

  app.get("/v1/runs/:id/jobs", async (c) => {
    const run = await findRun(c);
    return c.json(v1Answer(await store.queueOfRun(run.runId)));
  });

  app.get("/v1/apps/:appName/functions", async (c) => {
    const name = c.req.param("appName");
    const record = (await store.listApps()).find((candidate) => candidate.appId === name);
    if (!record) throw new HttpError(404, `app ${name} not found`);
    const functions = executor.functionList().filter((fn) => fn.appUrl === record.url);
    return c.json(
      v1Answer({
        ...appJson(record),
        functions: functions.map((fn) => ({ id: fn.slug, slug: fn.slug, name: fn.name })),
      }),
    );
  });

  async function findRun(c: Context): Promise<RunRecord> {
    const run = await store.getRun(ulidParam(c, "run"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    return run;
  }

  // ------------------------------------------------------------------ dev UI

  registerUiApi(app, {
    store,
    executor,
    clock,
    send: (text) => storeEvents(parseEvents(text), null),
  });
  registerUiAssets(app);

  // ------------------------------------------------------------------ test mode

  app.get("/test/clock", (c) =>
    c.json({ virtual: clock.virtual, now: new Date(clock.now()).toISOString() }),
  );

  app.post("/test/clock/advance", async (c) => {
    if (!clock.virtual)
      throw new HttpError(404, "the virtual clock is only there in test mode (--test-mode)");
    const body = (await c.req.json().catch(() => ({}))) as JsonObject;
    let to: number;
    if (typeof body.to === "string") to = Date.parse(body.to);
    else if (typeof body.ms === "number") to = clock.now() + body.ms;
    else throw new HttpError(400, 'give "ms" (a number of milliseconds) or "to" (an ISO date)');
    if (!Number.isFinite(to)) throw new HttpError(400, '"to" is not a date');
    await executor.advanceTo(to);
    return c.json({ now: new Date(clock.now()).toISOString() });
  });

  app.post("/test/reset", async (c) => {
    if (!clock.virtual) throw new HttpError(404, "reset is only there in test mode (--test-mode)");
    await executor.reset();
    seedIdsInTestMode.clear();
    return c.json({ ok: true });
  });

  app.post("/test/idle", async (c) => {
    await executor.idle();
    return c.json({ ok: true });
  });

  // ------------------------------------------------------------------ listen

  const server: ServerType = await new Promise((resolve, reject) => {
    const created = serve(
      { fetch: app.fetch, port: options.port ?? 8288, hostname: options.host ?? "127.0.0.1" },
      () => resolve(created),
    );
    created.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const origin = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;

  // Apps given on the command line: synced until reachable, then kept fresh.
  const firstSync = apps.keepSynced(options.sdkUrls ?? []);

  return {
    url: origin,
    port: address.port,
    executor,
    store,
    sync: (url) => apps.sync(url),
    firstSync,
    syncOutcomes: () => apps.outcomes(),
    async close() {
      apps.stop();
      executor.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apps.settled();
      await Promise.allSettled([...sendsBySeed.values()]);
      await executor.drain();
      await executor.idle().catch(() => {});
      await sql.close();
    },
  };
}

// -------------------------------------------------------------------- helpers

interface EventInput {
  name: string;
  data: JsonObject;
  id: string | null;
  ts: number | undefined;
  user: JsonObject;
  v: string | null;
}

/**
 * Checks a send body, one event or an array, and every event in it before any is stored: a bad
 * event rejects the whole send. Each problem names the event by its index, and the field.
 */
export function parseEvents(text: string): EventInput[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(body) ? body : [body];
  if (list.length > MAX_EVENTS_PER_REQUEST) {
    throw new HttpError(
      413,
      `${list.length} events in one request; at most ${MAX_EVENTS_PER_REQUEST} are allowed`,
    );
  }
  return list.map((raw, index) => {
    if (!isObject(raw))
      throw new HttpError(400, `event ${index} must be an object, got ${typeName(raw)}`);
    const event = raw as JsonObject;
    if (typeof event.name !== "string") {
      const got = event.name === undefined ? "no name" : `name ${typeName(event.name)}`;
      throw new HttpError(400, `event ${index}: "name" must be a non-empty string, got ${got}`);
    }
    if (event.name.trim() === "")
      throw new HttpError(400, `event ${index}: "name" must be a non-empty string, got ""`);
    const where = `event ${index} (${event.name})`;
    if (event.name.startsWith("inngest/"))
      throw new HttpError(400, `${where}: the "inngest/" prefix is reserved for internal events`);
    const optional = (field: string, ok: (value: unknown) => boolean, expected: string) => {
      const value = event[field];
      if (value !== undefined && value !== null && !ok(value))
        throw new HttpError(
          400,
          `${where}: "${field}" must be ${expected}, got ${typeName(value)}`,
        );
    };
    optional("data", isObject, "an object");
    optional("user", isObject, "an object");
    optional("id", (value) => typeof value === "string", "a string");
    optional("ts", (value) => typeof value === "number" && Number.isFinite(value), "a number");
    optional("v", (value) => typeof value === "string", "a string");
    const size = Buffer.byteLength(JSON.stringify(event));
    if (size > MAX_EVENT_BYTES) {
      throw new HttpError(
        413,
        `${where} is ${size} bytes, over the ${MAX_EVENT_BYTES} byte limit per event`,
      );
    }
    // As Go does: `_inngest` is the server's own metadata (invocations), never the sender's.
    const { _inngest: _, ...data } = (event.data as JsonObject | null) ?? {};
    return {
      name: event.name,
      data,
      id: (event.id as string | null | undefined) || null,
      ts: (event.ts as number | null | undefined) || undefined,
      user: (event.user as JsonObject | null) ?? {},
      v: (event.v as string | null | undefined) ?? null,
    };
  });
}
