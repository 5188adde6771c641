import { createHash } from "node:crypto";
import { testDrivers } from "@repo/db/testing";
import { NonRetriableError, referenceFunction } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

/**
 * Everything that waits, on the virtual clock: sleeps, waitForEvent (if/match, no look-back,
 * timeouts, match vs timeout), invoke (result, child failure, timeout) and cancellation (cancelOn,
 * DELETE /v1/runs/:id).
 */

const HOUR = 3600_000;
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** Side effects of step bodies, by test key: how many times each really ran. */
const executions = new Map<string, number>();
const ran = (key: string) => executions.set(key, (executions.get(key) ?? 0) + 1);
const timesRan = (key: string) => executions.get(key) ?? 0;

/** Gates a test opens to let a blocked step finish. */
const gates = new Map<string, () => void>();

const drivers = await testDrivers();

describe.each(drivers)("sleeps, waits, invokes and cancellation on %s", (driver) => {
  let h: Harness;
  beforeAll(async () => {
    executions.clear();
    gates.clear();
    h = await startHarness(
      "waits",
      (inngest) => {
        const child = inngest.createFunction(
          { id: "child", retries: 0, triggers: [{ event: "t/child" }] },
          async ({ event, step }) => {
            if (event.data.fail) throw new NonRetriableError(`child refuses ${event.data.n}`);
            if (event.data.slow) await step.sleep("dawdle", "1h");
            return { doubled: Number(event.data.n) * 2 };
          },
        );
        return [
          child,
          inngest.createFunction(
            { id: "sleeper", triggers: [{ event: "t/sleep" }] },
            async ({ event, step }) => {
              await step.sleep("nap", "1h");
              return step.run("after", () => {
                ran(`${event.data.key}:after`);
                return "woke up";
              });
            },
          ),
          inngest.createFunction(
            { id: "sleep-until", triggers: [{ event: "t/sleep-until" }] },
            async ({ event, step }) => {
              await step.sleepUntil("alarm", new Date(Number(event.data.at)));
              return step.run("after", () => "rang");
            },
          ),
          inngest.createFunction(
            { id: "waiter", triggers: [{ event: "t/wait" }] },
            async ({ event, step }) => {
              if (event.data.delay) await step.sleep("before-wait", String(event.data.delay));
              const reply = await step.waitForEvent("reply", {
                event: "t/reply",
                timeout: "1h",
                if: "async.data.id == event.data.id",
              });
              if (event.data.linger) await step.sleep("linger", "1h");
              return { reply };
            },
          ),
          inngest.createFunction(
            { id: "matcher", triggers: [{ event: "t/match" }] },
            async ({ step }) => {
              const answer = await step.waitForEvent("answer", {
                event: "t/answer",
                timeout: "1h",
                match: "data.id",
              });
              return { answer };
            },
          ),
          inngest.createFunction(
            { id: "parent", triggers: [{ event: "t/parent" }] },
            async ({ event, step }) => {
              try {
                const result = await step.invoke("call-child", {
                  function: child,
                  data: event.data,
                  timeout: "1m",
                });
                return { result };
              } catch (error) {
                return {
                  error: { name: (error as Error).name, message: (error as Error).message },
                };
              }
            },
          ),
          inngest.createFunction(
            { id: "invoke-nobody", triggers: [{ event: "t/invoke-nobody" }] },
            async ({ step }) => {
              try {
                await step.invoke("call-nobody", {
                  function: referenceFunction({ functionId: "not-registered" }),
                  data: {},
                });
                return "invoked";
              } catch (error) {
                return { error: (error as Error).message };
              }
            },
          ),
          inngest.createFunction(
            {
              id: "cancellable",
              triggers: [{ event: "t/cancellable" }],
              cancelOn: [{ event: "t/cancel", if: "async.data.id == event.data.id" }],
            },
            async ({ event, step }) => {
              await step.sleep("nap", "1h");
              return step.run("after", () => {
                ran(`${event.data.id}:after`);
                return "not cancelled";
              });
            },
          ),
          inngest.createFunction(
            { id: "busy", triggers: [{ event: "t/busy" }] },
            async ({ event, step }) => {
              const key = String(event.data.key);
              await step.run("blocked", async () => {
                await new Promise<void>((open) => gates.set(key, open));
                ran(`${key}:blocked`);
              });
              return step.run("after", () => {
                ran(`${key}:after`);
                return "went on";
              });
            },
          ),
        ];
      },
      { driver, testMode: true },
    );
  });
  afterAll(async () => {
    for (const open of gates.values()) open();
    await h?.close();
  });

  const waitingRun = async (eventId: string, op: string) => {
    const run = await h.runOf(eventId);
    await h.waitForStep(run.run_id, (step) => step.op === op && step.ended_at === null);
    return run;
  };

  it("sleeps durably: not a millisecond early, and exactly on time", async () => {
    const [eventId = ""] = await h.send([{ name: "t/sleep", data: { key: "nap" } }]);
    const run = await waitingRun(eventId, "Sleep");
    await h.advance(HOUR - 1);
    expect((await h.run(run.run_id)).status).toBe("Running");
    expect(timesRan("nap:after")).toBe(0);

    await h.advance(1);
    expect(await h.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: "woke up",
    });
    const sleep = (await h.timeline(run.run_id)).find((step) => step.op === "Sleep");
    expect(sleep?.duration_ms).toBe(HOUR);
    expect(timesRan("nap:after")).toBe(1);
  });

  it("sleeps until a date with sleepUntil, and not past a date already gone", async () => {
    const at = (await h.now()) + 90 * 60_000;
    const [eventId = ""] = await h.send([{ name: "t/sleep-until", data: { at } }]);
    const run = await waitingRun(eventId, "Sleep");
    await h.advanceTo(at - 1);
    expect((await h.run(run.run_id)).status).toBe("Running");
    await h.advanceTo(at);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({ status: "Completed", output: "rang" });
    const sleep = (await h.timeline(run.run_id)).find((step) => step.op === "Sleep");
    expect(Date.parse(sleep?.ended_at ?? "")).toBe(at);

    const [pastId = ""] = await h.send([{ name: "t/sleep-until", data: { at: at - HOUR } }]);
    expect((await h.waitForRuns(pastId))[0]?.output).toBe("rang");
  });

  it("resumes a wait with the whole matching event; an event failing `if` does not resume it", async () => {
    const [eventId = ""] = await h.send([{ name: "t/wait", data: { id: "a1" } }]);
    const run = await waitingRun(eventId, "WaitForEvent");
    await h.send([{ name: "t/reply", data: { id: "someone else" } }]);
    await h.idle();
    expect((await h.run(run.run_id)).status).toBe("Running");

    const [replyId] = await h.send([{ name: "t/reply", data: { id: "a1", text: "yes" } }]);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.status).toBe("Completed");
    expect((ended.output as { reply: unknown }).reply).toEqual({
      id: replyId,
      name: "t/reply",
      data: { id: "a1", text: "yes" },
      user: {},
      ts: expect.any(Number),
    });
  });

  it("resumes a wait declared with match", async () => {
    const [eventId = ""] = await h.send([{ name: "t/match", data: { id: 7 } }]);
    const run = await waitingRun(eventId, "WaitForEvent");
    await h.send([{ name: "t/answer", data: { id: 8 } }]);
    await h.idle();
    expect((await h.run(run.run_id)).status).toBe("Running");
    const [answerId] = await h.send([{ name: "t/answer", data: { id: 7 } }]);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.output).toMatchObject({ answer: { id: answerId, data: { id: 7 } } });
  });

  it("does not match an event sent before the wait started", async () => {
    const [eventId = ""] = await h.send([{ name: "t/wait", data: { id: "b1", delay: "1m" } }]);
    const run = await waitingRun(eventId, "Sleep");
    const [early] = await h.send([{ name: "t/reply", data: { id: "b1", when: "early" } }]);
    await h.advance(60_000);
    await h.waitForStep(run.run_id, (step) => step.op === "WaitForEvent");
    await h.idle();
    expect((await h.run(run.run_id)).status).toBe("Running");

    const [late] = await h.send([{ name: "t/reply", data: { id: "b1", when: "late" } }]);
    const ended = await h.waitForEnd(run.run_id);
    const reply = (ended.output as { reply: { id: string } }).reply;
    expect(reply.id).toBe(late);
    expect(reply.id).not.toBe(early);
  });

  it("gives null to a wait that times out, at its timeout", async () => {
    const [eventId = ""] = await h.send([{ name: "t/wait", data: { id: "c1" } }]);
    const run = await waitingRun(eventId, "WaitForEvent");
    await h.advance(HOUR - 1);
    expect((await h.run(run.run_id)).status).toBe("Running");
    await h.advance(1);
    expect(await h.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { reply: null },
    });
    const wait = (await h.timeline(run.run_id)).find((step) => step.op === "WaitForEvent");
    expect(wait?.duration_ms).toBe(HOUR);
  });

  it("lets a match and the timeout not both win: after a match the timeout does nothing", async () => {
    const [eventId = ""] = await h.send([{ name: "t/wait", data: { id: "d1", linger: true } }]);
    const run = await waitingRun(eventId, "WaitForEvent");
    const [replyId] = await h.send([{ name: "t/reply", data: { id: "d1" } }]);
    await h.waitForStep(run.run_id, (step) => step.name === "linger");
    await h.advance(HOUR); // past the wait's timeout, and the end of the linger
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.output).toMatchObject({ reply: { id: replyId } });
    const waits = (await h.timeline(run.run_id)).filter((step) => step.op === "WaitForEvent");
    expect(waits).toHaveLength(1);
    expect(waits[0]?.output).toMatchObject({ id: replyId });
    // The SDK was never told the wait had timed out.
    expect(h.callsOf(run.run_id).some((call) => call.steps[sha1("reply")] === null)).toBe(false);
  });

  it("lets a match and the timeout not both win: after the timeout a matching event does nothing", async () => {
    const [eventId = ""] = await h.send([{ name: "t/wait", data: { id: "e1", linger: true } }]);
    const run = await waitingRun(eventId, "WaitForEvent");
    await h.advance(HOUR);
    await h.waitForStep(run.run_id, (step) => step.name === "linger");
    await h.send([{ name: "t/reply", data: { id: "e1" } }]);
    await h.idle();
    await h.advance(HOUR);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.output).toEqual({ reply: null });
    const waits = (await h.timeline(run.run_id)).filter((step) => step.op === "WaitForEvent");
    expect(waits.map((wait) => wait.output)).toEqual([null]);
  });

  it("returns an invoked function's result to the caller", async () => {
    const [eventId = ""] = await h.send([{ name: "t/parent", data: { n: 21 } }]);
    const [run] = await h.waitForRuns(eventId);
    expect(run).toMatchObject({ status: "Completed", output: { result: { doubled: 42 } } });
    const invoked = (await h.events("inngest/function.invoked")).find((event) =>
      (event.data._inngest as { correlation_id?: string }).correlation_id?.startsWith(
        run?.run_id ?? "-",
      ),
    );
    expect(invoked?.data).toMatchObject({ n: 21, _inngest: { fn_id: "waits-child" } });
    const [child] = await h.runsOf(invoked?.internal_id ?? "");
    expect(child).toMatchObject({
      function_id: await h.functionId("waits-child"),
      status: "Completed",
      output: { doubled: 42 },
    });
  });

  it("hands a failed child's error to the caller", async () => {
    const [eventId = ""] = await h.send([{ name: "t/parent", data: { n: 5, fail: true } }]);
    const [run] = await h.waitForRuns(eventId);
    expect(run).toMatchObject({
      status: "Completed",
      output: { error: { message: expect.stringContaining("child refuses 5") } },
    });
  });

  it("gives the caller InngestInvokeTimeoutError when the child outlasts the invoke timeout", async () => {
    const [eventId = ""] = await h.send([{ name: "t/parent", data: { n: 1, slow: true } }]);
    const run = await waitingRun(eventId, "InvokeFunction");
    await h.advance(60_000 - 1);
    expect((await h.run(run.run_id)).status).toBe("Running");
    await h.advance(1);
    const ended = await h.waitForEnd(run.run_id);
    expect(ended.output).toMatchObject({
      error: {
        message: expect.stringContaining("Timed out waiting for invoked function to complete"),
      },
    });
    expect(JSON.stringify(ended.output)).toContain("InngestInvokeTimeoutError");
    // The child finishing later changes nothing for the caller.
    await h.advance(HOUR);
    expect((await h.run(run.run_id)).output).toEqual(ended.output);
  });

  it("gives the caller an error when the invoked function is not registered", async () => {
    const [eventId = ""] = await h.send([{ name: "t/invoke-nobody" }]);
    const [run] = await h.waitForRuns(eventId);
    expect(run).toMatchObject({
      status: "Completed",
      output: { error: expect.stringContaining("waits-not-registered") },
    });
    expect(await h.server.store.queueOfRun(run?.run_id ?? "")).toEqual([]);
  });

  it("cancels a sleeping run on a cancelOn event that matches its if, and not on one that does not", async () => {
    const [eventId = ""] = await h.send([{ name: "t/cancellable", data: { id: "x" } }]);
    const run = await waitingRun(eventId, "Sleep");
    await h.send([{ name: "t/cancel", data: { id: "y" } }]);
    await h.idle();
    expect((await h.run(run.run_id)).status).toBe("Running");

    await h.send([{ name: "t/cancel", data: { id: "x" } }]);
    expect((await h.waitForEnd(run.run_id)).status).toBe("Cancelled");
    await h.advance(HOUR);
    expect(timesRan("x:after")).toBe(0);
    expect((await h.timeline(run.run_id)).map((step) => step.op)).toEqual([
      "Sleep",
      "RunCancelled",
    ]);
    const cancelled = (await h.events("inngest/function.cancelled")).find(
      (event) => event.data.run_id === run.run_id,
    );
    expect(cancelled?.data).toMatchObject({ function_id: "waits-cancellable", run_id: run.run_id });
    const finished = (await h.events("inngest/function.finished")).find(
      (event) => event.data.run_id === run.run_id,
    );
    expect(finished?.data).toMatchObject({ _inngest: { status: "Cancelled" } });
  });

  it("cancels a sleeping run through DELETE /v1/runs/:id", async () => {
    const [eventId = ""] = await h.send([{ name: "t/cancellable", data: { id: "z" } }]);
    const run = await waitingRun(eventId, "Sleep");
    expect(await h.cancel(run.run_id)).toMatchObject({ status: "Cancelled" });
    expect(await h.jobs(run.run_id)).toEqual([]);
    await h.advance(HOUR);
    expect(timesRan("z:after")).toBe(0);
    expect((await h.run(run.run_id)).status).toBe("Cancelled");
    // Cancelling again changes nothing.
    expect(await h.cancel(run.run_id)).toMatchObject({ status: "Cancelled" });
  });

  it("cancels at once while a step is running, and drops that step's answer", async () => {
    const [eventId = ""] = await h.send([{ name: "t/busy", data: { key: "busy" } }]);
    const run = await h.runOf(eventId);
    await h.waitFor("the blocked step to start", () => gates.has("busy"));
    expect(await h.cancel(run.run_id)).toMatchObject({ status: "Cancelled" });

    gates.get("busy")?.();
    await h.waitFor("the blocked step's answer", () =>
      h.callsOf(run.run_id).every((call) => call.status !== null),
    );
    await h.idle();
    expect(timesRan("busy:blocked")).toBe(1);
    expect(timesRan("busy:after")).toBe(0);
    expect((await h.run(run.run_id)).status).toBe("Cancelled");
    expect((await h.timeline(run.run_id)).map((step) => step.op)).toEqual(["RunCancelled"]);
  });
});
