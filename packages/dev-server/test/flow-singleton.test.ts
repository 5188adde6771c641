import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

describe("singleton", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-single",
      (inngest) => [
        inngest.createFunction(
          {
            id: "skip",
            triggers: [{ event: "one/skip" }],
            singleton: { key: "event.data.user", mode: "skip" },
          },
          async ({ event, step }) => {
            await step.sleep("hold", "1m");
            return event.data.n as number;
          },
        ),
        inngest.createFunction(
          { id: "cancel", triggers: [{ event: "one/cancel" }], singleton: { mode: "cancel" } },
          async ({ event, step }) => {
            await step.sleep("hold", "1m");
            return event.data.n as number;
          },
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  const sleepingRun = async (eventId: string) => {
    const run = await h.runOf(eventId);
    await h.waitForStep(run.run_id, (step) => step.op === "Sleep");
    return run;
  };

  it("mode skip: a new run of a key that has one running is skipped", async () => {
    const [first = ""] = await h.send([{ name: "one/skip", data: { user: "a", n: 1 } }]);
    const running = await sleepingRun(first);
    const [second = "", otherKey = ""] = await h.send([
      { name: "one/skip", data: { user: "a", n: 2 } },
      { name: "one/skip", data: { user: "b", n: 3 } },
    ]);
    expect((await h.waitForRuns(second))[0]?.status).toBe("Skipped");
    await sleepingRun(otherKey); // another key runs alongside
    await h.advance(60_000);
    expect(await h.waitForEnd(running.run_id)).toMatchObject({ status: "Completed", output: 1 });
    expect((await h.waitForRuns(otherKey))[0]).toMatchObject({ status: "Completed", output: 3 });
    // Once the key's run has ended, the key is free again.
    const [third = ""] = await h.send([{ name: "one/skip", data: { user: "a", n: 4 } }]);
    await sleepingRun(third);
    await h.advance(60_000);
    expect((await h.waitForRuns(third))[0]).toMatchObject({ status: "Completed", output: 4 });
  });

  it("mode cancel: a new run cancels the running one and takes its place", async () => {
    const [first = ""] = await h.send([{ name: "one/cancel", data: { n: 1 } }]);
    const old = await sleepingRun(first);
    const [second = ""] = await h.send([{ name: "one/cancel", data: { n: 2 } }]);
    expect((await h.waitForEnd(old.run_id)).status).toBe("Cancelled");
    const fresh = await sleepingRun(second);
    expect(fresh.status).toBe("Running");
    await h.advance(60_000);
    expect(await h.waitForEnd(fresh.run_id)).toMatchObject({ status: "Completed", output: 2 });
  });
});
