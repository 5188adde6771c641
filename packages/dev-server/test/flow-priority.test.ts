import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

const order: string[] = [];
let open: () => void = () => {};
const gate = new Promise<void>((resolve) => {
  open = resolve;
});

describe("priority", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-prio",
      (inngest) => [
        inngest.createFunction(
          {
            id: "ranked",
            triggers: [{ event: "prio/job" }],
            concurrency: 1,
            priority: { run: "event.data.priority" },
          },
          async ({ event, step }) =>
            step.run("work", async () => {
              // The first run holds the only slot until the test has queued the others.
              if (event.data.block) await gate;
              order.push(String(event.data.name));
            }),
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  it("starts waiting runs by priority, the highest first, then in arrival order", async () => {
    const [blocker = ""] = await h.send([
      { name: "prio/job", data: { name: "blocker", block: true, priority: 0 } },
    ]);
    const run = await h.runOf(blocker);
    await h.waitFor("the blocker's call", () => h.callsOf(run.run_id).length > 0);
    const ids: string[] = [];
    for (const [name, priority] of [
      ["low-1", 0],
      ["mid", 10],
      ["low-2", 0],
      ["high", 300],
      ["last", -10],
    ] as const) {
      ids.push(...(await h.send([{ name: "prio/job", data: { name, priority } }])));
    }
    for (const id of ids) await h.runOf(id);
    // None of them got a call: the slot is taken.
    expect(new Set(h.calls.map((call) => call.runId)).size).toBe(1);
    open();
    for (const id of [blocker, ...ids.slice(0, 4)]) await h.waitForRuns(id);
    expect(order).toEqual(["blocker", "high", "mid", "low-1", "low-2"]);
    // A negative priority delays the run by that many seconds (as in Go's queue).
    await h.idle();
    expect(order).toHaveLength(5);
    await h.advance(10_000);
    await h.waitForRuns(ids[4] ?? "");
    expect(order).toEqual(["blocker", "high", "mid", "low-1", "low-2", "last"]);
  });
});
