import {
  analyticsEvents,
  type Database,
  datasets,
  emailOutbox,
  type ReportStats,
  reports,
  users,
  webhookLog,
} from "@repo/db";
import { and, count, eq, gte, lt, sum } from "drizzle-orm";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The day a report covers: the 24 hours before the scheduled time, named by that time's date. */
export function reportPeriod(scheduledAt: Date) {
  return {
    reportDate: scheduledAt.toISOString().slice(0, 10),
    periodStart: new Date(scheduledAt.getTime() - DAY_MS),
    periodEnd: scheduledAt,
  };
}

/** Counts what happened in [periodStart, periodEnd). */
export async function aggregateActivity(
  db: Database,
  periodStart: Date,
  periodEnd: Date,
): Promise<ReportStats> {
  const within = (column: Parameters<typeof gte>[0]) =>
    and(gte(column, periodStart), lt(column, periodEnd));
  const [signups, emails, webhooks, stored, analytics] = await Promise.all([
    db.select({ n: count() }).from(users).where(within(users.createdAt)),
    db.select({ n: count() }).from(emailOutbox).where(within(emailOutbox.sentAt)),
    db
      .select({ status: webhookLog.status, n: count() })
      .from(webhookLog)
      .where(within(webhookLog.processedAt))
      .groupBy(webhookLog.status),
    db
      .select({ n: count(), records: sum(datasets.recordCount) })
      .from(datasets)
      .where(and(eq(datasets.status, "stored"), within(datasets.completedAt))),
    db.select({ n: count() }).from(analyticsEvents).where(within(analyticsEvents.occurredAt)),
  ]);
  const webhookCount = (status: string) => webhooks.find((row) => row.status === status)?.n ?? 0;
  return {
    signups: signups[0]?.n ?? 0,
    emailsSent: emails[0]?.n ?? 0,
    webhooksProcessed: webhookCount("processed"),
    webhooksFailed: webhookCount("failed"),
    datasetsStored: stored[0]?.n ?? 0,
    recordsStored: Number(stored[0]?.records ?? 0),
    analyticsEvents: analytics[0]?.n ?? 0,
  };
}

/** Stores the day's report once: a rerun for the same day keeps the first report. */
export async function storeReport(
  db: Database,
  period: ReturnType<typeof reportPeriod>,
  stats: ReportStats,
) {
  const [inserted] = await db
    .insert(reports)
    .values({ ...period, stats })
    .onConflictDoNothing({ target: reports.reportDate })
    .returning();
  if (inserted) return { report: inserted, created: true };
  const [existing] = await db
    .select()
    .from(reports)
    .where(eq(reports.reportDate, period.reportDate));
  if (!existing) throw new Error(`report for ${period.reportDate} vanished while being stored`);
  return { report: existing, created: false };
}
