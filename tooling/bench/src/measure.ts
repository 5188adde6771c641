import type { AppFunctionJson, RunJson } from "@repo/test-utils";
import autocannon from "autocannon";
import { FatalError, waitFor } from "./servers";
import { percentile } from "./stats";

/** The measurements themselves: step calls under load, whole runs, throughput. */

export const BENCH_EVENT = "bench/three.steps";
export const BENCH_FUNCTION = "bench-three-steps";

/** The function's slug under an app id, as the SDK registers it and the call URL names it. */
export const functionSlug = (appId: string) => `${appId}-${BENCH_FUNCTION}`;

/**
 * A call request as the Inngest server sends it for a run's first call (discovery, `stepId=step`),
 * per the SDK's protocol (docs: inngest-protocol.md §6.1). With immediate execution the SDK runs the
 * first step inline and answers 206 with its `StepRun`: a real step call, not an error path.
 */
export function stepCallBody(n: number): string {
  const event = {
    id: "01JBENCH0000000000000000EV",
    name: BENCH_EVENT,
    data: { n },
    ts: 1_700_000_000_000,
  };
  return JSON.stringify({
    event,
    events: [event],
    steps: {},
    ctx: {
      run_id: "01JBENCH0000000000000000RN",
      attempt: 0,
      max_attempts: 4,
      disable_immediate_execution: false,
      use_api: false,
      stack: { stack: [], current: 0 },
    },
    version: 2,
  });
}

export const stepCallUrl = (serveUrl: string, appId: string) =>
  `${serveUrl}?fnId=${encodeURIComponent(functionSlug(appId))}&stepId=step`;

/**
 * One step call, checked: 206 and exactly the first step's `StepRun` with its result (n + 1).
 * Loading a server that answers errors would measure its error path, so this runs first.
 */
export async function verifyStepCall(serveUrl: string, appId: string): Promise<void> {
  const n = 41;
  const response = await fetch(stepCallUrl(serveUrl, appId), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stepCallBody(n),
  });
  const text = await response.text();
  let ops: unknown;
  try {
    ops = JSON.parse(text);
  } catch {
    ops = undefined;
  }
  const op =
    Array.isArray(ops) && ops.length === 1 ? (ops[0] as Record<string, unknown>) : undefined;
  if (
    response.status !== 206 ||
    op?.op !== "StepRun" ||
    op.displayName !== "one" ||
    op.data !== n + 1
  )
    throw new Error(
      `step call to ${appId}: expected 206 with the StepRun of step "one" (data ${n + 1}), got ` +
        `${response.status} ${text.slice(0, 300)}`,
    );
}

export interface LoadResult {
  p50Ms: number;
  p99Ms: number;
  callsPerSec: number;
  calls: number;
}

/**
 * `connections` clients (autocannon) POST the step call for `seconds`. Latencies are every
 * response's own time (autocannon's `response` event, hrtime precision: its summary histogram
 * keeps whole milliseconds, too coarse for a 1 ms call). Any non-2xx answer, error or timeout
 * fails the measurement: a figure made of errors is no figure.
 */
export async function loadStepCalls(
  url: string,
  { connections, seconds }: { connections: number; seconds: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: stepCallBody(41),
        connections,
        duration: seconds,
        timeout: 10,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0)
    throw new Error(
      `step calls to ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ` +
        `${result.timeouts} timeouts out of ${result.requests.sent}`,
    );
  return {
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    callsPerSec: result.requests.total / (result.duration || seconds),
    calls: result.requests.total,
  };
}

async function json<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Sends events through the event API (`POST /e/<key>`), answering their ids in order. */
export async function sendEvents(devUrl: string, ns: number[]): Promise<string[]> {
  const body = JSON.stringify(ns.map((n) => ({ name: BENCH_EVENT, data: { n } })));
  const { ids } = await json<{ ids: string[] }>(
    await fetch(`${devUrl}/e/bench`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    }),
    "POST /e/bench",
  );
  if (ids.length !== ns.length)
    throw new Error(`POST /e/bench: ${ns.length} events sent, ${ids.length} ids answered`);
  return ids;
}

/**
 * The internal id (UUID) of the target's bench function, which its runs' `function_id` is, from
 * the app's function list (`GET /v1/apps/:app/functions`, a bare array).
 */
async function benchFunctionId(devUrl: string, appId: string): Promise<string> {
  const functions = await json<AppFunctionJson[]>(
    await fetch(`${devUrl}/v1/apps/${encodeURIComponent(appId)}/functions`),
    `GET /v1/apps/${appId}/functions`,
  );
  const fn = functions.find((candidate) => candidate.id === functionSlug(appId));
  if (!fn) throw new FatalError(`the dev server lists no function ${functionSlug(appId)}`);
  return fn.internal_id;
}

/** Checks a finished run: the target's function, completed, with the output its event implies. */
function checkRun(run: RunJson, functionId: string, appId: string, n: number): void {
  const output = run.output as { n?: unknown; result?: unknown } | null;
  if (run.function_id !== functionId)
    throw new Error(
      `run ${run.run_id} is of ${run.function_id}, not ${functionSlug(appId)} (${functionId}): another app is synced`,
    );
  if (run.status !== "Completed" || output?.n !== n || output.result !== (n + 1) * 2 - 1)
    throw new Error(
      `run ${run.run_id}: ${run.status}, output ${JSON.stringify(run.output)} (expected n ${n})`,
    );
}

/**
 * Event sent → run completed, one run at a time: the wall clock before the send to the run's
 * `ended_at` as the dev server recorded it (same machine, same clock; millisecond precision). The
 * polling only learns when to send the next event, it adds nothing to the figure.
 */
export async function runLatencies(
  devUrl: string,
  appId: string,
  runs: number,
  warmup = 5,
): Promise<number[]> {
  const samples: number[] = [];
  const functionId = await benchFunctionId(devUrl, appId);
  // The first runs (negative i) warm the dev server's event path and are not counted.
  for (let i = -warmup; i < runs; i++) {
    const n = 1000 + warmup + i;
    const sentAt = Date.now();
    const [id] = await sendEvents(devUrl, [n]);
    const run = await waitFor(
      `run of event ${id} to end`,
      async () => {
        const { data } = await json<{ data: RunJson[] }>(
          await fetch(`${devUrl}/v1/events/${id}/runs`),
          `GET /v1/events/${id}/runs`,
        );
        if (data.length > 1)
          throw new FatalError(`event ${id} started ${data.length} runs, expected 1`);
        const only = data[0];
        return only?.ended_at ? only : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 5 },
    );
    checkRun(run, functionId, appId, n);
    if (i >= 0) samples.push(Date.parse(run.ended_at as string) - sentAt);
  }
  return samples;
}

/** Every run of the function, newest first, through the REST API's pages (1,000 at most each). */
async function allRuns(devUrl: string, slug: string): Promise<RunJson[]> {
  const runs: RunJson[] = [];
  let cursor = "";
  for (;;) {
    const { data } = await json<{ data: RunJson[] }>(
      await fetch(
        `${devUrl}/v1/runs?function_id=${encodeURIComponent(slug)}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`,
      ),
      "GET /v1/runs",
    );
    runs.push(...data);
    if (data.length < 1000) return runs;
    cursor = (data[data.length - 1] as RunJson).run_id;
  }
}

/**
 * `total` runs in flight at once: the events go in as 10 batches sent together, then the bench
 * waits until every run has ended and checks each. Throughput = runs / (last `ended_at` − the moment before the first send).
 */
export async function runThroughput(devUrl: string, appId: string, total: number): Promise<number> {
  const batches = 10;
  const functionId = await benchFunctionId(devUrl, appId);
  const per = Math.ceil(total / batches);
  const ns = Array.from({ length: total }, (_, i) => 1_000_000 + i);
  const startedAt = Date.now();
  const ids = (
    await Promise.all(
      Array.from({ length: batches }, (_, b) =>
        sendEvents(devUrl, ns.slice(b * per, (b + 1) * per)),
      ),
    )
  ).flat();
  const nByEvent = new Map(ids.map((id, index) => [id, ns[index] as number]));
  // Polled every half second: the figure comes from the runs' own `ended_at`, so the polling only
  // decides when to look, and rarely, to take little from the dev server while it works.
  const runs = await waitFor(
    `${total} runs of ${functionSlug(appId)} to end`,
    async () => {
      const mine = (await allRuns(devUrl, functionSlug(appId))).filter((run) =>
        nByEvent.has(run.event_id),
      );
      if (mine.length > total)
        throw new Error(`throughput: ${mine.length} runs of ${total} events`);
      return mine.length === total && mine.every((run) => run.ended_at) ? mine : undefined;
    },
    { timeoutMs: 300_000, intervalMs: 500 },
  );
  let last = 0;
  for (const run of runs) {
    checkRun(run, functionId, appId, nByEvent.get(run.event_id) as number);
    last = Math.max(last, Date.parse(run.ended_at as string));
  }
  return (total / (last - startedAt)) * 1000;
}
