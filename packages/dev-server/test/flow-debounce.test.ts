import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

describe("debounce", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-debounce",
      (inngest) => [
        inngest.createFunction(
          {
            id: "settle",
            triggers: [{ event: "db/change" }],
            debounce: { period: "5s", key: "event.data.doc" },
          },
          async ({ event }) => event.data.n as number,
        ),
        inngest.createFunction(
          {
            id: "capped",
            triggers: [{ event: "db/capped" }],
            debounce: { period: "5s", timeout: "8s" },
          },
          async ({ event }) => event.data.n as number,
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  it("a burst of 10 starts one run, with the 10th event, a period after it", async () => {
    const ids: string[] = [];
    for (let n = 1; n <= 10; n++) {
      ids.push(...(await h.send([{ name: "db/change", data: { doc: "d1", n } }])));
      await h.advance(1_000); // each event restarts the 5 s period
    }
    const [otherDoc = ""] = await h.send([{ name: "db/change", data: { doc: "d2", n: 99 } }]);
    await h.advance(3_999);
    await h.idle();
    expect(await h.runsOfFunction("flow-debounce-settle")).toEqual([]);
    await h.advance(1);
    const [run] = await h.waitForRuns(ids[9] ?? "");
    expect(run).toMatchObject({ status: "Completed", output: 10 });
    for (const id of ids.slice(0, 9)) expect(await h.runsOf(id)).toEqual([]);
    // Every event is stored, though only the last one ran.
    expect((await h.events("db/change")).length).toBe(11);
    // Another key debounces on its own: its period ends a second later.
    await h.advance(1_000);
    expect((await h.waitForRuns(otherDoc))[0]).toMatchObject({ output: 99 });
    expect(await h.runsOfFunction("flow-debounce-settle")).toHaveLength(2);
  });

  it("`timeout` caps the total delay after the first event", async () => {
    const ids: string[] = [];
    for (let n = 0; n < 4; n++) {
      if (n > 0) await h.advance(2_000);
      ids.push(...(await h.send([{ name: "db/capped", data: { n } }])));
    }
    // Events at 0, 2, 4, 6 s: the period alone would end at 11 s; the timeout ends it at 8 s.
    await h.advance(1_999);
    expect(await h.runsOfFunction("flow-debounce-capped")).toEqual([]);
    await h.advance(1);
    const [run] = await h.waitForRuns(ids[3] ?? "");
    expect(run).toMatchObject({ status: "Completed", output: 3 });
    expect(await h.runsOfFunction("flow-debounce-capped")).toHaveLength(1);
  });
});
