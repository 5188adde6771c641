import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** An event as the SDK sends it to the event API. */
export interface SentEvent {
  name: string;
  data: Record<string, unknown>;
  ts?: number;
  id?: string;
}

/**
 * The public interfaces of an Inngest server that the apps' code talks to, faked as the real
 * server answers them: the event API (`POST /e/:key`, as the SDK sends in dev mode, answered
 * `{"ids": [...], "status": 200}`) and the REST API's `GET /v1/events/:id/runs` (from
 * `runsByEvent`), `GET /v1/runs/:id` (from `runsById`) and `GET /v1/apps/:app/functions` (from
 * `functionsByApp`: a bare array, `[]` for an unknown app). For tests of code that sends events or
 * reads runs, without a dev server; the dev server's own suites drive the real one.
 *
 * Two habits of the real server can be switched on: `errorsAs200` (its response cache answers a
 * failed GET with HTTP 200 and `{error, status}` as the body) and `caching` (it caches GETs by their
 * whole URL, query string included: an event's runs for 15 s, an event for 5 s, a run for 3 s).
 */
export interface FakeInngest {
  url: string;
  /** Events accepted (answered 200), in order. */
  events: SentEvent[];
  /** The ids answered, in order. */
  answeredIds: string[];
  /** Every request that reached the event API, accepted or not. */
  requests: number;
  /** While true, the event API answers 500 to every send. */
  failing: boolean;
  runsByEvent: Map<string, unknown[]>;
  /** `GET /v1/runs/:id`; an unknown run is a 500, as Inngest answers it. */
  runsById: Map<string, unknown>;
  /** `GET /v1/apps/:app/functions`, answered as a bare array. */
  functionsByApp: Map<string, unknown[]>;
  /** While set, the REST API answers with this status. */
  restStatus: number | null;
  /** As Inngest's response cache: a failed GET answered 200, with `{error, status}` as its body. */
  errorsAs200: boolean;
  /** As Inngest's response cache: GETs cached by URL (15 s / 5 s / 3 s), until `reset()`. */
  caching: boolean;
  /** The Authorization header of each REST request, in order. */
  restAuthorizations: (string | undefined)[];
  /** The path and query of each REST request, in order. */
  restRequests: string[];
  /** Empties what was recorded (events, ids, request counts, the cache) and restores the
   * defaults; keeps `runsByEvent`, `runsById` and `functionsByApp`. */
  reset(): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** How long Inngest's REST API v1 caches a GET of each route, in seconds. */
const CACHED_ROUTES: [RegExp, number][] = [
  [/^\/v1\/events\/[^/]+\/runs$/, 15],
  [/^\/v1\/events\/[^/]+$/, 5],
  [/^\/v1\/runs\/[^/]+$/, 3],
];

export async function startFakeInngest(options: { failing?: boolean } = {}): Promise<FakeInngest> {
  let counter = 0;
  const cache = new Map<string, { body: string; until: number }>();
  const server = createServer(async (request, response) => {
    const send = (status: number, text: string) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(text);
    };
    const reply = (status: number, body: unknown) => send(status, JSON.stringify(body));
    const url = new URL(request.url ?? "/", "http://fake");
    if (request.method === "POST" && url.pathname.startsWith("/e/")) {
      fake.requests += 1;
      let sent: SentEvent[];
      try {
        const body = JSON.parse(await readBody(request)) as SentEvent | SentEvent[];
        sent = Array.isArray(body) ? body : [body];
      } catch (error) {
        return reply(400, { error: String(error), status: 400 });
      }
      if (fake.failing) return reply(500, { error: "event API unavailable", status: 500 });
      const ids = sent.map(() => `01FAKEEVENT${String(++counter).padStart(15, "0")}`);
      fake.events.push(...sent);
      fake.answeredIds.push(...ids);
      return reply(200, { ids, status: 200 });
    }
    if (request.method === "GET" && url.pathname.startsWith("/v1/")) {
      fake.restAuthorizations.push(request.headers.authorization);
      fake.restRequests.push(`${url.pathname}${url.search}`);
      const key = `${url.pathname}${url.search} ${request.headers.authorization ?? ""}`;
      const hit = fake.caching ? cache.get(key) : undefined;
      if (hit && hit.until > Date.now()) return send(200, hit.body);
      const [status, body] = restAnswer(url.pathname);
      const text = JSON.stringify(
        status >= 400
          ? { error: String((body as { error?: unknown }).error), data: null, status }
          : body,
      );
      const seconds = CACHED_ROUTES.find(([route]) => route.test(url.pathname))?.[1];
      if (fake.caching && seconds && status < 400)
        cache.set(key, { body: text, until: Date.now() + seconds * 1000 });
      return send(fake.errorsAs200 ? 200 : status, text);
    }
    reply(404, { error: `no route ${request.method} ${url.pathname}`, status: 404 });
  });

  function restAnswer(path: string): [number, unknown] {
    const wrap = (data: unknown) => ({ data, metadata: { fetched_at: new Date().toISOString() } });
    if (fake.restStatus) return [fake.restStatus, { error: "fake failure" }];
    const eventRuns = /^\/v1\/events\/([^/]+)\/runs$/.exec(path);
    if (eventRuns) {
      const data = fake.runsByEvent.get(eventRuns[1] ?? "");
      return data ? [200, wrap(data)] : [404, { error: "event not found" }];
    }
    const run = /^\/v1\/runs\/([^/]+)$/.exec(path);
    if (run) {
      const data = fake.runsById.get(run[1] ?? "");
      return data ? [200, wrap(data)] : [500, { error: `Unable to load function run: ${run[1]}` }];
    }
    const functions = /^\/v1\/apps\/([^/]+)\/functions$/.exec(path);
    if (functions)
      return [200, fake.functionsByApp.get(decodeURIComponent(functions[1] ?? "")) ?? []];
    return [404, { error: `no route GET ${path}` }];
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fake: FakeInngest = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events: [],
    answeredIds: [],
    requests: 0,
    failing: options.failing ?? false,
    runsByEvent: new Map(),
    runsById: new Map(),
    functionsByApp: new Map(),
    restStatus: null,
    errorsAs200: false,
    caching: false,
    restAuthorizations: [],
    restRequests: [],
    reset() {
      fake.events.length = 0;
      fake.answeredIds.length = 0;
      fake.restAuthorizations.length = 0;
      fake.restRequests.length = 0;
      fake.requests = 0;
      fake.restStatus = null;
      fake.errorsAs200 = false;
      fake.caching = false;
      cache.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}

/** A run as the REST API answers it, for `runsByEvent` and `runsById`. */
export function restRun(
  functionId: string,
  status = "Completed",
  output: unknown = null,
  runId = `run-${functionId}`,
) {
  return {
    run_id: runId,
    function_id: functionId,
    status,
    event_id: "01EVENT",
    ended_at: status === "Running" ? null : new Date().toISOString(),
    output,
  };
}

/** An app's function as `GET /v1/apps/:app/functions` lists it, for `functionsByApp`. */
export function restFunction(slug: string, internalId: string, appInternalId = NIL_APP) {
  return {
    internal_id: internalId,
    env_id: "00000000-0000-0000-0000-000000000000",
    app_id: appInternalId,
    id: slug,
    name: slug,
    config: { id: slug, name: slug },
    created_at: new Date().toISOString(),
    archived_at: "0001-01-01T00:00:00Z",
  };
}

const NIL_APP = "00000000-0000-0000-0000-000000000000";
