import { type Database, functionFailures, jobAttempts } from "@repo/db";
import { and, asc, eq } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { jobRequested } from "../events";

/** Retries after the first attempt: 4 attempts in all, spaced by the server's backoff. */
export const FLAKY_JOB_RETRIES = 3;

/**
 * The retry demo: its step fails the first `failTimes` attempts and records every attempt with its
 * time, so the backoff between attempts can be seen. When retries run out, the failure handler
 * records the failure.
 */
export function defineFlakyJob({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    {
      id: "flaky-job",
      name: "Flaky job",
      triggers: [jobRequested],
      retries: FLAKY_JOB_RETRIES,
      onFailure: async ({ event, error, step, logger, runId }) => {
        const failed = event.data.event;
        await step.run("record-failure", async () => {
          const db = await database();
          await db
            .insert(functionFailures)
            .values({
              functionId: "flaky-job",
              runId: event.data.run_id,
              eventName: failed.name,
              eventData: failed.data,
              subjectId: failed.data.jobId,
              error: error.message,
            })
            .onConflictDoNothing({ target: [functionFailures.functionId, functionFailures.runId] });
        });
        logger.error("flaky-job: out of retries", {
          runId,
          failedRunId: event.data.run_id,
          jobId: failed.data.jobId,
          error: error.message,
        });
      },
    },
    async ({ event, step, attempt, logger, runId }) => {
      const { jobId, failTimes } = event.data;
      const result = await step.run("attempt-job", async () => {
        const db = await database();
        const number = attempt + 1;
        const fails = number <= failTimes;
        const error = fails
          ? `attempt ${number} of job ${jobId} failed on purpose (it fails the first ${failTimes})`
          : null;
        await db
          .insert(jobAttempts)
          .values({ jobId, attempt: number, succeeded: !fails, error })
          .onConflictDoUpdate({
            target: [jobAttempts.jobId, jobAttempts.attempt],
            set: { succeeded: !fails, error, attemptedAt: new Date() },
          });
        if (error) throw new Error(error);
        return { jobId, succeededOnAttempt: number };
      });
      logger.info("flaky-job: succeeded", { runId, eventId: event.id, ...result });
      return result;
    },
  );
}

/** What flaky-job recorded for a job: every attempt, and the failure once retries ran out. */
export async function readRetries(db: Database, jobId: string) {
  const [attempts, failures] = await Promise.all([
    db
      .select()
      .from(jobAttempts)
      .where(eq(jobAttempts.jobId, jobId))
      .orderBy(asc(jobAttempts.attempt)),
    db
      .select()
      .from(functionFailures)
      .where(
        and(eq(functionFailures.functionId, "flaky-job"), eq(functionFailures.subjectId, jobId)),
      )
      .orderBy(asc(functionFailures.failedAt), asc(functionFailures.id)),
  ]);
  return { attempts, failures };
}
