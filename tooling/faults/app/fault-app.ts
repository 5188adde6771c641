/**
 * The fault suite's SDK app: the unmodified `inngest/node` serve handler in a process of its own,
 * so a scenario can kill it with SIGKILL. Every step body appends a `start` line and, when its work
 * is done, an `end` line to EFFECTS_FILE (`src/effects.ts` reads them): one `write(2)` each, so a
 * line written is on disk for every later reader even if this process is killed the next instant
 * (only a machine crash could lose it, and no scenario crashes the machine).
 */
import { createHmac } from "node:crypto";
import { openSync, writeSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { Inngest, NonRetriableError } from "inngest";
import { serve } from "inngest/node";

const port = Number(process.env.PORT);
const effects = openSync(process.env.EFFECTS_FILE as string, "a");
/** Scenario 8: cloud mode with this signing key (the server's `--signing-key`); else dev mode. */
const signingKey = process.env.FAULT_SIGNING_KEY || undefined;
const inngest = new Inngest({
  id: "faults",
  ...(signingKey ? { isDev: false, signingKey } : { isDev: true }),
  baseUrl: process.env.DEV_SERVER_URL as string,
});

const record = (kind: "start" | "end" | "call", fn: string, run: string, step: string) => {
  writeSync(
    effects,
    `${JSON.stringify({ kind, fn, run, step, pid: process.pid, at: Date.now() })}\n`,
  );
};

/** A step body: its side effect is the pair of lines around its work. */
async function effect<T>(
  fn: string,
  run: string,
  step: string,
  workMs: number,
  value: () => T,
): Promise<T> {
  record("start", fn, run, step);
  await delay(workMs);
  const result = value();
  record("end", fn, run, step);
  return result;
}

/**
 * Scenarios 1 and 2: every kind of durable state at once. A step, two parallel steps, a sleep, a
 * waitForEvent (released by `faults/go` with the same `n`), a last step; the output proves each
 * memoized value reached the end.
 */
const mixed = inngest.createFunction(
  { id: "mixed", triggers: [{ event: "faults/mixed" }], retries: 20 },
  async ({ event, step, runId }) => {
    const n = Number(event.data.n);
    const work = 20 + ((n * 37) % 80);
    const a = await step.run("a", () => effect("mixed", runId, "a", work, () => `a${n}`));
    const [p, q] = await Promise.all([
      step.run("p", () => effect("mixed", runId, "p", work, () => `p${n}`)),
      step.run("q", () => effect("mixed", runId, "q", work, () => `q${n}`)),
    ]);
    await step.sleep("nap", "1s");
    const go = await step.waitForEvent("go", {
      event: "faults/go",
      if: "async.data.n == event.data.n",
      timeout: "10m",
    });
    const c = await step.run("c", () => effect("mixed", runId, "c", work, () => `c${n}`));
    return { n, a, p, q, go: go ? String(go.data.token) : null, c };
  },
);

/** Scenario 5: a burst into `concurrency: 5`; the step bodies' overlap is what is measured. */
const burst = inngest.createFunction(
  { id: "burst", triggers: [{ event: "faults/burst" }], concurrency: 5, retries: 20 },
  async ({ event, step, runId }) => {
    const n = Number(event.data.n);
    await step.run("work", () => effect("burst", runId, "work", 5, () => n));
    return { n };
  },
);

/**
 * Scenario 6: a run of `fragile` gets the bad answer its event names (`data.fault`) on its first
 * call (the HTTP layer below answers it, see `badAnswer`), or its step misbehaves in the SDK's own
 * way (`error-500`, `huge`, `non-retriable`); later calls are answered by the SDK as usual.
 */
const fragile = inngest.createFunction(
  { id: "fragile", triggers: [{ event: "faults/fragile" }], retries: 3 },
  async ({ event, step, runId, attempt }) => {
    const fault = String(event.data.fault);
    const first = await step.run("first", () =>
      effect("fragile", runId, "first", 1, () => {
        if (fault === "error-500" && attempt === 0)
          throw new Error("fragile: attempt 0 fails on purpose");
        if (fault === "non-retriable") throw new NonRetriableError("fragile: never retried");
        if (fault === "huge") return "x".repeat(10 * 1024 * 1024);
        return `first-${fault}`;
      }),
    );
    const second = await step.run("second", () =>
      effect("fragile", runId, "second", 1, () => `second-${fault}`),
    );
    return { fault, first: fault === "huge" ? `${first.length} bytes` : first, second };
  },
);

/** Scenario 6's bystanders: runs that must keep moving while the bad answers are dealt with. */
const steady = inngest.createFunction(
  { id: "steady", triggers: [{ event: "faults/steady" }], retries: 3 },
  async ({ event, step, runId }) => {
    const n = Number(event.data.n);
    const one = await step.run("one", () => effect("steady", runId, "one", 5, () => n));
    const two = await step.run("two", () => effect("steady", runId, "two", 5, () => n + 1));
    return { n, sum: one + two };
  },
);

/**
 * Scenario 8: one step and a return value, both of which name the run's `n`. A run whose event
 * says `data.answer` (unsigned, tampered, stale) gets every answer spoiled on its way out (see
 * `spoil`); retries: 2 is three attempts, each refused, then the run fails.
 */
const guarded = inngest.createFunction(
  { id: "guarded", triggers: [{ event: "faults/guarded" }], retries: 2 },
  async ({ event, step, runId }) => {
    const n = Number(event.data.n);
    const value = await step.run("value", () =>
      effect("guarded", runId, "value", 1, () => `genuine-${n}`),
    );
    return { n, value };
  },
);

const handler = serve({
  client: inngest,
  functions: signingKey ? [guarded, steady] : [mixed, burst, fragile, steady],
});
const sdkHeaders = { "content-type": "application/json", "x-inngest-sdk": "inngest-js:v4.24.0" };
const callsByRun = new Map<string, number>();

/**
 * The first call of a `fragile` run whose fault is one of the HTTP layer's: answered here, wrongly,
 * instead of by the SDK. True when it answered.
 */
function badAnswer(fault: string, call: number, response: ServerResponse): boolean {
  if (call > 1) return false;
  switch (fault) {
    case "proxy-500":
      response.writeHead(500, { "content-type": "text/plain" }).end("502 bad gateway upstream");
      return true;
    case "hang":
      // Never answered: the server's call timeout must give up on it.
      return true;
    case "invalid-json":
      response.writeHead(206, sdkHeaders).end('[{"op": "StepRun", "id": ');
      return true;
    case "unknown-op":
      response.writeHead(206, sdkHeaders).end(JSON.stringify([{ op: "Teleport", id: "beam" }]));
      return true;
    case "reset":
      response.writeHead(206, { ...sdkHeaders, "content-length": "4096" });
      response.write('[{"op": "StepRun", "id": "');
      // Flushed, then the connection is cut mid-answer.
      setImmediate(() => response.socket?.resetAndDestroy());
      return true;
    default:
      return false;
  }
}

async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== "POST") return void handler(request, response);
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const call = JSON.parse(body.toString() || "{}") as {
    event?: { data?: { fault?: string } };
    ctx?: { run_id?: string };
  };
  const runId = call.ctx?.run_id ?? "";
  // When the server's call arrived, before the SDK spends any time on it (scenario 2's backoff).
  const url = new URL(request.url ?? "/", "http://app");
  record("call", url.searchParams.get("fnId") ?? "", runId, url.searchParams.get("stepId") ?? "");
  const count = (callsByRun.get(runId) ?? 0) + 1;
  callsByRun.set(runId, count);
  if (badAnswer(String(call.event?.data?.fault ?? ""), count, response)) return;
  // The body was read to look at it: the SDK gets it replayed, unchanged.
  const replay = Object.assign(Readable.from([body]), {
    headers: request.headers,
    method: request.method,
    url: request.url,
    socket: request.socket,
  });
  await handler(replay as unknown as IncomingMessage, response);
}

/**
 * Secure mode (scenario 8): the real SDK serves on an internal port, behind a small proxy that
 * passes everything through unchanged, except the answers to calls whose event names a spoiling
 * (`data.answer`): `unsigned` drops the SDK's x-inngest-signature, `tampered` changes the body after
 * the SDK signed it, `stale` signs the body again (correctly, with the key) as of 6 minutes ago.
 */
const SPOILINGS = new Set(["unsigned", "tampered", "stale"]);
const HOP_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding"]);
let sdkOrigin = "";

function spoil(mode: string, headers: Record<string, string>, text: string): string {
  if (mode === "unsigned") delete headers["x-inngest-signature"];
  if (mode === "tampered") {
    const changed = text.replaceAll("genuine", "tampered");
    return changed === text ? `${text} ` : changed;
  }
  if (mode === "stale") {
    const t = Math.floor(Date.now() / 1000) - 6 * 60;
    const mac = createHmac("sha256", (signingKey as string).replace(/^signkey-\w+-/, ""))
      .update(text + t)
      .digest("hex");
    headers["x-inngest-signature"] = `t=${t}&s=${mac}`;
  }
  return text;
}

async function proxied(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  let mode = "";
  if (request.method === "POST") {
    const call = JSON.parse(body.toString() || "{}") as {
      event?: { data?: { answer?: string } };
      ctx?: { run_id?: string };
    };
    const url = new URL(request.url ?? "/", "http://app");
    record("call", url.searchParams.get("fnId") ?? "", call.ctx?.run_id ?? "", "");
    mode = String(call.event?.data?.answer ?? "");
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers))
    if (typeof value === "string" && !HOP_HEADERS.has(name)) headers.set(name, value);
  const answered = await fetch(`${sdkOrigin}${request.url ?? "/"}`, {
    method: request.method ?? "GET",
    headers,
    ...(request.method === "GET" || request.method === "HEAD" ? {} : { body }),
  });
  const out: Record<string, string> = {};
  answered.headers.forEach((value, name) => {
    if (!HOP_HEADERS.has(name) && name !== "content-encoding") out[name] = value;
  });
  let text = await answered.text();
  if (SPOILINGS.has(mode)) text = spoil(mode, out, text);
  response.writeHead(answered.status, out).end(text);
}

if (signingKey) {
  const sdk = createServer((request, response) => void handler(request, response));
  await new Promise<void>((resolve) => sdk.listen(0, "127.0.0.1", resolve));
  sdkOrigin = `http://127.0.0.1:${(sdk.address() as AddressInfo).port}`;
}

createServer((request, response) => {
  (signingKey ? proxied : answer)(request, response).catch((error: unknown) => {
    response.writeHead(500, { "content-type": "text/plain" }).end(String(error));
  });
}).listen(port, "127.0.0.1", () => {
  console.log(`fault-app listening on ${port}`);
});
