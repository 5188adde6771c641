import { analyticsEvents, eventBatches, syncRuns, taskRuns } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, event, execute, useTestDatabase } from "../../test/support";

// The limits themselves are enforced by the Inngest server from each function's registered
// config: test/through-dev-server/flow-control.test.ts sends the events and checks them at work.
// Here, in process: the config each function registers, and the rows each run writes.
describe.each(drivers)("flow-control functions on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { processUserTask, recordPageViews, syncUserData } = database.functions;

  it("process-user-task is limited per user and records its work's start and end", async () => {
    expect(processUserTask.opts.concurrency).toEqual({ limit: 1, key: "event.data.userId" });

    const { result, error } = await execute(processUserTask, [
      event("app/task.created", { userId: "u1", taskId: "t1", durationMs: 150 }),
    ]);
    expect(error).toBeUndefined();
    const [row] = await database.db.select().from(taskRuns).where(eq(taskRuns.taskId, "t1"));
    expect(row).toMatchObject({ userId: "u1", runId: expect.stringMatching(/^[0-9A-Z]{26}$/) });
    const startedAt = row?.startedAt.getTime() ?? 0;
    const finishedAt = row?.finishedAt?.getTime() ?? 0;
    expect(finishedAt - startedAt).toBeGreaterThanOrEqual(140);
    expect(result).toEqual({
      taskId: "t1",
      startedAt: row?.startedAt.toISOString(),
      finishedAt: row?.finishedAt?.toISOString(),
    });
  });

  it("sync-user-data is rate limited per user and records each run once", async () => {
    expect(syncUserData.opts.rateLimit).toEqual({
      key: "event.data.userId",
      limit: 5,
      period: "1m",
    });

    const evt = event("app/user.sync.requested", { userId: "u2" }, { id: "sync-evt-1" });
    await execute(syncUserData, [evt]);
    await execute(syncUserData, [evt]);
    expect(await database.db.select().from(syncRuns)).toMatchObject([
      { eventId: "sync-evt-1", userId: "u2", runId: expect.stringMatching(/^[0-9A-Z]{26}$/) },
    ]);
  });

  it("record-page-views stores a whole batch in one run and records its size", async () => {
    expect(recordPageViews.opts.batchEvents).toEqual({ maxSize: 10, timeout: "5s" });

    const batch = ["/a", "/b", "/c"].map((path, index) =>
      event("app/page.viewed", { userId: index === 2 ? "u4" : "u3", path }),
    );
    const { result, error } = await execute(recordPageViews, batch);
    expect(error).toBeUndefined();
    expect(result).toEqual({ size: 3, inserted: 3 });

    const views = await database.db
      .select({ userId: analyticsEvents.userId, properties: analyticsEvents.properties })
      .from(analyticsEvents)
      .where(eq(analyticsEvents.name, "page.viewed"))
      .orderBy(analyticsEvents.id);
    expect(views).toEqual([
      { userId: "u3", properties: { path: "/a" } },
      { userId: "u3", properties: { path: "/b" } },
      { userId: "u4", properties: { path: "/c" } },
    ]);
    expect(await database.db.select().from(eventBatches)).toMatchObject([
      {
        runId: expect.stringMatching(/^[0-9A-Z]{26}$/),
        functionId: "record-page-views",
        size: 3,
        eventIds: batch.map((e) => e.id),
      },
    ]);

    // The same batch again (a retried run) stores no duplicate view.
    const again = await execute(recordPageViews, batch);
    expect(again.result).toEqual({ size: 3, inserted: 0 });
  });
});
