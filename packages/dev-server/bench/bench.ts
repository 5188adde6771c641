/**
 * `pnpm --filter @repo/dev-server bench`: the dev server's own speed and memory, each figure
 * beside its target. The server runs as users run it (its CLI, a process of its own, default
 * durable storage in a temporary folder unless `--storage` says otherwise); the load comes from
 * this process, and so do the functions: a real SDK app (inngest/node) that the server drives.
 * Prints figures; asserts nothing.
 *
 * - the floor: the bare SDK round trip, a step call posted straight to the app (p50, and calls/s
 *   with 16 in flight): what a 3-step run costs the app alone (4 calls in classic mode);
 * - ingest: events/s through POST /e/:key from 16 connections (autocannon), one event per request
 *   and 100 per request, each acknowledged only once durable; and the server's CPU per event;
 * - per execution mode (classic, and the SDK's async checkpointing): event -> first step call,
 *   event -> function returned, the server's gap between one call and the next, completed 3-step
 *   runs/s with 1,000 in flight (and spread over 10 concurrency keys of 5);
 * - memory: the server's RSS holding `--held-runs` completed runs, and how long it takes to listen
 *   again after `kill -9` on that store (wall time, and the server's CPU time until then).
 *
 * `--only memory` runs the last part alone (no floor, ingest or modes); `--restarts N` restarts
 * N times, each on a fresh copy of the store as the kill left it, and prints each figure.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { type ServerProcess, startServerProcess } from "./server-process";

const { values } = parseArgs({
  options: {
    storage: { type: "string" },
    "ingest-seconds": { type: "string", default: "10" },
    runs: { type: "string", default: "300" },
    "flow-runs": { type: "string", default: "1000" },
    "held-runs": { type: "string", default: "10000" },
    only: { type: "string" },
    restarts: { type: "string", default: "1" },
  },
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const rate = (value: number) => String(Math.round(value));
const pause = (time: number) => new Promise((next) => setTimeout(next, time));

const dataDir = mkdtempSync(join(tmpdir(), "dev-server-bench-"));
let folders = 0;
/** Each server gets a store of its own: a fresh folder, unless `--storage` names one. */
const storageFor = () => values.storage ?? join(dataDir, `state-${folders++}`);

// --- the app: what the server drives, instrumented in this process
const firstStepAt = new Map<string, number>();
const returnedAt = new Map<string, number>();
/** The run id of each latency run's key, and when the first call of each run reached the app. */
const runOfKey = new Map<string, string>();
const firstArrivalAt = new Map<string, number>();
const calls = new Map<string, { start: number; end: number }[]>();
const finished = { limited: 0, free: 0, held: 0 };
let baseUrl = "";
const inngest = new Inngest({
  id: "bench",
  isDev: true,
  // The server's URL is known only once it runs; the SDK reads it when it checkpoints.
  fetch: (input, init) => fetch(String(input).replace(/^http:\/\/bench-server/, baseUrl), init),
  baseUrl: "http://bench-server",
});
const threeSteps = inngest.createFunction(
  { id: "three-steps", triggers: [{ event: "bench/run" }] },
  async ({ event, step, runId }) => {
    const key = String(event.data.key);
    runOfKey.set(key, runId);
    const a = await step.run("a", () => {
      if (!firstStepAt.has(key)) firstStepAt.set(key, performance.now());
      return 1;
    });
    const b = await step.run("b", () => a + 1);
    const c = await step.run("c", () => b + 1);
    if (!returnedAt.has(key)) returnedAt.set(key, performance.now());
    return c;
  },
);
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
      const c = await step.run("c", () => b + 1);
      finished[kind]++;
      return c;
    },
  );
const oneStep = inngest.createFunction(
  { id: "one-step", triggers: [{ event: "bench/held" }] },
  async ({ event, step }) => {
    const value = await step.run("only", () => ({ n: event.data.n, text: "a small output" }));
    finished.held++;
    return value;
  },
);
const handler = serve({
  client: inngest,
  functions: [threeSteps, flowFunction("limited"), flowFunction("free"), oneStep],
});
const app = createServer((req, res) => {
  const runId = String(req.headers["x-run-id"] ?? "");
  const start = performance.now();
  if (runId && !firstArrivalAt.has(runId)) firstArrivalAt.set(runId, start);
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

/** A step call as the server would send it for a new run of `three-steps` (classic mode). */
function stepCall(runId: string): RequestInit {
  const event = { name: "bench/run", data: { key: runId }, id: runId, ts: Date.now(), user: {} };
  return {
    method: "POST",
    headers: { "content-type": "application/json", "x-run-id": "" },
    body: JSON.stringify({
      event,
      events: [event],
      steps: {},
      ctx: {
        run_id: runId,
        attempt: 0,
        max_attempts: 4,
        disable_immediate_execution: false,
        use_api: false,
        stack: { stack: [], current: 0 },
      },
      version: -1,
    }),
  };
}
const callUrl = `${appUrl}?fnId=bench-three-steps&stepId=step`;

if (values.only !== undefined && values.only !== "memory") {
  throw new Error(
    `--only: "${values.only}" is not a part of the bench; the one it runs alone is "memory"`,
  );
}
const full = values.only === undefined;

// --- the floor: the bare SDK round trip
const bare: number[] = [];
for (let i = 0; full && i < 500; i++) {
  const start = performance.now();
  const response = await fetch(callUrl, stepCall(`bare-${i}`));
  if (response.status !== 206) throw new Error(`bare call: ${response.status}`);
  await response.arrayBuffer();
  bare.push(performance.now() - start);
}
const bareCallsPerSecond = await (async () => {
  if (!full) return Number.NaN;
  let done = 0;
  const until = performance.now() + 3000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async (_, lane) => {
      while (performance.now() < until) {
        const response = await fetch(callUrl, stepCall(`bare-${lane}-${done}`));
        await response.arrayBuffer();
        done++;
      }
    }),
  );
  return (done / (performance.now() - started)) * 1000;
})();
const bareP50 = percentile(bare, 50);
firstStepAt.clear();
returnedAt.clear();

async function startServer(args: string[]): Promise<ServerProcess> {
  return startServerSynced(["--storage", storageFor(), ...args]);
}

/** A server that has synced the app (given by `-u`). */
async function startServerSynced(args: string[]): Promise<ServerProcess> {
  const server = await startServerProcess(["-u", appUrl, ...args]);
  baseUrl = server.url;
  for (const deadline = Date.now() + 30_000; ; await pause(20)) {
    const apps = (await (await fetch(`${server.url}/api/apps`)).json()) as {
      data: { url: string; synced_since_start: boolean; functions: string[] }[];
    };
    if (apps.data.some((a) => a.url === appUrl && a.synced_since_start && a.functions.length > 0))
      return server;
    if (Date.now() > deadline) throw new Error("the app did not sync");
  }
}

async function send(server: ServerProcess, body: unknown): Promise<void> {
  const response = await fetch(`${server.url}/e/bench`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`send: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

async function waitUntil(what: string, done: () => boolean, timeoutMs = 600_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); await pause(2)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

// --- ingest, against the default mode
async function ingest(server: ServerProcess, perRequest: number, seconds: number) {
  const body = JSON.stringify(
    Array.from({ length: perRequest }, (_, i) => ({ name: "bench/ingest", data: { i } })),
  );
  const options = { url: `${server.url}/e/bench`, method: "POST" as const, body, connections: 16 };
  await autocannon({ ...options, duration: 2 }); // warm-up
  const cpuBefore = server.cpuMs();
  const result = await autocannon({ ...options, duration: seconds });
  const cpu = server.cpuMs() - cpuBefore;
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`ingest: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  const events = result["2xx"] * perRequest;
  return {
    perSecond: events / (result.duration || seconds),
    p50: result.latency.p50,
    cpuPerEventUs: (cpu * 1000) / events,
  };
}

interface ModeFigures {
  acknowledged: number[];
  arrived: number[];
  firstCall: number[];
  returned: number[];
  gaps: number[];
  freeRate: number;
  limitedRate: number;
}

async function measureMode(server: ServerProcess): Promise<ModeFigures> {
  firstStepAt.clear();
  returnedAt.clear();
  calls.clear();
  firstArrivalAt.clear();
  const acknowledged: number[] = [];
  const arrived: number[] = [];
  const firstCall: number[] = [];
  const returned: number[] = [];
  const runs = Number(values.runs);
  for (let i = 0; i < runs; i++) {
    const key = `run-${server.pid}-${i}`;
    const sentAt = performance.now();
    await send(server, { name: "bench/run", data: { key } });
    acknowledged.push(performance.now() - sentAt);
    await waitUntil("a run", () => returnedAt.has(key));
    arrived.push((firstArrivalAt.get(runOfKey.get(key) as string) as number) - sentAt);
    firstCall.push((firstStepAt.get(key) as number) - sentAt);
    returned.push((returnedAt.get(key) as number) - sentAt);
    // Let the server settle the run's end before the next one starts.
    await pause(1);
  }
  const gaps: number[] = [];
  for (const list of calls.values()) {
    list.sort((x, y) => x.start - y.start);
    for (let i = 1; i < list.length; i++)
      gaps.push((list[i] as { start: number }).start - (list[i - 1] as { end: number }).end);
  }
  const flowRuns = Number(values["flow-runs"]);
  const throughput = async (kind: "limited" | "free") => {
    finished[kind] = 0;
    const started = performance.now();
    for (let sent = 0; sent < flowRuns; sent += 100) {
      await send(
        server,
        Array.from({ length: Math.min(100, flowRuns - sent) }, (_, i) => ({
          name: `bench/${kind}`,
          data: { key: `k${(sent + i) % 10}` },
        })),
      );
    }
    await waitUntil(`${flowRuns} ${kind} runs`, () => finished[kind] >= flowRuns);
    return (flowRuns / (performance.now() - started)) * 1000;
  };
  const freeRate = await throughput("free");
  const limitedRate = await throughput("limited");
  return { acknowledged, arrived, firstCall, returned, gaps, freeRate, limitedRate };
}

const rows: Record<string, { value: string; target: string }> = {};
if (full) {
  const classicServer = await startServer(["--no-checkpointing"]);
  const single = await ingest(classicServer, 1, Number(values["ingest-seconds"]));
  const batched = await ingest(
    classicServer,
    100,
    Math.max(3, Number(values["ingest-seconds"]) / 2),
  );
  const classic = await measureMode(classicServer);
  await classicServer.stop();

  const checkpointingServer = await startServer([]);
  const checkpointing = await measureMode(checkpointingServer);
  await checkpointingServer.stop();
  speedRows(single, batched, classic, checkpointing);
}

// --- memory: completed runs held, then a crash and a restart on that store
const heldRuns = Number(values["held-runs"]);
const heldStorage = storageFor();
const heldServer = await startServerSynced(["--storage", heldStorage]);
finished.held = 0;
for (let sent = 0; sent < heldRuns; sent += 100) {
  await send(
    heldServer,
    Array.from({ length: Math.min(100, heldRuns - sent) }, (_, i) => ({
      name: "bench/held",
      data: { n: sent + i },
    })),
  );
  // Keep at most 1,000 runs in flight: the figure is about runs held, not a queue.
  await waitUntil("held runs", () => finished.held >= sent - 1000);
}
await waitUntil("held runs", () => finished.held >= heldRuns);
await pause(500);
const heldMemory = heldServer.memory();
await heldServer.stop({ kill9: true });
// Each restart opens a copy of the store as the kill left it (a restart compacts its store).
const killedStorage = `${heldStorage}-killed`;
cpSync(heldStorage, killedStorage, { recursive: true });
const restarts: { listeningAfterMs: number; cpuMs: number; rss: number }[] = [];
for (let i = 0; i < Math.max(1, Number(values.restarts)); i++) {
  rmSync(heldStorage, { recursive: true, force: true });
  cpSync(killedStorage, heldStorage, { recursive: true });
  const restarted = await startServerProcess(["--storage", heldStorage]);
  restarts.push({
    listeningAfterMs: restarted.listeningAfterMs,
    cpuMs: restarted.cpuMs(),
    rss: restarted.memory().rss,
  });
  await restarted.stop();
}

// --- the table
type Ingest = Awaited<ReturnType<typeof ingest>>;
function speedRows(
  single: Ingest,
  batched: Ingest,
  classic: ModeFigures,
  checkpointing: ModeFigures,
) {
  const runTarget = 4 * bareP50 + 3;
  const floorRunsPerSecond = bareCallsPerSecond / 4;
  Object.assign(rows, {
    "bare SDK step call p50 (the floor)": { value: ms(bareP50), target: "" },
    "bare SDK step calls/s, 16 in flight": { value: rate(bareCallsPerSecond), target: "" },
    "ingest, 1 event/request, 16 connections (events/s)": {
      value: rate(single.perSecond),
      target: ">= 5000",
    },
    "ingest, 1 event/request: latency p50": { value: ms(single.p50), target: "" },
    "ingest, 1 event/request: server CPU per event": {
      value: `${single.cpuPerEventUs.toFixed(0)} us`,
      target: "",
    },
    "ingest, 100 events/request, 16 connections (events/s)": {
      value: rate(batched.perSecond),
      target: ">= 50000",
    },
  });
  const modeRows = (label: string, figures: ModeFigures, targets: boolean) => {
    rows[`${label}: event sent -> acknowledged (durable) p50`] = {
      value: ms(percentile(figures.acknowledged, 50)),
      target: "",
    };
    rows[`${label}: event sent -> first call reaches the app p50`] = {
      value: ms(percentile(figures.arrived, 50)),
      target: "",
    };
    rows[`${label}: event -> first step call p50`] = {
      value: ms(percentile(figures.firstCall, 50)),
      target: "<= 3 ms",
    };
    rows[`${label}: event -> first step call p99`] = {
      value: ms(percentile(figures.firstCall, 99)),
      target: "",
    };
    rows[`${label}: 3-step run, event -> returned p50`] = {
      value: ms(percentile(figures.returned, 50)),
      target: `<= ${ms(runTarget)} (4 x floor + 3)`,
    };
    rows[`${label}: server gap between calls p50`] = {
      value: figures.gaps.length > 0 ? ms(percentile(figures.gaps, 50)) : "no second call",
      target: "",
    };
    rows[`${label}: 3-step runs/s, 1,000 in flight`] = {
      value: rate(figures.freeRate),
      target: targets
        ? `>= ${rate(0.8 * floorRunsPerSecond)} (80% of floor calls/s / 4)`
        : `>= ${rate(1.5 * classic.freeRate)} (1.5 x classic)`,
    };
    rows[`${label}: same, 10 concurrency keys x 5`] = {
      value: rate(figures.limitedRate),
      target: "",
    };
  };
  modeRows("classic", classic, true);
  modeRows("checkpointing", checkpointing, false);
}
rows[`server RSS holding ${heldRuns} completed runs`] = {
  value: mb(heldMemory.rss),
  target: "<= 300 MB",
};
rows["server peak RSS during that"] = { value: mb(heldMemory.peak), target: "" };
const middle = <T>(list: T[], by: (item: T) => number) =>
  [...list].sort((a, b) => by(a) - by(b))[Math.floor((list.length - 1) / 2)] as T;
const restart = middle(restarts, (r) => r.listeningAfterMs);
rows[`restart after kill -9 on that store: listening after`] = {
  value:
    restarts.length > 1
      ? `${ms(restart.listeningAfterMs)} (median of ${restarts.length})`
      : ms(restart.listeningAfterMs),
  target: "<= 1000 ms",
};
rows["server CPU time until listening (that restart)"] = { value: ms(restart.cpuMs), target: "" };
rows["server RSS right after that restart"] = { value: mb(restart.rss), target: "" };
if (restarts.length > 1) {
  console.log("restarts (listening after / server CPU until then / RSS):");
  for (const r of restarts)
    console.log(`  ${ms(r.listeningAfterMs)} / ${ms(r.cpuMs)} / ${mb(r.rss)}`);
}

console.log(
  `dev-server bench (storage: ${values.storage ?? "journal folder"}, Node ${process.version})`,
);
console.table(rows);

app.close();
app.closeAllConnections();
rmSync(dataDir, { recursive: true, force: true });
