import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

// Counted inside the app's own step code: the truth of how many steps really ran at once.
const active = new Map<string, number>();
const maxActive = new Map<string, number>();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function tracked<T>(key: string, work: () => T): Promise<T> {
  const now = (active.get(key) ?? 0) + 1;
  active.set(key, now);
  maxActive.set(key, Math.max(maxActive.get(key) ?? 0, now));
  try {
    // Long enough that two calls of a key always overlap when the limit lets them, even on a
    // loaded machine.
    await pause(40);
    return work();
  } finally {
    active.set(key, (active.get(key) ?? 1) - 1);
  }
}

describe("concurrency", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "flow-conc",
      (inngest) => [
        inngest.createFunction(
          {
            id: "limited",
            triggers: [{ event: "conc/task" }],
            concurrency: { limit: 2, key: "event.data.user" },
          },
          async ({ event, step }) => {
            const user = String(event.data.user);
            const a = await step.run("a", () => tracked(user, () => event.data.n as number));
            const b = await step.run("b", () => tracked(user, () => a * 2));
            return { b };
          },
        ),
        inngest.createFunction(
          {
            id: "two-limits",
            triggers: [{ event: "conc/both" }],
            // One at a time per user, and two at a time across all users.
            concurrency: [{ limit: 1, key: "event.data.user" }, { limit: 2 }],
          },
          async ({ event, step }) => {
            const user = `both-${event.data.user}`;
            return step.run("only", () =>
              tracked("both-all", () => tracked(user, () => event.data.n as number)),
            );
          },
        ),
        inngest.createFunction(
          {
            id: "one-at-a-time",
            triggers: [{ event: "conc/sleepy" }],
            concurrency: 1,
          },
          async ({ event, step }) => {
            await step.run("before", () => event.data.n);
            if (event.data.sleep) await step.sleep("nap", "1h");
            return await step.run("after", () => event.data.n);
          },
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  it("runs at most `limit` steps at once per key, and completes every run", async () => {
    const events = Array.from({ length: 200 }, (_, n) => ({
      name: "conc/task",
      data: { user: `u${n % 5}`, n },
    }));
    const ids = await h.send(events);
    expect(ids).toHaveLength(200);
    const runs = await h.waitFor(
      "200 completed runs",
      async () => {
        const all = await h.api<{ status: string; output: unknown }[]>(
          "/v1/runs?function_id=flow-conc-limited&limit=500",
        );
        return all.length === 200 && all.every((run) => run.status === "Completed") && all;
      },
      180_000,
    );
    expect(runs).toHaveLength(200);
    const outputs = runs.map((run) => (run.output as { b: number }).b).sort((x, y) => x - y);
    expect(outputs).toEqual(Array.from({ length: 200 }, (_, n) => n * 2));
    // Exactly 2: never more (the limit holds), and the limit was really used (not serialized).
    expect(Object.fromEntries(maxActive)).toEqual({ u0: 2, u1: 2, u2: 2, u3: 2, u4: 2 });
  }, 200_000);

  it("holds two limits at once: per key and across the function", async () => {
    const ids = await h.send(
      Array.from({ length: 24 }, (_, n) => ({ name: "conc/both", data: { user: n % 4, n } })),
    );
    const runs = await Promise.all(
      ids.map(async (id) => (await h.waitForRuns(id, { timeoutMs: 60_000 }))[0]),
    );
    expect(runs.map((run) => run?.output)).toEqual(Array.from({ length: 24 }, (_, n) => n));
    expect(maxActive.get("both-all")).toBe(2);
    expect([0, 1, 2, 3].map((user) => maxActive.get(`both-${user}`))).toEqual([1, 1, 1, 1]);
  }, 180_000);

  it("gives no slot to a sleeping run: another run of the key completes meanwhile", async () => {
    const [sleeper = ""] = await h.send([{ name: "conc/sleepy", data: { n: 1, sleep: true } }]);
    const sleeping = await h.runOf(sleeper);
    await h.waitForStep(sleeping.run_id, (step) => step.op === "Sleep");
    const [other = ""] = await h.send([{ name: "conc/sleepy", data: { n: 2, sleep: false } }]);
    const [done] = await h.waitForRuns(other);
    expect(done).toMatchObject({ status: "Completed", output: 2 });
    expect((await h.run(sleeping.run_id)).status).toBe("Running");
    await h.advance(3600_000);
    expect(await h.waitForEnd(sleeping.run_id)).toMatchObject({ status: "Completed", output: 1 });
  });
});
