import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, type RunJson, startHarness } from "./harness";

describe("rateLimit and idempotency", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-rl",
      (inngest) => [
        inngest.createFunction(
          {
            id: "limited",
            triggers: [{ event: "rl/sync" }],
            rateLimit: { limit: 5, period: "1m", key: "event.data.user" },
          },
          async ({ event, step }) => step.run("work", () => event.data.n as number),
        ),
        inngest.createFunction(
          { id: "once", triggers: [{ event: "rl/order" }], idempotency: "event.data.orderId" },
          async ({ event }) => event.data.n as number,
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  const runsOfEvents = async (ids: string[]) => {
    const runs: RunJson[] = [];
    for (const id of ids) runs.push(...(await h.waitForRuns(id)));
    return runs;
  };

  it("5 per minute: one run at once, the rest Skipped; then one more every 12 s", async () => {
    const ids = await h.send(
      Array.from({ length: 6 }, (_, n) => ({ name: "rl/sync", data: { user: "a", n } })),
    );
    const runs = await runsOfEvents(ids);
    expect(runs).toHaveLength(6);
    const completed = runs.filter((run) => run.status === "Completed");
    const skipped = runs.filter((run) => run.status === "Skipped");
    // Inngest's burst for a rate limit is floor(limit / 10): 0 here, so one run at once.
    expect(completed.map((run) => run.output)).toEqual([0]);
    expect(skipped).toHaveLength(5);
    const [why] = await h.timeline(skipped[0]?.run_id ?? "");
    expect(why).toMatchObject({ op: "RunSkipped" });
    expect(JSON.stringify(why?.output)).toContain("rate limited");
    // Skipped, not lost: every event is stored and listed.
    expect((await h.events("rl/sync")).length).toBe(6);
    // Another key has its own budget.
    const [other = ""] = await h.send([{ name: "rl/sync", data: { user: "b", n: 100 } }]);
    expect((await h.waitForRuns(other))[0]).toMatchObject({ status: "Completed", output: 100 });

    // period / limit = 12 s on the virtual clock: not a moment before, one more run.
    await h.advance(11_999);
    const [early = ""] = await h.send([{ name: "rl/sync", data: { user: "a", n: 20 } }]);
    expect((await h.waitForRuns(early))[0]).toMatchObject({ status: "Skipped" });
    await h.advance(1);
    const onTime = await h.send(
      Array.from({ length: 2 }, (_, n) => ({ name: "rl/sync", data: { user: "a", n: 30 + n } })),
    );
    const again = await runsOfEvents(onTime);
    expect(again.map((run) => [run.status, run.output])).toEqual([
      ["Completed", 30],
      ["Skipped", null],
    ]);
  });

  it("idempotency: at most one run per key in 24 h", async () => {
    const ids = await h.send([
      { name: "rl/order", data: { orderId: "o1", n: 1 } },
      { name: "rl/order", data: { orderId: "o1", n: 2 } },
      { name: "rl/order", data: { orderId: "o2", n: 3 } },
    ]);
    await h.send([{ name: "rl/order", data: { orderId: "o1", n: 4 } }]);
    await h.idle();
    await h.waitFor("2 completed runs of once", async () => {
      const runs = await h.runsOfFunction("flow-rl-once");
      return runs.length === 2 && runs.every((run) => run.status === "Completed");
    });
    const runs = await h.runsOfFunction("flow-rl-once");
    expect(runs.map((run) => run.output).sort()).toEqual([1, 3]);
    expect(await h.runsOf(ids[1] ?? "")).toEqual([]);

    await h.advance(24 * 3600_000 + 1000);
    const [next = ""] = await h.send([{ name: "rl/order", data: { orderId: "o1", n: 5 } }]);
    expect((await h.waitForRuns(next))[0]).toMatchObject({ status: "Completed", output: 5 });
  });
});
