import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { type Clock, realClock, VirtualClock } from "./clock";
import { type Executor, Executor as ExecutorImpl, type Logger, type RetryPolicy } from "./executor";
import { checkExpression } from "./expressions";
import { SdkClient } from "./sdk-client";
import { hashedSigningKey } from "./signing";
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

export interface DevServerOptions {
  port?: number;
  host?: string;
  /** App serve URLs to sync at start and keep synced (like `inngest-cli dev -u`). */
  sdkUrls?: string[];
  /** `postgres://...`, a PGlite folder, or `memory://`. Default: `.data/dev-server`. */
  storage?: string;
  signingKey?: string | undefined;
  eventKey?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** Test mode: a virtual clock that only moves on `POST /test/clock/advance`, and `/test/reset`. */
  testMode?: boolean;
  /** Virtual clock's start (test mode). */
  clockStart?: number;
  logger?: Logger;
  /** How often apps given with `sdkUrls` are re-synced (ms). */
  resyncIntervalMs?: number;
}

export interface DevServer {
  url: string;
  port: number;
  executor: Executor;
  store: Store;
  sync(url: string): Promise<AppRecord>;
  close(): Promise<void>;
}

const MAX_EVENT_BYTES = 512 * 1024;
const MAX_EVENTS_PER_REQUEST = 5000;
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

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

class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 413,
    message: string,
  ) {
    super(message);
  }
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const logger = options.logger ?? quietLogger;
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
  let origin = "";

  app.onError((error, c) => {
    if (error instanceof HttpError)
      return c.json({ error: error.message, status: error.status }, error.status);
    logger.error(`${c.req.method} ${c.req.path}: ${(error as Error).stack ?? error}`);
    return c.json({ error: "internal error", status: 500 }, 500);
  });

  // ------------------------------------------------------------------ events

  app.post("/e/:key", async (c) => {
    if (options.eventKey && c.req.param("key") !== options.eventKey) {
      return c.json({ ids: [], status: 401, error: "event key not found" }, 401);
    }
    const events = parseEvents(await readText(c.req.raw, MAX_REQUEST_BYTES)).map((input) =>
      executor.makeEvent(input),
    );
    await executor.ingest(events);
    return c.json({ ids: events.map((event) => event.internalId), status: 200 });
  });

  // ------------------------------------------------------------------ sync

  app.post("/fn/register", async (c) => {
    if (options.signingKey) {
      const expected = `Bearer ${hashedSigningKey(options.signingKey)}`;
      if (c.req.header("authorization") !== expected) {
        return c.json(
          { status: 401, error: "unauthorized: the app's signing key does not match" },
          401,
        );
      }
    }
    const body = (await c.req.json().catch(() => null)) as JsonObject | null;
    if (!body || typeof body.url !== "string" || !Array.isArray(body.functions)) {
      return c.json({ status: 400, error: "register body must have url and functions" }, 400);
    }
    const url = stripQuery(body.url);
    const result = await register(url, {
      appId: String(body.appName ?? ""),
      framework: (body.framework as string | undefined) ?? null,
      sdk: (body.sdk as string | undefined) ?? null,
      functions: body.functions as FunctionConfig[],
    });
    if (result.error) return c.json({ status: 400, error: result.error }, 400);
    return c.json({ ok: true, modified: true, app_id: result.app.appId, status: 200 });
  });

  async function register(
    url: string,
    config: {
      appId: string;
      framework: string | null;
      sdk: string | null;
      functions: FunctionConfig[];
    },
  ): Promise<{ app: AppRecord; error?: string }> {
    const problems = validateFunctions(config.functions);
    const app: AppRecord = {
      url,
      appId: config.appId || null,
      framework: config.framework,
      sdk: config.sdk,
      functionCount: config.functions.length,
      syncedAt: Date.now(),
      error: problems.length ? problems.join("; ") : null,
    };
    if (problems.length) {
      await store.saveApp(app, null);
      return { app, error: app.error ?? undefined };
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
    return { app };
  }

  async function sync(url: string): Promise<AppRecord> {
    const bare = stripQuery(url);
    try {
      const answer = await sdk.sync(bare);
      if (answer.kind === "in_band") {
        const { app, error } = await register(bare, answer);
        if (error) throw new Error(error);
        return app;
      }
      // Out of band: the app has POSTed /fn/register before answering; its answer says how it went.
      const body = answer.body as JsonObject | null;
      if (answer.status !== 200) {
        throw new Error(`the app answered ${answer.status}: ${JSON.stringify(body).slice(0, 500)}`);
      }
      const app = (await store.listApps()).find((candidate) => candidate.url === bare);
      if (!app) throw new Error(`the app answered ${JSON.stringify(body)} but did not register`);
      return app;
    } catch (error) {
      const message = (error as Error).message;
      await store.setAppError(bare, message);
      throw error;
    }
  }

  app.post("/api/apps/sync", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as JsonObject;
    const urls =
      typeof body.url === "string" ? [body.url] : (await store.listApps()).map((a) => a.url);
    const results = await Promise.all(
      urls.map(async (url) => {
        try {
          return { url, ok: true, app: await sync(url) };
        } catch (error) {
          return { url, ok: false, error: (error as Error).message };
        }
      }),
    );
    return c.json({ data: results });
  });

  app.get("/api/apps", async (c) => c.json({ data: await store.listApps() }));
  app.get("/api/functions", (c) =>
    c.json({
      data: executor.functionList().map((fn) => ({
        slug: fn.slug,
        name: fn.name,
        app_url: fn.appUrl,
        app_id: fn.appId,
        config: fn.config,
      })),
    }),
  );

  app.get("/dev", async (c) =>
    c.json({
      version: "inngest-frameworks-dev-server",
      startOpts: {
        sdkURLs: options.sdkUrls ?? [],
        autodiscover: false,
        testMode: Boolean(options.testMode),
      },
      functions: executor.functionList().map((fn) => fn.config),
      handlers: (await store.listApps()).map((a) => ({
        url: a.url,
        sdk: a.sdk,
        framework: a.framework,
        app_id: a.appId,
        error: a.error,
      })),
      isSingleNodeService: false,
      isMissingSigningKey: false,
      isMissingEventKeys: false,
      features: {},
    }),
  );

  // ------------------------------------------------------------------ REST API v1

  const wrap = (data: unknown) => ({
    data,
    metadata: { fetched_at: new Date().toISOString(), cached_until: null },
  });

  app.get("/v1/events", async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 50) || 50, 1), 1000);
    const after = c.req.query("received_after");
    const before = c.req.query("received_before");
    const events = await store.listEvents({
      name: c.req.query("name"),
      limit,
      cursor: c.req.query("cursor"),
      receivedAfter: after ? Date.parse(after) : undefined,
      receivedBefore: before ? Date.parse(before) : undefined,
    });
    return c.json(wrap(events.map(eventJson)));
  });

  app.get("/v1/events/:id", async (c) => {
    const event = await store.getEvent(c.req.param("id"));
    if (!event) throw new HttpError(404, `event ${c.req.param("id")} not found`);
    return c.json(wrap(eventJson(event)));
  });

  app.get("/v1/events/:id/runs", async (c) => {
    const runs = await store.listRunsByEvent(c.req.param("id"));
    return c.json(wrap(runs.map(runJson)));
  });

  app.get("/v1/runs", async (c) => {
    const runs = await store.listRuns({
      status: c.req.query("status"),
      functionSlug: c.req.query("function_id"),
      limit: Math.min(Number(c.req.query("limit") ?? 50) || 50, 1000),
      cursor: c.req.query("cursor"),
    });
    return c.json(wrap(runs.map(runJson)));
  });

  app.get("/v1/runs/:id", async (c) => {
    const run = await store.getRun(c.req.param("id"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    return c.json(wrap(runJson(run)));
  });

  app.delete("/v1/runs/:id", async (c) => {
    const run = await executor.cancel(c.req.param("id"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    return c.json(wrap(runJson(run)));
  });

  app.get("/v1/runs/:id/timeline", async (c) => {
    const run = await store.getRun(c.req.param("id"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    const entries = await store.timeline(run.runId);
    return c.json(
      wrap({
        run: runJson(run),
        steps: entries.map((entry) => ({
          seq: entry.seq,
          step_id: entry.stepId,
          name: entry.name,
          op: entry.op,
          attempt: entry.attempt,
          started_at: new Date(entry.startedAt).toISOString(),
          ended_at: entry.endedAt === null ? null : new Date(entry.endedAt).toISOString(),
          duration_ms: entry.endedAt === null ? null : entry.endedAt - entry.startedAt,
          output: entry.output,
          error: entry.error,
        })),
      }),
    );
  });

  app.get("/v1/runs/:id/jobs", async (c) =>
    c.json(wrap(await store.queueOfRun(c.req.param("id")))),
  );

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
    return c.json({ ok: true });
  });

  app.post("/test/idle", async (c) => {
    await executor.idle();
    return c.json({ ok: true });
  });

  // ------------------------------------------------------------------ listen

  const server: ServerType = await new Promise((resolve) => {
    const created = serve(
      { fetch: app.fetch, port: options.port ?? 8288, hostname: options.host ?? "127.0.0.1" },
      () => resolve(created),
    );
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;

  // Apps given on the command line: sync until reachable, then keep them fresh.
  const timers: NodeJS.Timeout[] = [];
  for (const url of options.sdkUrls ?? []) {
    let delay = 250;
    const attempt = async () => {
      try {
        await sync(url);
        if (delay < (options.resyncIntervalMs ?? 15_000)) logger.info(`synced ${url}`);
        delay = options.resyncIntervalMs ?? 15_000;
      } catch (error) {
        delay = Math.min(delay * 2, 5000);
        logger.warn(`could not sync ${url} (${(error as Error).message}); retrying`);
      }
      timers.push(setTimeout(attempt, delay));
    };
    void attempt();
  }

  return {
    url: origin,
    port: address.port,
    executor,
    store,
    sync,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      executor.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await executor.idle().catch(() => {});
      await sql.close();
    },
  };
}

// -------------------------------------------------------------------- helpers

async function readText(request: Request, limit: number): Promise<string> {
  const length = Number(request.headers.get("content-length"));
  if (length > limit)
    throw new HttpError(413, `request body is ${length} bytes, over the ${limit} byte limit`);
  const text = await request.text();
  if (text.length > limit) throw new HttpError(413, `request body is over the ${limit} byte limit`);
  return text;
}

interface EventInput {
  name: string;
  data: JsonObject;
  id: string | null;
  ts: number | undefined;
  user: JsonObject;
  v: string | null;
}

/** Checks a send body: one event or an array; every problem names the event (by index) and field. */
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
    const where = Array.isArray(body) ? `event ${index}` : "event";
    if (!raw || typeof raw !== "object" || Array.isArray(raw))
      throw new HttpError(400, `${where} must be an object`);
    const event = raw as JsonObject;
    if (typeof event.name !== "string" || event.name.trim() === "") {
      throw new HttpError(400, `${where}: "name" must be a non-empty string`);
    }
    if (
      event.data !== undefined &&
      event.data !== null &&
      (typeof event.data !== "object" || Array.isArray(event.data))
    ) {
      throw new HttpError(400, `${where} (${event.name}): "data" must be an object`);
    }
    if (event.id !== undefined && event.id !== null && typeof event.id !== "string") {
      throw new HttpError(400, `${where} (${event.name}): "id" must be a string`);
    }
    if (event.ts !== undefined && event.ts !== null && typeof event.ts !== "number") {
      throw new HttpError(400, `${where} (${event.name}): "ts" must be a number of milliseconds`);
    }
    const size = Buffer.byteLength(JSON.stringify(event));
    if (size > MAX_EVENT_BYTES) {
      throw new HttpError(
        413,
        `${where} (${event.name}) is ${size} bytes, over the ${MAX_EVENT_BYTES} byte limit`,
      );
    }
    const { _inngest: _, ...data } = (event.data as JsonObject | null) ?? {};
    return {
      name: event.name,
      data,
      id: (event.id as string | null | undefined) || null,
      ts: (event.ts as number | null | undefined) ?? undefined,
      user: (event.user as JsonObject | undefined) ?? {},
      v: typeof event.v === "string" ? event.v : null,
    };
  });
}

/** Problems with registered functions that would make them misbehave, named by function and option. */
export function validateFunctions(functions: FunctionConfig[]): string[] {
  const problems: string[] = [];
  for (const fn of functions) {
    if (!fn || typeof fn.id !== "string") {
      problems.push("a function has no id");
      continue;
    }
    if (!fn.steps?.step?.runtime?.url)
      problems.push(`function ${fn.id}: steps.step.runtime.url is missing`);
    for (const [index, trigger] of (fn.triggers ?? []).entries()) {
      if (trigger.expression) {
        const problem = checkExpression(trigger.expression);
        if (problem) problems.push(`function ${fn.id}: triggers[${index}].expression: ${problem}`);
      }
    }
    for (const [index, cancel] of (fn.cancel ?? []).entries()) {
      if (cancel.if) {
        const problem = checkExpression(cancel.if);
        if (problem) problems.push(`function ${fn.id}: cancel[${index}].if: ${problem}`);
      }
    }
  }
  return problems;
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

function eventJson(event: StoredEvent) {
  return {
    internal_id: event.internalId,
    id: event.id ?? "",
    name: event.name,
    data: event.data,
    user: event.user,
    ts: event.ts,
    v: event.v ?? "",
    received_at: new Date(event.receivedAt).toISOString(),
  };
}

function runJson(run: RunRecord) {
  return {
    run_id: run.runId,
    run_started_at: new Date(run.startedAt).toISOString(),
    function_id: run.functionSlug,
    function_version: 1,
    event_id: run.eventId,
    ...(run.eventIds.length > 1 ? { batch_id: run.runId } : {}),
    ...(run.cron ? { cron: run.cron } : {}),
    status: run.status,
    ended_at: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
    output: run.output ?? null,
  };
}
