import { type Database, reports } from "@repo/db";
import { desc } from "drizzle-orm";
import { cron } from "inngest";
import type { FunctionContext } from "../context";
import { aggregateActivity, reportPeriod, storeReport } from "../reports";

export const DAILY_REPORT_SCHEDULE = "0 9 * * *";

/** Every day at 09:00 (UTC): the last 24 hours of activity, aggregated into one report row. */
export function defineDailyReport({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    { id: "daily-report", name: "Daily report", triggers: [cron(DAILY_REPORT_SCHEDULE)] },
    async ({ event, step, logger, runId }) => {
      // The tick's own time, not the clock at execution: a delayed or retried run reports the same day.
      const scheduledAt = event.ts ? new Date(event.ts) : new Date();
      const period = reportPeriod(scheduledAt);

      const stats = await step.run("aggregate", async () =>
        aggregateActivity(await database(), period.periodStart, period.periodEnd),
      );
      const stored = await step.run("store-report", async () => {
        const { report, created } = await storeReport(await database(), period, stats);
        return { reportId: report.id, reportDate: report.reportDate, created };
      });

      logger.info("daily-report: done", { runId, eventId: event.id, ...stored, stats });
      return { ...stored, stats };
    },
  );
}

const LATEST_REPORTS = 10;

/** The latest reports daily-report stored, newest first. */
export async function readReports(db: Database) {
  const latest = await db
    .select()
    .from(reports)
    .orderBy(desc(reports.reportDate))
    .limit(LATEST_REPORTS);
  return { reports: latest };
}
