import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Inngest, type InngestFunction } from "inngest";
import { serve } from "inngest/node";
import { type DevServer, type DevServerOptions, startDevServer } from "../src";

/**
 * A real SDK app (inngest/node's serve handler on node:http, port 0) synced with a dev server of
 * the test's own (PGlite in memory unless `storage` says otherwise).
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
  timeline(runId: string): Promise<
    {
      op: string;
      name: string;
      attempt: number;
      step_id: string | null;
      output: unknown;
      error: unknown;
      started_at: string;
      ended_at: string | null;
    }[]
  >;
  /** Polls until the event's runs (at least `count`) have all ended; returns them. */
  waitForRuns(
    eventId: string,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<RunJson[]>;
  advance(ms: number): Promise<void>;
}

export interface RunJson {
  run_id: string;
  function_id: string;
  status: string;
  output: unknown;
  event_id: string;
  ended_at: string | null;
}

export async function startHarness(
  appId: string,
  makeFunctions: (inngest: Inngest.Any) => InngestFunction.Any[],
  options: DevServerOptions = {},
): Promise<Harness> {
  const server = await startDevServer({
    port: 0,
    storage: "memory://",
    retry: { baseMs: 10, maxMs: 100 },
    ...options,
  });
  const inngest = new Inngest({ id: appId, isDev: true, baseUrl: server.url });
  const handler = serve({ client: inngest, functions: makeFunctions(inngest) });
  const http: Server = createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const appUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/inngest`;
  await server.sync(appUrl);

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(`${server.url}${path}`, init);
    const body = (await response.json()) as { data: T };
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
    return body.data;
  };

  const harness: Harness = {
    server,
    inngest,
    appUrl,
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await server.close();
    },
    async send(events) {
      const response = await fetch(`${server.url}/e/test-key`, {
        method: "POST",
        body: JSON.stringify(events),
      });
      const body = (await response.json()) as { ids: string[] };
      if (!response.ok) throw new Error(`send: ${response.status} ${JSON.stringify(body)}`);
      return body.ids;
    },
    runsOf: (eventId) => api(`/v1/events/${eventId}/runs`),
    run: (runId) => api(`/v1/runs/${runId}`),
    async timeline(runId) {
      return (await api<{ steps: never[] }>(`/v1/runs/${runId}/timeline`)).steps;
    },
    async waitForRuns(eventId, { count = 1, timeoutMs = 15_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const runs = await harness.runsOf(eventId);
        if (runs.length >= count && runs.every((run) => run.status !== "Running")) return runs;
        if (Date.now() > deadline)
          throw new Error(`runs of ${eventId} did not end: ${JSON.stringify(runs)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async advance(ms) {
      const response = await fetch(`${server.url}/test/clock/advance`, {
        method: "POST",
        body: JSON.stringify({ ms }),
      });
      if (!response.ok) throw new Error(`advance: ${response.status} ${await response.text()}`);
    },
  };
  return harness;
}
