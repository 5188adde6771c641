import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

describe("timeouts", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-timeouts",
      (inngest) => [
        inngest.createFunction(
          {
            id: "start",
            triggers: [{ event: "to/start" }],
            // One start a minute: the second run waits longer than its start timeout allows.
            throttle: { limit: 1, period: "1m" },
            timeouts: { start: "10s" },
          },
          async ({ event, step }) => {
            await step.sleep("nap", "30s"); // started in time: the start timeout is over
            return event.data.n as number;
          },
        ),
        inngest.createFunction(
          { id: "finish", triggers: [{ event: "to/finish" }], timeouts: { finish: "30s" } },
          async ({ event, step }) => {
            await step.run("begin", () => "ok");
            await step.sleep("nap", event.data.nap as string);
            return event.data.n as number;
          },
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  it("start: a run not started within the timeout is cancelled, never called", async () => {
    const [first = "", second = ""] = await h.send([
      { name: "to/start", data: { n: 1 } },
      { name: "to/start", data: { n: 2 } },
    ]);
    const started = await h.runOf(first);
    const waiting = await h.runOf(second);
    await h.waitForStep(started.run_id, (step) => step.op === "Sleep");
    await h.advance(9_999);
    expect((await h.run(waiting.run_id)).status).toBe("Running");
    await h.advance(1);
    expect((await h.waitForEnd(waiting.run_id)).status).toBe("Cancelled");
    expect(h.callsOf(waiting.run_id)).toEqual([]);
    await h.advance(20_000);
    expect(await h.waitForEnd(started.run_id)).toMatchObject({ status: "Completed", output: 1 });
  });

  it("finish: a run still going after the timeout is cancelled; a quicker one completes", async () => {
    const [slow = "", quick = ""] = await h.send([
      { name: "to/finish", data: { n: 1, nap: "1m" } },
      { name: "to/finish", data: { n: 2, nap: "20s" } },
    ]);
    const slowRun = await h.runOf(slow);
    const quickRun = await h.runOf(quick);
    await h.waitForStep(slowRun.run_id, (step) => step.op === "Sleep");
    await h.waitForStep(quickRun.run_id, (step) => step.op === "Sleep");
    await h.advance(20_000);
    expect(await h.waitForEnd(quickRun.run_id)).toMatchObject({ status: "Completed", output: 2 });
    expect((await h.run(slowRun.run_id)).status).toBe("Running");
    await h.advance(10_000);
    expect((await h.waitForEnd(slowRun.run_id)).status).toBe("Cancelled");
    const events = await h.events("inngest/function.cancelled");
    expect(events.some((event) => event.data.run_id === slowRun.run_id)).toBe(true);
  });
});
