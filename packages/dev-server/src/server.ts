import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { type Context, Hono } from "hono";
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
import {
  appJson,
  eventJson,
  functionJson,
  iso,
  outcomeJson,
  runJson,
  timelineStepJson,
  v1Answer,
} from "./http/wire";
import { AppUnreachableError, SdkClient } from "./sdk-client";
import { canonicalJson, hashedSigningKey, signingKeyProblem } from "./signing";
import { openPglite, openPostgres, type SqlClient } from "./store/sql";
import { Store } from "./store/store";
import type {
  AppRecord,
  FunctionConfig,
  FunctionRecord,
  JsonObject,
  RunRecord,
  StoredEvent,
} from "./types";
import { registerUiApi } from "./ui-api";
import { registerUiAssets } from "./ui-assets";

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

/** How one sync of an app went. */
export interface SyncOutcome {
  url: string;
  ok: boolean;
  app?: AppRecord;
  error?: string;
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
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
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

  const app = new Hono();
  let closed = false;
  /** Aborts syncs still waiting on an app when the server closes. */
  const closing = new AbortController();

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

  /** Checksum of each app's last good registration: an unchanged re-sync changes nothing. */
  const registeredChecksums = new Map<string, string>();
  /** Recent out-of-band registrations: how a sync's PUT learns that its app did register. */
  const registrations: { url: string; at: number }[] = [];

  app.post("/fn/register", async (c) => {
    if (sdk.secure) {
      const expected = `Bearer ${hashedSigningKey(options.signingKey as string)}`;
      if (c.req.header("authorization") !== expected) {
        return c.json(
          {
            status: 401,
            error:
              "unauthorized: the app's signing key does not match the server's (the Bearer token " +
              "must be the hash of INNGEST_SIGNING_KEY)",
          },
          401,
        );
      }
    }
    // As Go does: an app synced by another kind of server (dev vs cloud) must not register here.
    const expectedKind = c.req.header("x-inngest-expected-server-kind");
    if (expectedKind && expectedKind !== sdk.serverKind) {
      const error = `Expected server kind ${sdk.serverKind}, got ${expectedKind}`;
      return c.json({ status: 400, error }, 400);
    }
    const body = (await c.req.json().catch(() => null)) as JsonObject | null;
    if (!body || typeof body.url !== "string" || !Array.isArray(body.functions)) {
      return c.json(
        { status: 400, error: "the register body must be JSON with url and functions" },
        400,
      );
    }
    const url = stripQuery(body.url);
    const result = await register(url, {
      appId: String(body.appName ?? ""),
      framework: (body.framework as string | undefined) ?? null,
      sdk: (body.sdk as string | undefined) ?? null,
      functions: body.functions as FunctionConfig[],
    });
    registrations.push({ url, at: Date.now() });
    if (registrations.length > 100) registrations.shift();
    // `status` in the body is what the SDK answers its PUT with (protocol notes §5.2).
    if (result.error) return c.json({ status: 400, error: result.error }, 400);
    return c.json({
      ok: true,
      modified: result.modified,
      app_id: result.app.appId,
      status: 200,
    });
  });

  async function register(
    url: string,
    config: {
      appId: string;
      framework: string | null;
      sdk: string | null;
      functions: FunctionConfig[];
    },
  ): Promise<{ app: AppRecord; modified: boolean; error?: string }> {
    const registered = executor.functionList().filter((fn) => fn.appUrl === url);
    const problems = validateFunctions(config.functions);
    if (problems.length) {
      // The functions of the last good sync stay: a broken deploy does not unregister them.
      const app: AppRecord = {
        url,
        appId: config.appId || null,
        framework: config.framework,
        sdk: config.sdk,
        functionCount: registered.length,
        syncedAt: Date.now(),
        error: `invalid function config: ${problems.join("; ")}`,
      };
      await store.saveApp(app, null);
      registeredChecksums.delete(url);
      return { app, modified: false, error: app.error ?? undefined };
    }
    const app: AppRecord = {
      url,
      appId: config.appId || null,
      framework: config.framework,
      sdk: config.sdk,
      functionCount: config.functions.length,
      syncedAt: Date.now(),
      error: null,
    };
    const checksum = createHash("sha256").update(canonicalJson(config)).digest("hex");
    if (registeredChecksums.get(url) === checksum) {
      await store.saveApp(app, null);
      return { app, modified: false };
    }
    const functions: FunctionRecord[] = config.functions.map((fn) => ({
      slug: fn.id,
      appUrl: url,
      appId: config.appId,
      name: fn.name ?? fn.id,
      config: fn,
    }));
    await store.saveApp(app, functions);
    await executor.setAppFunctions(url, functions);
    registeredChecksums.set(url, checksum);
    return { app, modified: true };
  }

  const syncsInFlight = new Set<Promise<unknown>>();

  function sync(url: string): Promise<AppRecord> {
    const work = syncOnce(url);
    syncsInFlight.add(work);
    const forget = () => syncsInFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  async function syncOnce(url: string): Promise<AppRecord> {
    const bare = stripQuery(url);
    const startedAt = Date.now();
    try {
      const answer = await sdk.sync(bare, closing.signal);
      if (answer.kind === "in_band") {
        const { app, error } = await register(bare, answer);
        if (error) throw new Error(error);
        return app;
      }
      // Out of band: the app has POSTed /fn/register before answering; its answer says how it went.
      if (answer.status !== 200) {
        const body = answer.body as JsonObject | string | null;
        const said =
          typeof body === "object" && body && typeof body.message === "string"
            ? body.message
            : preview(body);
        throw new Error(
          answer.fromSdk
            ? `the app answered ${answer.status} to PUT ${bare}: ${said}`
            : `PUT ${bare} answered ${answer.status} without the Inngest SDK (no x-inngest-sdk ` +
                `header): is this the app's serve URL, e.g. /api/inngest? It answered: ${said}`,
        );
      }
      // The app registers under the URL it sees itself at, which is usually ours for it.
      const during = registrations.filter((registration) => registration.at >= startedAt);
      const registered =
        during.find((registration) => registration.url === bare) ??
        (during.length === 1 ? during[0] : undefined);
      const synced = registered
        ? (await store.listApps()).find((candidate) => candidate.url === registered.url)
        : undefined;
      if (!synced) {
        throw new Error(
          `the app answered ${preview(answer.body)} but did not register: is its INNGEST_BASE_URL ` +
            "(or INNGEST_DEV) this server?",
        );
      }
      return synced;
    } catch (error) {
      const reason = (error as Error).message;
      const message =
        error instanceof AppUnreachableError && error.name === "AppUnreachableError"
          ? `could not reach the app: ${reason}`
          : reason;
      if (!closed) await store.setAppError(bare, message).catch(() => {});
      throw new Error(message);
    }
  }

  app.post("/api/apps/sync", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as JsonObject;
    if (body.url !== undefined && typeof body.url !== "string")
      throw new HttpError(400, '"url" must be an app serve URL');
    const urls =
      typeof body.url === "string" ? [body.url] : (await store.listApps()).map((a) => a.url);
    const results = await Promise.all(urls.map(syncOutcome));
    return c.json({ data: results.map(outcomeJson) });
  });

  async function syncOutcome(url: string): Promise<SyncOutcome> {
    try {
      return { url, ok: true, app: await sync(url) };
    } catch (error) {
      return { url, ok: false, error: (error as Error).message };
    }
  }

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
        pollInterval: Math.round((options.resyncIntervalMs ?? DEFAULT_RESYNC_MS) / 1000),
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
  const resyncMs = options.resyncIntervalMs ?? DEFAULT_RESYNC_MS;
  const syncTimers = new Map<string, NodeJS.Timeout>();
  const latestOutcomes = new Map<string, SyncOutcome>();
  const firstSync = Promise.all((options.sdkUrls ?? []).map((url) => keepSynced(url)));

  /** Resolves with the first attempt's outcome; later attempts go on until the server closes. */
  function keepSynced(url: string): Promise<SyncOutcome> {
    return new Promise((resolveFirst) => {
      let first = true;
      let delay = FIRST_RETRY_MS;
      let lastError: string | null = null;
      let synced = false;
      const attempt = async () => {
        if (closed) return resolveFirst({ url, ok: false, error: "the server closed" });
        const outcome = await syncOutcome(url);
        latestOutcomes.set(url, outcome);
        // Logged when it changes, not on every attempt; the first outcome is `firstSync`'s to
        // report (the CLI's banner says it).
        if (outcome.ok) {
          if (!synced && !first) logger.info(`synced ${url}: ${functionCountText(outcome.app)}`);
          synced = true;
          lastError = null;
          delay = resyncMs;
        } else {
          if (outcome.error !== lastError && !first && !closed)
            logger.warn(`could not sync ${url}: ${outcome.error}; retrying`);
          synced = false;
          lastError = outcome.error ?? null;
          delay = Math.min(delay * 2, Math.max(FIRST_RETRY_MS, Math.min(MAX_RETRY_MS, resyncMs)));
        }
        if (first) {
          first = false;
          resolveFirst(outcome);
        }
        if (!closed) syncTimers.set(url, setTimeout(attempt, delay));
      };
      void attempt();
    });
  }

  return {
    url: origin,
    port: address.port,
    executor,
    store,
    sync,
    firstSync,
    syncOutcomes: () => [...latestOutcomes.values()],
    async close() {
      closed = true;
      closing.abort();
      for (const timer of syncTimers.values()) clearTimeout(timer);
      executor.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...syncsInFlight]);
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

function stripQuery(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = "";
    parsed.hash = "";
    return parsed.toString();
  } catch {
    return url;
  }
}

function preview(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const flat = (text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat || "(empty body)";
}

/** "1 function", "3 functions". */
export function functionCountText(app: AppRecord | undefined): string {
  const count = app?.functionCount ?? 0;
  return `${count} function${count === 1 ? "" : "s"}`;
}
