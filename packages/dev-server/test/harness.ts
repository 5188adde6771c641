import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { DatabaseDriver } from "@repo/db";
import { createTestDatabase } from "@repo/db/testing";
import type { EventJson, JobJson, RunJson, TimelineStep } from "@repo/test-utils";
import { createRestClient, DEADLINE_MS, freePort, waitFor } from "@repo/test-utils";
import { Inngest, type InngestFunction } from "inngest";
import { serve } from "inngest/node";
import { type DevServer, type DevServerOptions, startDevServer } from "../src";

export type { EventJson, JobJson, RunJson, TimelineStep };

export { DEADLINE_MS };

/**
 * The server mode every suite runs in: `DEV_SERVER_MODE=classic` (no checkpointing: one step per
 * call) or `checkpointing` (the default, as the server's). `pnpm test` runs the suites in both.
 */
export const MODE: "classic" | "checkpointing" =
  process.env.DEV_SERVER_MODE === "classic" ? "classic" : "checkpointing";
export const CHECKPOINTING = MODE === "checkpointing";

/** What a test expects in each mode (a call count, say), stated for both. */
export function perMode<T>(expected: { classic: T; checkpointing: T }): T {
  return expected[MODE];
}

/**
 * A real SDK app (inngest/node's serve handler on node:http, port 0) synced with a dev server of
 * the test's own (PGlite in memory unless `storage` says otherwise).
 *
 * The app's HTTP server records every call request it gets (which function, which step, which
 * attempt, the answer's status) before the unmodified SDK handler answers it, so tests can assert
 * how the dev server drove a run, not only how it ended. It can also be stopped and started again
 * on the same port, or made to answer like a broken proxy, to test how runs survive a missing app.
 */
export interface Harness {
  server: DevServer;
  inngest: Inngest.Any;
  appUrl: string;
  close(): Promise<void>;
  /** POSTs events to /e/ and returns their internal ids. */
  send(events: { name: string; data?: Record<string, unknown>; id?: string }[]): Promise<string[]>;
  runsOf(eventId: string): Promise<RunJson[]>;
  run(runId: string): Promise<RunJson>;
  timeline(runId: string): Promise<TimelineStep[]>;
  /** Polls until the event's runs (at least `count`) have all ended; returns them. */
  waitForRuns(
    eventId: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<RunJson[]>;
  advance(ms: number): Promise<void>;

  /** Every call request the app received, in arrival order. */
  calls: RecordedCall[];
  /** Every checkpoint the app's SDK posted (through the harness's API proxy), in arrival order. */
  checkpoints: RecordedCheckpoint[];
  callsOf(runId: string): RecordedCall[];
  /** GET of a REST path (`/v1/...`), unwrapped from `{data}`; throws on a non-2xx answer. */
  api<T>(path: string, init?: RequestInit): Promise<T>;
  /** Polls `probe` until it returns something other than undefined/false. */
  waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs?: number,
  ): Promise<T>;
  /** The single run of an event, once the dev server has created it (it may still be running). */
  runOf(eventId: string): Promise<RunJson>;
  /** Polls until the run has ended. */
  waitForEnd(runId: string, timeoutMs?: number): Promise<RunJson>;
  /** Polls until the run's timeline has an entry for which `match` holds; returns the timeline. */
  waitForStep(runId: string, match: (step: TimelineStep) => boolean): Promise<TimelineStep[]>;
  /** Resolves once the dev server has nothing due and nothing in flight. */
  idle(): Promise<void>;
  /** Stored events with this name, newest first. */
  events(name: string): Promise<EventJson[]>;
  /** Runs of one function (by slug), newest first. */
  runsOfFunction(slug: string): Promise<RunJson[]>;
  /**
   * The internal id (a UUID) of the app's function with this slug: what its runs' `function_id`
   * is, read from `GET /v1/apps/:app/functions` as a client of Inngest would.
   */
  functionId(slug: string): Promise<string>;
  /** The run's queued jobs. */
  jobs(runId: string): Promise<JobJson[]>;
  /** DELETE /v1/runs/:id. */
  cancel(runId: string): Promise<RunJson>;
  /** POST /test/reset. */
  reset(): Promise<void>;
  /** The virtual clock's time (ms). */
  now(): Promise<number>;
  /** Moves the virtual clock to an absolute time. */
  advanceTo(at: number | string): Promise<void>;
  /** Closes the app's HTTP server: calls are refused until `startApp`. */
  stopApp(): Promise<void>;
  /** Listens again on the app's port. */
  startApp(): Promise<void>;
  /** While set, the app answers with this status and a plain-text body, without the SDK. */
  breakApp(status: number | null): void;
}

export interface RecordedCall {
  fnId: string;
  /** `step` for discovery, else the hashed id of the planned step. */
  stepId: string;
  runId: string;
  attempt: number;
  maxAttempts: number;
  disableImmediateExecution: boolean;
  /** The memoized step ids sent, in stack order. */
  stack: string[];
  /** The memoized values sent, by hashed step id. */
  steps: Record<string, unknown>;
  /** `ctx.fn_id` and `ctx.qi_id`: sent only when the server checkpoints. */
  fnIdSent: string | null;
  qiId: string | null;
  /** The answer's status, once sent; null while the call is in flight. */
  status: number | null;
  /** The answer's body, once sent. */
  body: string | null;
}

export interface RecordedCheckpoint {
  runId: string;
  qiId: string;
  /** Hashed ids of the steps it carried. */
  stepIds: string[];
  /** What the server answered (the SDK may have been told otherwise, see `checkpointApi`). */
  status: number;
}
export interface HarnessOptions extends DevServerOptions {
  /**
   * The dev server's storage when `storage` is not given: PGlite in memory (the default), or a
   * fresh PostgreSQL database of its own, dropped on close.
   */
  driver?: DatabaseDriver;
  /**
   * The app's SDK reaches the server's API through a proxy of the harness, which records every
   * checkpoint. `fail`: checkpoints answer 500 without reaching the server; `lose-answer`: they
   * reach it, but the SDK is answered 500 (as if the answer were lost), so it retries and falls back.
   */
  checkpointApi?: "pass" | "fail" | "lose-answer";
}

export async function startHarness(
  appId: string,
  makeFunctions: (inngest: Inngest.Any) => InngestFunction.Any[],
  { driver = "pglite", checkpointApi = "pass", ...options }: HarnessOptions = {},
): Promise<Harness> {
  const database =
    driver === "postgres" && !options.storage
      ? await createTestDatabase("postgres", { migrated: false })
      : undefined;
  const server = await startDevServer({
    port: 0,
    storage: database?.url ?? "memory://",
    retry: { baseMs: 10, maxMs: 100 },
    checkpointing: CHECKPOINTING,
    ...options,
  });
  const checkpoints: RecordedCheckpoint[] = [];
  const apiProxy = await startApiProxy(server.url, checkpoints, () => checkpointApi);
  const inngest = new Inngest({ id: appId, isDev: true, baseUrl: apiProxy.url });
  const handler = serve({ client: inngest, functions: makeFunctions(inngest) });
  const calls: RecordedCall[] = [];
  let brokenStatus: number | null = null;

  const app: Server = createServer((request, response) => {
    void answer(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (brokenStatus !== null) {
      request.resume();
      response.writeHead(brokenStatus, { "content-type": "text/plain" }).end("upstream is down");
      return;
    }
    if (request.method !== "POST") return void handler(request, response);
    // The body is read here to record the call, then replayed to the SDK handler unchanged.
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(request.url ?? "/", "http://app");
    const parsed = JSON.parse(body.toString() || "{}") as {
      ctx?: {
        run_id?: string;
        fn_id?: string;
        qi_id?: string;
        attempt?: number;
        max_attempts?: number;
        disable_immediate_execution?: boolean;
        stack?: { stack?: string[] };
      };
      steps?: Record<string, unknown>;
    };
    const call: RecordedCall = {
      fnId: url.searchParams.get("fnId") ?? "",
      stepId: url.searchParams.get("stepId") ?? "step",
      runId: parsed.ctx?.run_id ?? "",
      attempt: parsed.ctx?.attempt ?? 0,
      maxAttempts: parsed.ctx?.max_attempts ?? 0,
      disableImmediateExecution: parsed.ctx?.disable_immediate_execution ?? false,
      stack: parsed.ctx?.stack?.stack ?? [],
      steps: parsed.steps ?? {},
      fnIdSent: parsed.ctx?.fn_id ?? null,
      qiId: parsed.ctx?.qi_id ?? null,
      status: null,
      body: null,
    };
    calls.push(call);
    const chunksOut: Buffer[] = [];
    const write = response.write.bind(response);
    const end = response.end.bind(response);
    response.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk) chunksOut.push(Buffer.from(chunk as string));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof response.write;
    response.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk && typeof chunk !== "function") chunksOut.push(Buffer.from(chunk as string));
      return (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as typeof response.end;
    response.on("finish", () => {
      call.status = response.statusCode;
      call.body = Buffer.concat(chunksOut).toString();
    });
    const replay = Object.assign(Readable.from([body]), {
      headers: request.headers,
      method: request.method,
      url: request.url,
      socket: request.socket,
    });
    await handler(replay as unknown as IncomingMessage, response);
  }

  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  const appPort = (app.address() as AddressInfo).port;
  const appUrl = `http://127.0.0.1:${appPort}/api/inngest`;
  await server.sync(appUrl);

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${server.url}${path}`, init);
    const body = (await response.json()) as { data: T };
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
    return body.data;
  };
  const rest = createRestClient(server.url);
  const stopApp = async () => {
    if (!app.listening) return;
    const closed = new Promise<void>((resolve) => app.close(() => resolve()));
    app.closeAllConnections();
    await closed;
  };

  const harness: Harness = {
    server,
    inngest,
    appUrl,
    calls,
    checkpoints,
    async close() {
      await stopApp();
      await apiProxy.close();
      await server.close();
      await database?.dispose();
    },
    send: (events) => rest.send(events),
    runsOf: (eventId) => rest.eventRuns(eventId),
    run: (runId) => rest.run(runId),
    async timeline(runId) {
      return (await rest.timeline(runId)).steps;
    },
    async waitForRuns(eventId, { count = 1, timeoutMs = DEADLINE_MS } = {}) {
      return harness.waitFor(
        `${count} ended run(s) of event ${eventId}`,
        async () => {
          const runs = await harness.runsOf(eventId);
          return runs.length >= count && runs.every((run) => run.status !== "Running") && runs;
        },
        timeoutMs,
      );
    },
    async advance(ms) {
      await rest.test.advance(ms);
    },
    callsOf: (runId) => calls.filter((call) => call.runId === runId),
    api,
    waitFor: (what, probe, timeoutMs = DEADLINE_MS) => waitFor(what, probe, timeoutMs),
    runOf: (eventId) =>
      harness.waitFor(
        `the run of event ${eventId}`,
        async () => (await harness.runsOf(eventId))[0],
      ),
    waitForEnd: (runId, timeoutMs) =>
      harness.waitFor(
        `run ${runId} to end`,
        async () => {
          const run = await harness.run(runId);
          return run.status !== "Running" && run;
        },
        timeoutMs,
      ),
    waitForStep: (runId, match) =>
      harness.waitFor(`a matching timeline entry of run ${runId}`, async () => {
        const steps = await harness.timeline(runId);
        return steps.some(match) && steps;
      }),
    async idle() {
      await rest.test.idle();
    },
    events: (name) => rest.events({ name }),
    runsOfFunction: (slug) => rest.runs({ functionId: slug }),
    async functionId(slug) {
      const id = (await rest.functionIds(appId)).get(slug);
      if (!id) throw new Error(`the dev server lists no function ${slug} of app ${appId}`);
      return id;
    },
    jobs: (runId) => rest.jobs(runId),
    cancel: (runId) => rest.cancelRun(runId),
    async reset() {
      await rest.test.reset();
    },
    async now() {
      return (await rest.test.now()).getTime();
    },
    async advanceTo(at) {
      await rest.test.advanceTo(at);
    },
    stopApp,
    async startApp() {
      if (app.listening) return;
      await new Promise<void>((resolve, reject) => {
        app.once("error", reject);
        app.listen(appPort, "127.0.0.1", () => {
          app.off("error", reject);
          resolve();
        });
      });
    },
    breakApp(status) {
      brokenStatus = status;
    },
  };
  return harness;
}

/**
 * What the app's SDK calls on the server (checkpoints, sends), passed through to it: checkpoints
 * are recorded, and can be made to fail (see `HarnessOptions.checkpointApi`).
 */
async function startApiProxy(
  target: string,
  checkpoints: RecordedCheckpoint[],
  behaviour: () => "pass" | "fail" | "lose-answer",
): Promise<{ url: string; close(): Promise<void> }> {
  const proxy = createServer((request, response) => {
    void forward(request, response).catch((error: unknown) => {
      response.writeHead(502).end(String(error));
    });
  });
  async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = request.url ?? "/";
    const isCheckpoint = /^\/v1\/checkpoint\//.test(path);
    const mode = isCheckpoint ? behaviour() : "pass";
    const fail = () => {
      response
        .writeHead(500, { "content-type": "application/json" })
        .end('{"error":"the checkpoint API is down (test)"}');
    };
    if (mode === "fail") return fail();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (["host", "connection", "content-length"].includes(name) || value === undefined) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const upstream = await fetch(`${target}${path}`, {
      method: request.method ?? "GET",
      headers,
      ...(request.method === "GET" || request.method === "HEAD" ? {} : { body }),
    });
    const text = await upstream.text();
    if (isCheckpoint) {
      const sent = JSON.parse(body.toString() || "{}") as {
        run_id?: string;
        qi_id?: string;
        steps?: { id?: string }[];
      };
      checkpoints.push({
        runId: sent.run_id ?? "",
        qiId: sent.qi_id ?? "",
        stepIds: (sent.steps ?? []).map((step) => step.id ?? ""),
        status: upstream.status,
      });
    }
    if (mode === "lose-answer") return fail();
    response
      .writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "application/json",
      })
      .end(text);
  }
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
    },
  };
}

/** A real SDK app (inngest/node's serve handler on node:http) whose function list can change. */
export interface ServedApp {
  url: string;
  /** The status of every call (POST) it answered, in order, with the function called. */
  calls: { fnId: string; status: number }[];
  /** Serves a new function list from now on, as a redeploy of the app would. */
  setFunctions(functions: InngestFunction.Any[]): void;
  close(): Promise<void>;
}

export async function serveApp(
  inngest: Inngest.Any,
  functions: InngestFunction.Any[],
  options: { port?: number; path?: string } = {},
): Promise<ServedApp> {
  let handler = serve({ client: inngest, functions });
  const calls: ServedApp["calls"] = [];
  const http: Server = createServer((request, response) => {
    if (request.method === "POST") {
      const fnId = new URL(request.url ?? "/", "http://app").searchParams.get("fnId") ?? "";
      response.on("finish", () => calls.push({ fnId, status: response.statusCode }));
    }
    return handler(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}${options.path ?? "/api/inngest"}`;
  return {
    url,
    calls,
    setFunctions(next) {
      handler = serve({ client: inngest, functions: next });
    },
    async close() {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}

export { freePort, waitFor };
