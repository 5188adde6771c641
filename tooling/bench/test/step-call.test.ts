import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createFunctions, createInngestClient } from "@repo/functions";
import { serve } from "inngest/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStepCalls, stepCallUrl, verifyStepCall } from "../src/measure";

// The real functions behind the real SDK adapter, as the floor serves them (dev mode, app id
// `bench-test`: see vitest.config.ts).
let server: Server;
let serveUrl: string;

beforeAll(async () => {
  const inngest = createInngestClient({ appId: "bench-test" });
  const functions = createFunctions({
    inngest,
    db: () => {
      throw new Error("the bench probe uses no database");
    },
  });
  const handler = serve({ client: inngest, functions: Object.values(functions) });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  serveUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/inngest`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

describe("the step call the bench loads", () => {
  it("is a real step: the SDK answers 206 with the first step's StepRun", async () => {
    await expect(verifyStepCall(serveUrl, "bench-test")).resolves.toBeUndefined();
  });

  it("is refused for an app id the server does not have (an error is not a step call)", async () => {
    await expect(verifyStepCall(serveUrl, "other-app")).rejects.toThrow(/expected 206.*got 500/s);
  });

  it("is loaded by autocannon with every response's latency", async () => {
    const result = await loadStepCalls(stepCallUrl(serveUrl, "bench-test"), {
      connections: 2,
      seconds: 1,
    });
    // No rate is asserted: under `pnpm test` every suite shares 2 cores, and a rate is the
    // bench's to print, not a test's to require. Calls were made, counted and timed.
    expect(result.calls).toBeGreaterThan(0);
    expect(result.callsPerSec).toBeGreaterThan(0);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  });

  it("fails the measurement when the server answers errors", async () => {
    await expect(
      loadStepCalls(stepCallUrl(serveUrl, "other-app"), { connections: 1, seconds: 1 }),
    ).rejects.toThrow(/non-2xx/);
  });
});
