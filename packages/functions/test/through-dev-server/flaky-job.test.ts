import { functionFailures, jobAttempts } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { FLAKY_JOB_RETRIES } from "../../src/functions/flaky-job";
import { drivers, type TimelineStep, useDevServerStack } from "./support";

// Retries and the failure handler are the server's doing (the SDK only reports each attempt), so
// they are only really tested here: the dev server retries with its backoff on the virtual clock
// (1 s, then 2 s, then 4 s) and, once retries run out, runs `flaky-job-failure` on
// `inngest/function.failed`.
describe.each(drivers)("flaky-job through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  const attemptRows = (jobId: string) =>
    stack.db
      .select({ attempt: jobAttempts.attempt, succeeded: jobAttempts.succeeded })
      .from(jobAttempts)
      .where(eq(jobAttempts.jobId, jobId))
      .orderBy(asc(jobAttempts.attempt));

  const failureRows = (jobId: string) =>
    stack.db.select().from(functionFailures).where(eq(functionFailures.subjectId, jobId));

  /** The job step's attempts as the server recorded them: op, attempt number, start time. */
  async function attemptsOf(runId: string) {
    const steps = (await stack.timeline(runId)).filter((step) => step.name === "attempt-job");
    return steps.map((step: TimelineStep) => ({
      op: step.op,
      attempt: step.attempt,
      at: Date.parse(step.started_at),
    }));
  }

  const spacing = (attempts: { at: number }[]) =>
    attempts.slice(1).map((attempt, index) => attempt.at - (attempts[index]?.at ?? 0));

  it("fails twice, is retried after 1 s then 2 s, and succeeds on attempt 3", async () => {
    const eventId = await stack.send({
      name: "app/job.requested",
      data: { jobId: "job-twice", failTimes: 2 },
    });
    const run = await stack.onlyRunOf(eventId);
    await stack.waitFor("the first attempt", async () =>
      (await attemptRows("job-twice")).length === 1 ? true : undefined,
    );

    // Each retry comes due exactly at its backoff: not a millisecond before.
    await stack.advance(999);
    expect(await attemptRows("job-twice")).toHaveLength(1);
    await stack.advance(1);
    expect(await attemptRows("job-twice")).toHaveLength(2);
    await stack.advance(1_999);
    expect(await attemptRows("job-twice")).toHaveLength(2);
    await stack.advance(1);

    const ended = await stack.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Completed",
      output: { jobId: "job-twice", succeededOnAttempt: 3 },
    });
    expect(await attemptRows("job-twice")).toEqual([
      { attempt: 1, succeeded: false },
      { attempt: 2, succeeded: false },
      { attempt: 3, succeeded: true },
    ]);
    const attempts = await attemptsOf(run.run_id);
    expect(attempts.map(({ op, attempt }) => [op, attempt])).toEqual([
      ["StepError", 0],
      ["StepError", 1],
      ["StepRun", 2],
    ]);
    expect(spacing(attempts)).toEqual([1_000, 2_000]);
    // The run ends at its third attempt's time: the clock did not run ahead of work in flight.
    expect(Date.parse(ended.ended_at ?? "")).toBe(attempts[2]?.at);
    expect(await failureRows("job-twice")).toEqual([]);
  });

  it("always failing: Failed after 4 attempts, and flaky-job-failure records one failure", async () => {
    const message = "attempt 4 of job job-never failed on purpose (it fails the first 5)";
    const eventId = await stack.send({
      name: "app/job.requested",
      data: { jobId: "job-never", failTimes: 5 },
    });
    const run = await stack.onlyRunOf(eventId);
    // Past every backoff (1 + 2 + 4 s), and then some, to show that no fifth attempt comes.
    await stack.advance(60_000);

    const ended = await stack.waitForEnd(run.run_id);
    expect(ended).toMatchObject({ status: "Failed", output: { name: "Error", message } });
    const attempts = await attemptsOf(run.run_id);
    expect(attempts).toHaveLength(FLAKY_JOB_RETRIES + 1);
    expect(attempts.map(({ op, attempt }) => [op, attempt])).toEqual([
      ["StepError", 0],
      ["StepError", 1],
      ["StepError", 2],
      ["StepFailed", 3],
    ]);
    expect(spacing(attempts)).toEqual([1_000, 2_000, 4_000]);
    // It fails when its last attempt does, not when the clock stops (60 s later).
    expect(Date.parse(ended.ended_at ?? "")).toBe(attempts[3]?.at);
    expect((await attemptRows("job-never")).map((row) => row.succeeded)).toEqual([
      false,
      false,
      false,
      false,
    ]);

    // The server emits `inngest/function.failed` for the run; the SDK's `<fn>-failure` function
    // (the onFailure handler) is the one run it starts.
    const failed = await stack.waitFor("inngest/function.failed for the run", async () =>
      (await stack.eventsNamed("inngest/function.failed")).find(
        (event) => event.data.run_id === run.run_id,
      ),
    );
    expect(failed).toMatchObject({
      id: run.run_id,
      data: { function_id: stack.slug("flaky-job"), error: { message } },
    });
    const handler = await stack.onlyRunOf(failed.internal_id);
    expect(await stack.slugOf(handler)).toBe(stack.slug("flaky-job-failure"));
    expect((await stack.waitForEnd(handler.run_id)).status).toBe("Completed");

    const failures = await failureRows("job-never");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      functionId: "flaky-job",
      runId: run.run_id,
      eventName: "app/job.requested",
      eventData: { jobId: "job-never", failTimes: 5 },
      subjectId: "job-never",
      error: message,
    });

    // Later time brings no second handler run and no second row.
    await stack.advance(3_600_000);
    expect(
      (await stack.runsOfFunction("flaky-job-failure")).filter(
        (candidate) => candidate.event_id === failed.internal_id,
      ),
    ).toHaveLength(1);
    expect(await failureRows("job-never")).toHaveLength(1);
  });
});
