import { InngestTestEngine, mockCtx } from "@inngest/test";
import { functionFailures, jobAttempts } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, event, TEST_APP_ID, useTestDatabase } from "../../test/support";
import type { AppFunctions } from "../index";
import { FLAKY_JOB_RETRIES } from "./flaky-job";

type FlakyJob = AppFunctions["flakyJob"];

/** Runs the function as attempt `attempt` (0-based) of its step, as a retry would. */
function runAttempt(flakyJob: FlakyJob, jobId: string, failTimes: number, attempt: number) {
  return new InngestTestEngine({
    function: flakyJob,
    transformCtx: (ctx) => ({ ...mockCtx(ctx), attempt }),
  }).execute({ events: [event("app/job.requested", { jobId, failTimes })] });
}

describe.each(drivers)("flaky-job on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { flakyJob } = database.functions;
  const attempts = (jobId: string) =>
    database.db
      .select({
        attempt: jobAttempts.attempt,
        succeeded: jobAttempts.succeeded,
        error: jobAttempts.error,
      })
      .from(jobAttempts)
      .where(eq(jobAttempts.jobId, jobId))
      .orderBy(asc(jobAttempts.attempt));

  it("has retries, and a failure handler", () => {
    expect(flakyJob.opts.retries).toBe(FLAKY_JOB_RETRIES);
    expect(FLAKY_JOB_RETRIES).toBe(3);
    expect(typeof flakyJob.opts.onFailure).toBe("function");
  });

  it("fails its first K attempts, records each, and succeeds on attempt K+1", async () => {
    for (const attempt of [0, 1]) {
      const { result, error } = await runAttempt(flakyJob, "job-2", 2, attempt);
      expect(result).toBeUndefined();
      expect((error as Error | undefined)?.message).toBe(
        `attempt ${attempt + 1} of job job-2 failed on purpose (it fails the first 2)`,
      );
    }
    const success = await runAttempt(flakyJob, "job-2", 2, 2);
    expect(success.error).toBeUndefined();
    expect(success.result).toEqual({ jobId: "job-2", succeededOnAttempt: 3 });

    expect(await attempts("job-2")).toEqual([
      {
        attempt: 1,
        succeeded: false,
        error: "attempt 1 of job job-2 failed on purpose (it fails the first 2)",
      },
      {
        attempt: 2,
        succeeded: false,
        error: "attempt 2 of job job-2 failed on purpose (it fails the first 2)",
      },
      { attempt: 3, succeeded: true, error: null },
    ]);
  });

  it("succeeds at once when no failure is asked for", async () => {
    expect((await runAttempt(flakyJob, "job-0", 0, 0)).result).toEqual({
      jobId: "job-0",
      succeededOnAttempt: 1,
    });
    expect(await attempts("job-0")).toEqual([{ attempt: 1, succeeded: true, error: null }]);
  });

  it("the failure handler records the failure once", async () => {
    // Inngest runs `onFailure` as its own function on `inngest/function.failed`; @inngest/test runs
    // only main handlers, so the handler is mounted on that event here, with the SDK's ctx.error.
    const { inngest } = database;
    const onFailure = flakyJob.opts.onFailure;
    if (!onFailure) throw new Error("flaky-job has no onFailure");
    const failureFn = inngest.createFunction(
      { id: "flaky-job-failure-under-test", triggers: [{ event: "inngest/function.failed" }] },
      (ctx) =>
        onFailure({
          ...ctx,
          error: new Error("attempt 4 of job job-x failed on purpose"),
        } as never),
    );
    const failed = event("inngest/function.failed", {
      function_id: `${TEST_APP_ID}-flaky-job`,
      run_id: "run-123",
      error: { name: "Error", message: "attempt 4 of job job-x failed on purpose" },
      event: event("app/job.requested", { jobId: "job-x", failTimes: 9 }),
    });
    for (let i = 0; i < 2; i++) {
      const { error } = await new InngestTestEngine({ function: failureFn }).execute({
        events: [failed],
      });
      expect(error).toBeUndefined();
    }
    expect(await database.db.select().from(functionFailures)).toMatchObject([
      {
        functionId: "flaky-job",
        runId: "run-123",
        eventName: "app/job.requested",
        eventData: { jobId: "job-x", failTimes: 9 },
        subjectId: "job-x",
        error: "attempt 4 of job job-x failed on purpose",
      },
    ]);
  });
});
