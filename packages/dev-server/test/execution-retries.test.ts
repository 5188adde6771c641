import { createHash } from "node:crypto";
import { testDrivers } from "@repo/db/testing";
import { type FailureEventArgs, NonRetriableError, RetryAfterError } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, perMode, startHarness, type TimelineStep } from "./harness";

/**
 * Retries and failures, on the virtual clock: step errors retried with exponential backoff (and
 * Retry-After), `retries` and its default, final failure, NonRetriableError, function-level throws,
 * onFailure handlers and the `inngest/function.failed` / `function.finished` events.
 */

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const BASE_MS = 1000;

/** What each onFailure handler was given, by the failed run's id. */
const failures = new Map<string, { message: string; originalData: unknown; runId: unknown }>();

const startTimes = (steps: TimelineStep[]) => steps.map((step) => Date.parse(step.started_at));
const gaps = (times: number[]) => times.slice(1).map((time, index) => time - (times[index] ?? 0));

const drivers = await testDrivers();

describe.each(drivers)("retries and failures on %s", (driver) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "retries",
      (inngest) => [
        inngest.createFunction(
          { id: "flaky-step", retries: 5, triggers: [{ event: "t/flaky" }] },
          async ({ step, attempt }) => {
            const value = await step.run("flaky", () => {
              if (attempt < 3) throw new Error(`transient failure on attempt ${attempt}`);
              return `ok on attempt ${attempt}`;
            });
            return value;
          },
        ),
        inngest.createFunction(
          { id: "always-fails", triggers: [{ event: "t/always-fails" }] },
          async ({ step }) => {
            await step.run("doomed", () => {
              throw new Error("the step always fails");
            });
            return "unreachable";
          },
        ),
        inngest.createFunction(
          { id: "one-retry", retries: 1, triggers: [{ event: "t/one-retry" }] },
          async ({ step }) => {
            await step.run("doomed", () => {
              throw new Error("still failing");
            });
          },
        ),
        inngest.createFunction(
          { id: "caught", retries: 0, triggers: [{ event: "t/caught" }] },
          async ({ step }) => {
            try {
              await step.run("doomed", () => {
                throw new TypeError("bad input");
              });
              return "not caught";
            } catch (error) {
              return { caught: (error as Error).message, name: (error as Error).name };
            }
          },
        ),
        inngest.createFunction(
          { id: "retry-after", triggers: [{ event: "t/retry-after" }] },
          async ({ event, step, attempt }) =>
            step.run("rate-limited", () => {
              if (attempt === 0) {
                const after = event.data.at ? new Date(Number(event.data.at)) : "30s";
                throw new RetryAfterError("slow down", after);
              }
              return `ok on attempt ${attempt}`;
            }),
        ),
        inngest.createFunction(
          { id: "non-retriable-step", triggers: [{ event: "t/non-retriable-step" }] },
          async ({ step }) => {
            await step.run("refuse", () => {
              throw new NonRetriableError("no point retrying");
            });
          },
        ),
        inngest.createFunction(
          { id: "non-retriable-fn", triggers: [{ event: "t/non-retriable-fn" }] },
          async () => {
            throw new NonRetriableError("the function gives up");
          },
        ),
        inngest.createFunction(
          { id: "fn-throws", retries: 2, triggers: [{ event: "t/fn-throws" }] },
          async ({ event, attempt }) => {
            if (!event.data.recoverOn || attempt < Number(event.data.recoverOn)) {
              throw new Error(`function failed on attempt ${attempt}`);
            }
            return `recovered on attempt ${attempt}`;
          },
        ),
        inngest.createFunction(
          {
            id: "with-on-failure",
            retries: 0,
            triggers: [{ event: "t/with-on-failure" }],
            onFailure: async ({ error, event }: FailureEventArgs) => {
              failures.set(String(event.data.run_id), {
                message: error.message,
                originalData: event.data.event.data,
                runId: event.data.run_id,
              });
              return "handled";
            },
          },
          async ({ step }) => {
            await step.run("explode", () => {
              throw new Error("kaput");
            });
          },
        ),
      ],
      { driver, testMode: true, retry: { baseMs: BASE_MS, maxMs: 60_000 } },
    );
  });
  afterAll(() => h?.close());

  it("retries a failing step with exponential backoff until it succeeds", async () => {
    const [eventId = ""] = await h.send([{ name: "t/flaky" }]);
    const run = await h.runOf(eventId);
    await h.idle();
    // Attempt 0 failed; nothing more happens until the backoff has passed.
    await h.advance(BASE_MS - 1);
    expect(h.callsOf(run.run_id)).toHaveLength(perMode({ classic: 1, checkpointing: 1 }));

    await h.advance(1 + 2 * BASE_MS + 4 * BASE_MS);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({ status: "Completed", output: "ok on attempt 3" });

    const steps = await h.timeline(run.run_id);
    expect(steps.map((step) => [step.op, step.attempt])).toEqual([
      ["StepError", 0],
      ["StepError", 1],
      ["StepError", 2],
      ["StepRun", 3],
      ["RunCompleted", 0],
    ]);
    expect(gaps(startTimes(steps.slice(0, 4)))).toEqual([BASE_MS, 2 * BASE_MS, 4 * BASE_MS]);
    expect(steps[0]?.error).toMatchObject({ message: "transient failure on attempt 0" });
    // `retries: 5` means 6 attempts, and the SDK is told so. The same calls in both modes: a
    // checkpointing SDK answers a retried step's success at once (so the next call is attempt 0),
    // and the last call completes (200 classic, 206 RunComplete checkpointing).
    const attempts = [
      [0, 6],
      [1, 6],
      [2, 6],
      [3, 6],
      [0, 6],
    ];
    expect(h.callsOf(run.run_id).map((call) => [call.attempt, call.maxAttempts])).toEqual(
      perMode({ classic: attempts, checkpointing: attempts }),
    );
  });

  it("gives a step 5 attempts when retries is unset, then memoizes its error and fails the run", async () => {
    const [eventId = ""] = await h.send([{ name: "t/always-fails" }]);
    const run = await h.runOf(eventId);
    await h.advance(BASE_MS + 2 * BASE_MS + 4 * BASE_MS + 8 * BASE_MS);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.status).toBe("Failed");
    expect(ended.output).toMatchObject({
      message: expect.stringContaining("the step always fails"),
    });

    const steps = await h.timeline(run.run_id);
    expect(
      steps.filter((step) => step.step_id === sha1("doomed")).map((s) => [s.op, s.attempt]),
    ).toEqual([
      ["StepError", 0],
      ["StepError", 1],
      ["StepError", 2],
      ["StepError", 3],
      ["StepFailed", 4],
    ]);
    expect(gaps(startTimes(steps.slice(0, 5)))).toEqual([1, 2, 4, 8].map((n) => n * BASE_MS));
    expect(steps.at(-1)?.op).toBe("RunFailed");
    // The final error went back to the SDK memoized as {error}, and the SDK threw it.
    const last = h.callsOf(run.run_id).at(-1);
    expect(last?.maxAttempts).toBe(5);
    expect(last?.steps[sha1("doomed")]).toMatchObject({
      error: { message: "the step always fails" },
    });
    expect(last?.status).toBe(400);
  });

  it("respects retries: 1 (two attempts)", async () => {
    const [eventId = ""] = await h.send([{ name: "t/one-retry" }]);
    const run = await h.runOf(eventId);
    await h.advance(BASE_MS);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.status).toBe("Failed");
    const stepCalls = h
      .callsOf(run.run_id)
      .filter((call) => call.steps[sha1("doomed")] === undefined);
    const attempts = [
      [0, 2],
      [1, 2],
    ];
    expect(stepCalls.map((call) => [call.attempt, call.maxAttempts])).toEqual(
      perMode({ classic: attempts, checkpointing: attempts }),
    );
  });

  it("hands a step's final error to the function, which may catch it and complete", async () => {
    const [eventId = ""] = await h.send([{ name: "t/caught" }]);
    const [run] = await h.waitForRuns(eventId);
    expect(run).toMatchObject({
      status: "Completed",
      output: { caught: "bad input", name: "TypeError" },
    });
    const steps = await h.timeline(run?.run_id ?? "");
    expect(steps.map((step) => [step.op, step.attempt])).toEqual([
      ["StepFailed", 0],
      ["RunCompleted", 0],
    ]);
  });

  it("honours RetryAfterError's delay instead of the backoff", async () => {
    const [eventId = ""] = await h.send([{ name: "t/retry-after" }]);
    const run = await h.runOf(eventId);
    await h.idle();
    await h.advance(29_999);
    expect(h.callsOf(run.run_id)).toHaveLength(perMode({ classic: 1, checkpointing: 1 }));
    await h.advance(1);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({ status: "Completed", output: "ok on attempt 1" });
    const steps = await h.timeline(run.run_id);
    expect(gaps(startTimes(steps.slice(0, 2)))).toEqual([30_000]);
  });

  it("honours a RetryAfterError date on the virtual clock", async () => {
    const at = (await h.now()) + 45_000;
    const [eventId = ""] = await h.send([{ name: "t/retry-after", data: { at } }]);
    const run = await h.runOf(eventId);
    await h.idle();
    await h.advance(44_999);
    expect(h.callsOf(run.run_id)).toHaveLength(perMode({ classic: 1, checkpointing: 1 }));
    await h.advance(1);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.status).toBe("Completed");
    const [failed, succeeded] = await h.timeline(run.run_id);
    expect(Date.parse(succeeded?.started_at ?? "")).toBe(at);
    expect(failed?.error).toMatchObject({ name: "RetryAfterError", message: "slow down" });
  });

  it("fails a step at once on NonRetriableError, without a retry", async () => {
    const [eventId = ""] = await h.send([{ name: "t/non-retriable-step" }]);
    const run = await h.runOf(eventId);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.status).toBe("Failed");
    expect(ended.output).toMatchObject({ message: expect.stringContaining("no point retrying") });
    const steps = await h.timeline(run.run_id);
    expect(
      steps.filter((step) => step.step_id === sha1("refuse")).map((s) => [s.op, s.attempt]),
    ).toEqual([["StepFailed", 0]]);
    expect(h.callsOf(run.run_id).every((call) => call.attempt === 0)).toBe(true);
  });

  it("fails the run at once when the function itself throws NonRetriableError", async () => {
    const [eventId = ""] = await h.send([{ name: "t/non-retriable-fn" }]);
    const run = await h.runOf(eventId);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Failed",
      output: { name: "NonRetriableError", message: "the function gives up" },
    });
    expect(h.callsOf(run.run_id).map((call) => [call.attempt, call.status])).toEqual(
      perMode({ classic: [[0, 400]], checkpointing: [[0, 400]] }),
    );
  });

  it("retries a function-level throw with backoff, then fails the run with its error", async () => {
    const [eventId = ""] = await h.send([{ name: "t/fn-throws" }]);
    const run = await h.runOf(eventId);
    await h.idle();
    expect((await h.run(run.run_id)).status).toBe("Running");
    await h.advance(BASE_MS + 2 * BASE_MS);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Failed",
      output: { name: "Error", message: "function failed on attempt 2" },
    });
    const steps = await h.timeline(run.run_id);
    expect(steps.map((step) => [step.op, step.attempt])).toEqual([
      ["FunctionError", 0],
      ["FunctionError", 1],
      ["FunctionError", 2],
      ["RunFailed", 0],
    ]);
    expect(gaps(startTimes(steps.slice(0, 3)))).toEqual([BASE_MS, 2 * BASE_MS]);
    expect(h.callsOf(run.run_id).map((call) => call.status)).toEqual(
      perMode({ classic: [500, 500, 400], checkpointing: [500, 500, 400] }),
    );
  });

  it("completes a run whose function-level throw stops on a retry", async () => {
    const [eventId = ""] = await h.send([{ name: "t/fn-throws", data: { recoverOn: 1 } }]);
    const run = await h.runOf(eventId);
    await h.advance(BASE_MS);
    expect(await h.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: "recovered on attempt 1",
    });
  });

  it("emits function.failed and function.finished for a failed run, and runs its onFailure handler", async () => {
    const [eventId = ""] = await h.send([{ name: "t/with-on-failure", data: { order: 42 } }]);
    const run = await h.runOf(eventId);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Failed",
      output: { message: expect.stringContaining("kaput") },
    });

    const failed = await h.waitFor("the function.failed event", async () =>
      (await h.events("inngest/function.failed")).find((event) => event.data.run_id === run.run_id),
    );
    expect(failed).toMatchObject({
      id: run.run_id,
      data: {
        function_id: "retries-with-on-failure",
        run_id: run.run_id,
        error: { message: expect.stringContaining("kaput") },
        event: { name: "t/with-on-failure", data: { order: 42 } },
      },
    });
    const [handler] = await h.waitForRuns(failed.internal_id);
    expect(handler).toMatchObject({
      function_id: await h.functionId("retries-with-on-failure-failure"),
      status: "Completed",
      output: "handled",
    });
    expect(failures.get(run.run_id)).toEqual({
      message: expect.stringContaining("kaput"),
      originalData: { order: 42 },
      runId: run.run_id,
    });

    const finished = (await h.events("inngest/function.finished")).find(
      (event) => event.data.run_id === run.run_id,
    );
    expect(finished?.data).toMatchObject({
      function_id: "retries-with-on-failure",
      error: { message: expect.stringContaining("kaput") },
      _inngest: { status: "Failed" },
    });
    expect(finished?.data).not.toHaveProperty("result");
  });
});
