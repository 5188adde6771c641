import { testDrivers } from "@repo/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventJson, type Harness, startHarness } from "./harness";

/**
 * Runs outlive a missing app: while the app is down (connection refused) or a proxy in front of it
 * answers 5xx, the run waits and retries with backoff, never failing and never lost, and goes on
 * once the app answers again. And test mode's reset forgets every run, event and queued job.
 */

const BASE_MS = 1000;

/** Side effects of step bodies, by test key: how many times each really ran. */
const executions = new Map<string, number>();
const ran = (key: string) => executions.set(key, (executions.get(key) ?? 0) + 1);
const timesRan = (key: string) => executions.get(key) ?? 0;

const drivers = await testDrivers();

describe.each(drivers)("a missing app, and reset on %s", (driver) => {
  let h: Harness;
  beforeAll(async () => {
    executions.clear();
    h = await startHarness(
      "resilience",
      (inngest) => [
        inngest.createFunction(
          { id: "napper", triggers: [{ event: "t/napper" }] },
          async ({ event, step }) => {
            const key = String(event.data.key);
            const a = await step.run("a", () => {
              ran(`${key}:a`);
              return "A";
            });
            await step.sleep("nap", "1m");
            const b = await step.run("b", () => {
              ran(`${key}:b`);
              return "B";
            });
            return a + b;
          },
        ),
      ],
      { driver, testMode: true, retry: { baseMs: BASE_MS, maxMs: 60_000 } },
    );
  });
  afterAll(() => h?.close());

  const sleepingRun = async (key: string) => {
    const [eventId = ""] = await h.send([{ name: "t/napper", data: { key } }]);
    const run = await h.runOf(eventId);
    await h.waitForStep(run.run_id, (step) => step.op === "Sleep");
    await h.idle();
    return run;
  };

  const discoveryJob = async (runId: string) => {
    const jobs = await h.jobs(runId);
    expect(jobs).toHaveLength(1);
    return jobs[0];
  };

  it("keeps a run waiting while its app is down, past any retry limit, and resumes it when the app is back", async () => {
    const run = await sleepingRun("down");
    await h.stopApp();
    try {
      await h.advance(60_000); // the sleep ends; the app refuses the call
      const now = await h.now();
      expect(await discoveryJob(run.run_id)).toMatchObject({
        attempt: 0,
        dueAt: now + BASE_MS,
        data: { unreachable: 1, lastError: expect.stringContaining("ECONNREFUSED") },
      });
      // 1+2+4+8+16+30+30 s: seven more refused calls, more than the function's 5 attempts.
      await h.advance(91_000);
      expect((await h.run(run.run_id)).status).toBe("Running");
      expect(await discoveryJob(run.run_id)).toMatchObject({
        attempt: 0,
        data: { unreachable: 8 },
      });
      // The run's timeline says why it waits: once, not at each of the eight retries.
      const waits = (await h.timeline(run.run_id)).filter(
        (step) => step.error?.name === "AppUnreachable",
      );
      expect(waits).toHaveLength(1);
      expect(waits[0]).toMatchObject({ op: "FunctionError", attempt: 0 });
      expect(waits[0]?.error?.message).toMatch(/ECONNREFUSED; retrying until the app answers/);
    } finally {
      await h.startApp();
    }
    await h.advance(30_000);
    expect(await h.waitForEnd(run.run_id)).toMatchObject({ status: "Completed", output: "AB" });
    expect([timesRan("down:a"), timesRan("down:b")]).toEqual([1, 1]);
  });

  it("keeps a run waiting while the app's host answers 5xx without the SDK", async () => {
    const run = await sleepingRun("proxy");
    h.breakApp(502);
    try {
      await h.advance(60_000);
      expect(await discoveryJob(run.run_id)).toMatchObject({
        attempt: 0,
        data: { unreachable: 1, lastError: expect.stringContaining("502") },
      });
      await h.advance(60_000);
      expect((await h.run(run.run_id)).status).toBe("Running");
      const [wait] = (await h.timeline(run.run_id)).filter(
        (step) => step.error?.name === "AppUnreachable",
      );
      expect(wait?.error?.message).toMatch(/app answered 502 without the Inngest SDK/);
    } finally {
      h.breakApp(null);
    }
    await h.advance(30_000);
    expect(await h.waitForEnd(run.run_id)).toMatchObject({ status: "Completed", output: "AB" });
    expect([timesRan("proxy:a"), timesRan("proxy:b")]).toEqual([1, 1]);
  });

  it("forgets runs, events and queued jobs on POST /test/reset, and keeps the functions", async () => {
    const run = await sleepingRun("reset");
    expect(await h.jobs(run.run_id)).toHaveLength(1);
    await h.reset();

    await expect(h.run(run.run_id)).rejects.toThrow(/404/);
    expect(await h.api<EventJson[]>("/v1/events")).toEqual([]);
    expect(await h.api("/v1/runs")).toEqual([]);
    expect(await h.server.store.loadQueue()).toEqual([]);
    await h.advance(60_000);
    expect(timesRan("reset:b")).toBe(0);

    const [eventId = ""] = await h.send([{ name: "t/napper", data: { key: "after-reset" } }]);
    const fresh = await h.runOf(eventId);
    await h.waitForStep(fresh.run_id, (step) => step.op === "Sleep");
    await h.advance(60_000);
    expect(await h.waitForEnd(fresh.run_id)).toMatchObject({ status: "Completed", output: "AB" });
  });
});
