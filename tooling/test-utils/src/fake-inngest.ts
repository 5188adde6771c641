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
 * The two public interfaces of an Inngest server that the apps' code talks to, faked: the event
 * API (`POST /e/:key`, as the SDK sends in dev mode, answered `{"ids": [...], "status": 200}`) and
 * the REST API's `GET /v1/events/:id/runs`, answered from `runsByEvent`. For tests of code that
 * sends events or reads runs, without a dev server; the dev server's own suites drive the real one.
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
  /** While set, the REST API answers with this status. */
  restStatus: number | null;
  /** The Authorization header of each REST request, in order. */
  restAuthorizations: (string | undefined)[];
  /** Empties what was recorded (events, ids, request counts); keeps `runsByEvent`. */
  reset(): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeInngest(options: { failing?: boolean } = {}): Promise<FakeInngest> {
  let counter = 0;
  const server = createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
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
    const runs = /^\/v1\/events\/([^/]+)\/runs$/.exec(url.pathname);
    if (request.method === "GET" && runs) {
      fake.restAuthorizations.push(request.headers.authorization);
      if (fake.restStatus) return reply(fake.restStatus, { error: "fake failure" });
      const data = fake.runsByEvent.get(runs[1] ?? "");
      if (!data) return reply(404, { error: "event not found" });
      return reply(200, { data, metadata: { fetched_at: new Date().toISOString() } });
    }
    reply(404, { error: `no route ${request.method} ${url.pathname}`, status: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fake: FakeInngest = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events: [],
    answeredIds: [],
    requests: 0,
    failing: options.failing ?? false,
    runsByEvent: new Map(),
    restStatus: null,
    restAuthorizations: [],
    reset() {
      fake.events.length = 0;
      fake.answeredIds.length = 0;
      fake.restAuthorizations.length = 0;
      fake.requests = 0;
      fake.restStatus = null;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}

/** A run as the REST API answers it, for `runsByEvent`. */
export function restRun(functionId: string, status = "Completed", output: unknown = null) {
  return {
    run_id: `run-${functionId}`,
    function_id: functionId,
    status,
    event_id: "01EVENT",
    ended_at: status === "Running" ? null : new Date().toISOString(),
    output,
  };
}
