import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

interface BatchOutput {
  size: number;
  first: number;
  ns: number[];
}

describe("batchEvents", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-batch",
      (inngest) => [
        inngest.createFunction(
          {
            id: "views",
            triggers: [{ event: "batch/view" }],
            batchEvents: { maxSize: 100, timeout: "5s" },
          },
          async ({ event, events, step }) => {
            const ns = events.map(
              (each: { data: Record<string, unknown> }) => each.data.n as number,
            );
            await step.run("store", () => ns.length);
            return { size: events.length, first: event.data.n as number, ns };
          },
        ),
        inngest.createFunction(
          {
            id: "keyed",
            triggers: [{ event: "batch/keyed" }],
            batchEvents: {
              maxSize: 3,
              timeout: "10s",
              key: "event.data.user",
              if: "event.data.n >= 0",
            },
          },
          async ({ events }) =>
            events.map(
              (each: { data: Record<string, unknown> }) => `${each.data.user}${each.data.n}`,
            ),
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  const outputs = async (slug: string) =>
    (await h.runsOfFunction(slug)).reverse().map((run) => run.output as BatchOutput);

  it("250 events with maxSize 100 run as 100, 100, then 50 on the timeout", async () => {
    const ids = await h.send(
      Array.from({ length: 250 }, (_, n) => ({ name: "batch/view", data: { n } })),
    );
    await h.waitFor("two full batches", async () => {
      const runs = await h.runsOfFunction("flow-batch-views");
      return runs.length === 2 && runs.every((run) => run.status === "Completed");
    });
    await h.idle();
    // The last 50 wait for their timeout: no third run before the clock moves.
    expect(await h.runsOfFunction("flow-batch-views")).toHaveLength(2);
    expect(await h.runsOf(ids[249] ?? "")).toEqual([]);

    await h.advance(4_999);
    expect(await h.runsOfFunction("flow-batch-views")).toHaveLength(2);
    await h.advance(1);
    const [last] = await h.waitForRuns(ids[249] ?? "");
    expect(last?.status).toBe("Completed");
    const batches = await outputs("flow-batch-views");
    expect(batches.map((batch) => batch.size)).toEqual([100, 100, 50]);
    expect(batches.map((batch) => batch.first)).toEqual([0, 100, 200]);
    // Every event in exactly one batch, in order; `event` is the batch's first.
    expect(batches.flatMap((batch) => batch.ns)).toEqual(Array.from({ length: 250 }, (_, n) => n));
    // Each event lists the run of its batch.
    expect((await h.runsOf(ids[150] ?? ""))[0]?.output).toMatchObject({ first: 100 });
  });

  it("keeps a buffer per key, and runs events failing `if` unbatched at once", async () => {
    await h.send([
      { name: "batch/keyed", data: { user: "a", n: 1 } },
      { name: "batch/keyed", data: { user: "b", n: 1 } },
      { name: "batch/keyed", data: { user: "a", n: 2 } },
      { name: "batch/keyed", data: { user: "a", n: -1 } },
      { name: "batch/keyed", data: { user: "a", n: 3 } },
    ]);
    await h.waitFor("the full batch of a and the unbatched event", async () => {
      const runs = await h.runsOfFunction("flow-batch-keyed");
      return runs.length === 2 && runs.every((run) => run.status === "Completed");
    });
    expect(await outputs("flow-batch-keyed")).toEqual(
      expect.arrayContaining([["a-1"], ["a1", "a2", "a3"]]),
    );
    await h.advance(10_000);
    await h.waitFor("b's batch on its timeout", async () => {
      const runs = await h.runsOfFunction("flow-batch-keyed");
      return runs.length === 3 && runs.every((run) => run.status === "Completed") && runs;
    });
    expect(await outputs("flow-batch-keyed")).toContainEqual(["b1"]);
  });
});
