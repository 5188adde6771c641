/**
 * `pnpm --filter @repo/dev-server bench`: the dev server's own speed, against a 3-step function
 * served in process by the real SDK (inngest/node). Prints figures; asserts nothing.
 *
 * - ingest: events/s through POST /e/:key, stored durably (one event per request, 32 at a time;
 *   and 100 events per request);
 * - event → first step call: from the send to the moment the app runs the first step;
 * - overhead per step: the gap the server adds between the end of one call to the app and the
 *   start of the next, beside the bare HTTP round trip to the same handler;
 * - flow control: completed runs/s for `--flow-runs` (1,000) three-step runs spread over 10
 *   concurrency keys (limit 5 per key), beside the same runs of a function with no flow control:
 *   the difference is the scheduler's overhead;
 * - peak memory (RSS) of the process (server and app share it).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { startDevServer } from "../src";

const { values } = parseArgs({
  options: {
    storage: { type: "string" },
    events: { type: "string", default: "5000" },
    runs: { type: "string", default: "300" },
    "flow-runs": { type: "string", default: "1000" },
  },
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

const dataDir = mkdtempSync(join(tmpdir(), "dev-server-bench-"));
const storage = values.storage ?? join(dataDir, "state");
const server = await startDevServer({ port: 0, storage });

// --- the app: records when each call arrives and leaves, and when the first step runs
const firstStepAt = new Map<string, number>();
const calls = new Map<string, { start: number; end: number }[]>();
const inngest = new Inngest({ id: "bench", isDev: true, baseUrl: server.url });
const threeSteps = inngest.createFunction(
  { id: "three-steps", triggers: [{ event: "bench/run" }] },
  async ({ event, step }) => {
    const a = await step.run("a", () => {
      if (!firstStepAt.has(String(event.data.key)))
        firstStepAt.set(String(event.data.key), performance.now());
      return 1;
    });
    const b = await step.run("b", () => a + 1);
    return step.run("c", () => b + 1);
  },
);
/** Runs that reached their last step, by function: the flow-control throughput's finish line. */
const finished = { limited: 0, free: 0 };
const flowFunction = (kind: "limited" | "free") =>
  inngest.createFunction(
    {
      id: `three-steps-${kind}`,
      triggers: [{ event: `bench/${kind}` }],
      ...(kind === "limited" ? { concurrency: { limit: 5, key: "event.data.key" } } : {}),
    },
    async ({ step }) => {
      const a = await step.run("a", () => 1);
      const b = await step.run("b", () => a + 1);
      return step.run("c", () => {
        finished[kind]++;
        return b + 1;
      });
    },
  );
const handler = serve({
  client: inngest,
  functions: [threeSteps, flowFunction("limited"), flowFunction("free")],
});
const app = createServer((req, res) => {
  const runId = String(req.headers["x-run-id"] ?? "");
  const start = performance.now();
  res.on("finish", () => {
    if (!runId) return;
    const list = calls.get(runId) ?? [];
    list.push({ start, end: performance.now() });
    calls.set(runId, list);
  });
  void handler(req, res);
});
await new Promise<void>((ready) => app.listen(0, "127.0.0.1", ready));
const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/api/inngest`;
await server.sync(appUrl);

// --- ingest
async function ingest(total: number, perRequest: number, concurrency: number): Promise<number> {
  const body = JSON.stringify(
    Array.from({ length: perRequest }, (_, i) => ({ name: "bench/ingest", data: { i } })),
  );
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent += perRequest;
        const response = await fetch(`${server.url}/e/bench`, { method: "POST", body });
        if (!response.ok) throw new Error(`ingest: ${response.status}`);
        await response.arrayBuffer();
      }
    }),
  );
  return (total / (performance.now() - started)) * 1000;
}
const totalEvents = Number(values.events);
await ingest(500, 1, 32); // warm-up
const singleRate = await ingest(totalEvents, 1, 32);
const batchRate = await ingest(totalEvents * 4, 100, 4);

// --- runs, one at a time (latency), then the overhead per step from the recorded calls
const runs = Number(values.runs);
const firstCall: number[] = [];
for (let i = 0; i < runs; i++) {
  const key = `run-${i}`;
  const sentAt = performance.now();
  const response = await fetch(`${server.url}/e/bench`, {
    method: "POST",
    body: JSON.stringify({ name: "bench/run", data: { key } }),
  });
  await response.arrayBuffer();
  while (!firstStepAt.has(key)) await new Promise((next) => setImmediate(next));
  firstCall.push((firstStepAt.get(key) as number) - sentAt);
  await server.engine.idle();
}
const gaps: number[] = [];
for (const list of calls.values()) {
  list.sort((x, y) => x.start - y.start);
  for (let i = 1; i < list.length; i++)
    gaps.push((list[i] as { start: number }).start - (list[i - 1] as { end: number }).end);
}

// --- flow control: throughput of many runs at once, with and without a concurrency limit
async function throughput(kind: "limited" | "free", total: number): Promise<number> {
  const started = performance.now();
  for (let sent = 0; sent < total; sent += 100) {
    const body = Array.from({ length: Math.min(100, total - sent) }, (_, i) => ({
      name: `bench/${kind}`,
      data: { key: `k${(sent + i) % 10}` },
    }));
    const response = await fetch(`${server.url}/e/bench`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`send: ${response.status}`);
    await response.arrayBuffer();
  }
  while (finished[kind] < total) await new Promise((next) => setTimeout(next, 5));
  await server.engine.idle();
  return (total / (performance.now() - started)) * 1000;
}
const flowRuns = Number(values["flow-runs"]);
const freeRate = await throughput("free", flowRuns);
const limitedRate = await throughput("limited", flowRuns);

// --- the bare HTTP round trip to the same handler (a GET introspection)
const bare: number[] = [];
for (let i = 0; i < 500; i++) {
  const start = performance.now();
  const response = await fetch(appUrl);
  await response.arrayBuffer();
  bare.push(performance.now() - start);
}

firstCall.sort((x, y) => x - y);
gaps.sort((x, y) => x - y);
bare.sort((x, y) => x - y);
clearInterval(sampler);

console.log(`dev-server bench (storage: ${server.store.kind}, Node ${process.version})`);
console.table({
  "ingest, 1 event/request (events/s)": { value: Math.round(singleRate), target: ">= 7000" },
  "ingest, 100 events/request (events/s)": { value: Math.round(batchRate), target: "" },
  "event -> first step call p50": { value: fmt(percentile(firstCall, 50)), target: "<= 5 ms" },
  "event -> first step call p99": { value: fmt(percentile(firstCall, 99)), target: "" },
  "server overhead per step p50": { value: fmt(percentile(gaps, 50)), target: "<= 1 ms" },
  "server overhead per step p99": { value: fmt(percentile(gaps, 99)), target: "" },
  "bare HTTP round trip to the handler p50": { value: fmt(percentile(bare, 50)), target: "" },
  "bare HTTP round trip to the handler p99": { value: fmt(percentile(bare, 99)), target: "" },
  [`${flowRuns} 3-step runs, no flow control (runs/s)`]: {
    value: Math.round(freeRate),
    target: "",
  },
  [`${flowRuns} 3-step runs, 10 concurrency keys x 5 (runs/s)`]: {
    value: Math.round(limitedRate),
    target: "",
  },
  "throughput lost to the concurrency scheduler (vs none)": {
    value: `${(((freeRate - limitedRate) / freeRate) * 100).toFixed(1)} %`,
    target: "",
  },
  "peak RSS (server + app)": { value: `${Math.round(peakRss / 1024 / 1024)} MB`, target: "" },
});

app.close();
app.closeAllConnections();
await server.close();
rmSync(dataDir, { recursive: true, force: true });
