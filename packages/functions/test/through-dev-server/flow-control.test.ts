import { eventBatches, syncRuns, taskRuns } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, useDevServerStack } from "./support";

// The limits are enforced by the Inngest server from each function's registered config: these
// tests send the events and check what the functions were let to do.
describe.each(drivers)("flow control through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  const runsEnded = (functionId: string, count: number) =>
    stack.waitFor(`${count} ended run(s) of ${functionId}`, async () => {
      const runs = await stack.runsOfFunction(functionId);
      return runs.length >= count && runs.every((run) => run.status !== "Running")
        ? runs
        : undefined;
    });

  it("process-user-task runs one task of a user at a time, and another user's alongside", async () => {
    const task = (userId: string, taskId: string) =>
      stack.send({ name: "app/task.created", data: { userId, taskId, durationMs: 150 } });
    await Promise.all([task("u-one", "t1"), task("u-one", "t2"), task("u-one", "t3")]);
    await task("u-two", "t4");
    await runsEnded("process-user-task", 4);

    const rows = await stack.db.select().from(taskRuns).orderBy(asc(taskRuns.startedAt));
    const ofOne = rows.filter((row) => row.userId === "u-one");
    expect(ofOne).toHaveLength(3);
    // Never two of one user's tasks at once: each starts after the previous one finished.
    for (let i = 1; i < ofOne.length; i++) {
      const previous = ofOne[i - 1];
      const current = ofOne[i];
      expect(current?.startedAt.getTime()).toBeGreaterThanOrEqual(
        previous?.finishedAt?.getTime() ?? Number.POSITIVE_INFINITY,
      );
    }
    expect(rows.filter((row) => row.userId === "u-two")).toHaveLength(1);
  });

  it("sync-user-data starts one run of a user at once, then one every 12 s; other users are not held up", async () => {
    const sync = (userId: string) =>
      stack.send({ name: "app/user.sync.requested", data: { userId } });
    for (let i = 0; i < 7; i++) await sync("u-limited");
    await sync("u-free");
    await stack.advance(0);
    // 8 runs: 2 completed (one per user), 6 Skipped by the rate limit.
    const runs = await runsEnded("sync-user-data", 8);
    expect(runs.filter((run) => run.status === "Skipped")).toHaveLength(6);
    const rowsOf = async (userId: string) =>
      (await stack.db.select().from(syncRuns).where(eq(syncRuns.userId, userId))).length;
    expect(await rowsOf("u-limited")).toBe(1);
    expect(await rowsOf("u-free")).toBe(1);

    // 5 per minute is one every 12 s: not a moment before.
    await stack.advance(11_000);
    await sync("u-limited");
    await stack.advance(0);
    await runsEnded("sync-user-data", 9);
    expect(await rowsOf("u-limited")).toBe(1);
    await stack.advance(1_000);
    await sync("u-limited");
    await stack.advance(0);
    await stack.waitFor("the second sync of u-limited", async () =>
      (await rowsOf("u-limited")) === 2 ? true : undefined,
    );
  });

  it("record-page-views takes up to 10 views per run, and a smaller batch after 5 s", async () => {
    const view = (n: number) =>
      stack.send({ name: "app/page.viewed", data: { userId: "u-views", path: `/p/${n}` } });
    for (let n = 0; n < 12; n++) await view(n);
    const full = await stack.waitFor("a full batch", async () => {
      const batches = await stack.db.select().from(eventBatches);
      return batches.find((batch) => batch.size === 10);
    });
    expect(full.eventIds).toHaveLength(10);

    // The other two wait for the batch's timeout on the virtual clock.
    await stack.advance(5_000);
    const sizes = await stack.waitFor("the second batch", async () => {
      const batches = await stack.db.select().from(eventBatches);
      return batches.length === 2
        ? batches.map((batch) => batch.size).sort((a, b) => a - b)
        : undefined;
    });
    expect(sizes).toEqual([2, 10]);
  });
});
