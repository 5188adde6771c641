import { analyticsEvents, datasets, emailOutbox, reports, users, webhookLog } from "@repo/db";
import { describe, expect, it } from "vitest";
import { drivers, event, execute, useTestDatabase } from "../../test/support";
import { reportPeriod } from "../reports";
import { DAILY_REPORT_SCHEDULE } from "./daily-report";

const tick = Date.parse("2026-11-20T09:00:00.000Z");
const hoursBefore = (hours: number) => new Date(tick - hours * 3600_000);

describe("reportPeriod", () => {
  it("covers the 24 hours before the tick, named by the tick's date", () => {
    expect(reportPeriod(new Date(tick))).toEqual({
      reportDate: "2026-11-20",
      periodStart: new Date("2026-11-19T09:00:00.000Z"),
      periodEnd: new Date(tick),
    });
  });
});

describe.each(drivers)("daily-report on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { dailyReport } = database.functions;

  it("is scheduled at 09:00 every day", () => {
    expect(DAILY_REPORT_SCHEDULE).toBe("0 9 * * *");
    expect(dailyReport.opts.triggers).toEqual([{ cron: "0 9 * * *" }]);
  });

  it("aggregates the last day's activity, ignoring what is older or newer", async () => {
    const db = database.db;
    await db.insert(users).values([
      { id: "in-1", email: "a@example.com", name: "A", createdAt: hoursBefore(1) },
      { id: "in-2", email: "b@example.com", name: "B", createdAt: hoursBefore(23) },
      { id: "old", email: "c@example.com", name: "C", createdAt: hoursBefore(25) },
      { id: "new", email: "d@example.com", name: "D", createdAt: hoursBefore(-1) },
    ]);
    await db.insert(emailOutbox).values([
      {
        dedupeKey: "e1",
        recipient: "a@example.com",
        template: "welcome",
        payload: {},
        sentAt: hoursBefore(2),
      },
      {
        dedupeKey: "e2",
        recipient: "b@example.com",
        template: "welcome",
        payload: {},
        sentAt: hoursBefore(30),
      },
    ]);
    await db.insert(webhookLog).values([
      {
        source: "s",
        payload: "{}",
        signatureValid: true,
        status: "processed",
        processedAt: hoursBefore(3),
      },
      {
        source: "s",
        payload: "{}",
        signatureValid: true,
        status: "processed",
        processedAt: hoursBefore(4),
      },
      {
        source: "s",
        payload: "{}",
        signatureValid: true,
        status: "failed",
        processedAt: hoursBefore(5),
      },
      { source: "s", payload: "{}", signatureValid: true, status: "received" },
    ]);
    await db.insert(datasets).values([
      {
        id: "d1",
        name: "x",
        uploadedBy: "a@example.com",
        status: "stored",
        recordCount: 7,
        completedAt: hoursBefore(6),
      },
      {
        id: "d2",
        name: "y",
        uploadedBy: "a@example.com",
        status: "failed",
        recordCount: 0,
        completedAt: hoursBefore(6),
      },
    ]);
    await db.insert(analyticsEvents).values([
      { dedupeKey: "a1", userId: "in-1", name: "user.signed_up", occurredAt: hoursBefore(1) },
      { dedupeKey: "a2", userId: "in-2", name: "page.viewed", occurredAt: hoursBefore(48) },
    ]);

    const timer = event("inngest/scheduled.timer", { cron: DAILY_REPORT_SCHEDULE }, { ts: tick });
    const { result, error } = await execute(dailyReport, [timer]);
    expect(error).toBeUndefined();
    const stats = {
      signups: 2,
      emailsSent: 1,
      webhooksProcessed: 2,
      webhooksFailed: 1,
      datasetsStored: 1,
      recordsStored: 7,
      analyticsEvents: 1,
    };
    expect(result).toMatchObject({ reportDate: "2026-11-20", created: true, stats });

    const rows = await db.select().from(reports);
    expect(rows).toMatchObject([
      { reportDate: "2026-11-20", stats, periodEnd: new Date(tick), periodStart: hoursBefore(24) },
    ]);

    // The same tick again (a retry, a replay) keeps the one report.
    const rerun = await execute(dailyReport, [timer]);
    expect(rerun.result).toMatchObject({ reportDate: "2026-11-20", created: false });
    expect(await db.select().from(reports)).toHaveLength(1);
  });
});
