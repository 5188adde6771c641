import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The two public interfaces of an Inngest server that the runtime talks to: the event API
 * (`POST /e/:key`, as the SDK sends in dev mode) and the REST API's `GET /v1/events/:id/runs`,
 * answered from `runsByEvent` (or with `restStatus` when it is set).
 */
export interface FakeInngest {
  url: string;
  events: { name: string; data: unknown }[];
  runsByEvent: Map<string, unknown[]>;
  restStatus: number | null;
  /** The Authorization header of each REST request, in order. */
  restAuthorizations: (string | undefined)[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeInngest(): Promise<FakeInngest> {
  let counter = 0;
  const server = createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const url = new URL(request.url ?? "/", "http://fake");
    if (request.method === "POST" && url.pathname.startsWith("/e/")) {
      const sent = JSON.parse(await readBody(request)) as FakeInngest["events"];
      fake.events.push(...sent);
      const ids = sent.map(() => `01FAKE${String(++counter).padStart(20, "0")}`);
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
    reply(404, { error: `no route ${request.method} ${url.pathname}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fake: FakeInngest = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events: [],
    runsByEvent: new Map(),
    restStatus: null,
    restAuthorizations: [],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}

/** A run as the REST API answers it. */
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
