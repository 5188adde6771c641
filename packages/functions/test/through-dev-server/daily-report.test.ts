import {
  analyticsEvents,
  datasets,
  emailOutbox,
  type ReportStats,
  reports,
  users,
  webhookLog,
} from "@repo/db";
import { describe, expect, it } from "vitest";
import { DAILY_REPORT_SCHEDULE } from "../../src/functions/daily-report";
import { CLOCK_START, drivers, useDevServerStack } from "./support";

const HOUR = 3_600_000;
/** The first 09:00 UTC after the virtual clock's start (noon UTC the day before). */
const TICK = Date.parse("2030-06-15T09:00:00.000Z");
const PERIOD_START = TICK - 24 * HOUR;
const at = (ms: number) => new Date(ms);

describe.each(drivers)("daily-report cron through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  /**
   * Activity around the reported day [tick - 24 h, tick): what falls inside is counted, what falls
   * just outside (either edge) is not. Timestamps are set explicitly: the report covers the tick's
   * period on the virtual clock, not whatever the wall clock says.
   */
  async function seedActivity() {
    const first = PERIOD_START; // the period's start is inside
    const during = PERIOD_START + 6 * HOUR;
    const last = TICK - 1;
    const justBefore = PERIOD_START - 1;
    const atTick = TICK; // the period's end is not
    await stack.db.insert(users).values([
      { id: "u-first", email: "first@example.com", name: "First", createdAt: at(first) },
      { id: "u-last", email: "last@example.com", name: "Last", createdAt: at(last) },
      { id: "u-before", email: "before@example.com", name: "Before", createdAt: at(justBefore) },
      { id: "u-after", email: "after@example.com", name: "After", createdAt: at(atTick) },
    ]);
    await stack.db.insert(emailOutbox).values([
      {
        dedupeKey: "in",
        recipient: "a@example.com",
        template: "welcome",
        payload: {},
        sentAt: at(during),
      },
      {
        dedupeKey: "out",
        recipient: "a@example.com",
        template: "welcome",
        payload: {},
        sentAt: at(justBefore),
      },
    ]);
    const webhook = (status: "received" | "processed" | "failed", processedAt: number | null) => ({
      source: "stripe",
      payload: "{}",
      signatureValid: true,
      status,
      processedAt: processedAt === null ? null : at(processedAt),
    });
    await stack.db
      .insert(webhookLog)
      .values([
        webhook("processed", first),
        webhook("processed", last),
        webhook("failed", during),
        webhook("processed", atTick),
        webhook("received", null),
      ]);
    const dataset = (
      id: string,
      status: "stored" | "failed",
      recordCount: number,
      completedAt: number,
    ) => ({
      id,
      name: id,
      uploadedBy: "a@example.com",
      status,
      recordCount,
      completedAt: at(completedAt),
    });
    await stack.db
      .insert(datasets)
      .values([
        dataset("ds-a", "stored", 3, during),
        dataset("ds-b", "stored", 4, last),
        dataset("ds-failed", "failed", 0, during),
        dataset("ds-old", "stored", 100, justBefore),
      ]);
    await stack.db.insert(analyticsEvents).values([
      { dedupeKey: "a1", userId: "u-first", name: "user.signed_up", occurredAt: at(first) },
      { dedupeKey: "a2", userId: "u-last", name: "page.viewed", occurredAt: at(during) },
      { dedupeKey: "a3", userId: "u-after", name: "user.signed_up", occurredAt: at(atTick) },
    ]);
  }

  const expected: ReportStats = {
    signups: 2,
    emailsSent: 1,
    webhooksProcessed: 2,
    webhooksFailed: 1,
    datasetsStored: 2,
    recordsStored: 7,
    analyticsEvents: 2,
  };

  it("fires once at 09:00 UTC and stores one report of the 24 h before the tick", async () => {
    expect((await stack.clock()).getTime()).toBe(CLOCK_START);
    await seedActivity();

    // Up to a millisecond before the tick, nothing fires.
    await stack.advanceTo(at(TICK - 1));
    expect(await stack.runsOfFunction("daily-report")).toEqual([]);
    expect(await stack.eventsNamed("inngest/scheduled.timer")).toEqual([]);

    await stack.advanceTo(at(TICK + 60_000));
    const [timer, ...moreTimers] = await stack.eventsNamed("inngest/scheduled.timer");
    expect(moreTimers).toEqual([]);
    expect(timer).toMatchObject({
      ts: TICK,
      data: { cron: DAILY_REPORT_SCHEDULE, scheduledAt: at(TICK).toISOString() },
    });
    const run = await stack.onlyRunOf(timer?.internal_id ?? "");
    expect(run).toMatchObject({ cron: DAILY_REPORT_SCHEDULE });
    expect(await stack.slugOf(run)).toBe(stack.slug("daily-report"));
    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { reportDate: "2030-06-15", created: true, stats: expected },
    });
    expect((await stack.runsOfFunction("daily-report")).map((each) => each.run_id)).toEqual([
      run.run_id,
    ]);

    const stored = await stack.db.select().from(reports);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      reportDate: "2030-06-15",
      periodStart: at(PERIOD_START),
      periodEnd: at(TICK),
      stats: expected,
    });
  });
});
