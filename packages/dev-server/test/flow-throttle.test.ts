import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

describe("throttle", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-throttle",
      (inngest) => [
        inngest.createFunction(
          {
            id: "spaced",
            triggers: [{ event: "th/go" }],
            throttle: { limit: 1, period: "10s", key: "event.data.user" },
          },
          async ({ event, step }) => step.run("work", () => event.data.n as number),
        ),
        inngest.createFunction(
          {
            id: "bursty",
            triggers: [{ event: "th/burst" }],
            throttle: { limit: 2, period: "8s", burst: 1 },
          },
          async ({ event }) => event.data.n as number,
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  const startedRuns = (fnId: string) =>
    new Set(h.calls.filter((call) => call.fnId === fnId).map((call) => call.runId)).size;

  it("delays run starts to the limit, and starts every run eventually", async () => {
    const ids = await h.send(
      Array.from({ length: 5 }, (_, n) => ({ name: "th/go", data: { user: "a", n } })),
    );
    const [other = ""] = await h.send([{ name: "th/go", data: { user: "b", n: 9 } }]);
    await h.waitForRuns(ids[0] ?? "");
    await h.waitForRuns(other); // another key is not held back by a's
    await h.idle();
    const fnId = "flow-throttle-spaced";
    expect(startedRuns(fnId)).toBe(2);
    // One more start per 10 s of virtual time, never earlier.
    for (let started = 3; started <= 6; started++) {
      await h.advance(9_999);
      expect(startedRuns(fnId)).toBe(started - 1);
      await h.advance(1);
      await h.waitFor(`run start ${started}`, () => startedRuns(fnId) === started);
    }
    const runs = await Promise.all(ids.map(async (id) => (await h.waitForRuns(id))[0]));
    expect(runs.map((run) => [run?.status, run?.output])).toEqual(
      [0, 1, 2, 3, 4].map((n) => ["Completed", n]),
    );
  });

  it("lets limit + burst runs start at once, then one every period / limit", async () => {
    // Measured on Inngest: limit 2 per 8 s, burst 1, 5 events at once start at 0, 0, 0, 4 s, 8 s.
    const ids = await h.send(
      Array.from({ length: 5 }, (_, n) => ({ name: "th/burst", data: { n } })),
    );
    await h.waitForRuns(ids[2] ?? "");
    await h.idle();
    expect(startedRuns("flow-throttle-bursty")).toBe(3);
    await h.advance(3_999);
    expect(startedRuns("flow-throttle-bursty")).toBe(3);
    await h.advance(1);
    await h.waitFor("the 4th start", () => startedRuns("flow-throttle-bursty") === 4);
    await h.advance(4_000);
    await h.waitForRuns(ids[4] ?? "");
    expect(startedRuns("flow-throttle-bursty")).toBe(5);
  });
});
