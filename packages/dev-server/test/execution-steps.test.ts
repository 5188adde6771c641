import { createHash } from "node:crypto";
import { testDrivers } from "@repo/db/testing";
import { referenceFunction } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, MODE, perMode, startHarness } from "./harness";

/**
 * How the dev server drives steps: discovery and immediate execution, memoization, parallel steps,
 * step.sendEvent fan-out, and which events start runs (trigger `if`, wildcards, event id dedupe).
 */

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** Side effects of step bodies, by test key: how many times each really ran. */
const executions = new Map<string, number>();
const ran = (key: string) => executions.set(key, (executions.get(key) ?? 0) + 1);
const timesRan = (key: string) => executions.get(key) ?? 0;

/** Parallel steps wait here for each other: they only both pass if they run at the same time. */
const arrivals = new Map<string, number>();
async function meetSibling(key: string): Promise<void> {
  arrivals.set(key, (arrivals.get(key) ?? 0) + 1);
  const deadline = Date.now() + 10_000;
  while ((arrivals.get(key) ?? 0) < 2) {
    if (Date.now() > deadline) throw new Error(`the sibling of ${key} never started`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Gates a test opens to let a blocked step finish. */
const gates = new Map<string, () => void>();
const gate = (key: string) => new Promise<void>((open) => gates.set(key, open));

const drivers = await testDrivers();

describe.each(drivers)("steps on %s", (driver) => {
  let h: Harness;
  beforeAll(async () => {
    executions.clear();
    arrivals.clear();
    gates.clear();
    h = await startHarness(
      "steps",
      (inngest) => [
        inngest.createFunction(
          { id: "sequence", triggers: [{ event: "t/sequence" }] },
          async ({ event, step }) => {
            const key = String(event.data.key);
            const a = await step.run("a", () => {
              ran(`${key}:a`);
              return `A${event.data.n}`;
            });
            const b = await step.run("b", () => {
              ran(`${key}:b`);
              return { from: a };
            });
            const c = await step.run("c", () => {
              ran(`${key}:c`);
              return [a, b.from];
            });
            return { a, b, c };
          },
        ),
        inngest.createFunction(
          { id: "parallel", triggers: [{ event: "t/parallel" }] },
          async ({ event, step }) => {
            const key = String(event.data.key);
            const [one, two] = await Promise.all([
              step.run("p1", async () => {
                ran(`${key}:p1`);
                await meetSibling(key);
                return 1;
              }),
              step.run("p2", async () => {
                ran(`${key}:p2`);
                await meetSibling(key);
                return 2;
              }),
            ]);
            const sum = await step.run("sum", () => {
              ran(`${key}:sum`);
              return one + two;
            });
            return { sum };
          },
        ),
        inngest.createFunction(
          { id: "parallel-wait", triggers: [{ event: "t/parallel-wait" }] },
          async ({ event, step }) => {
            const key = String(event.data.key);
            const [slow, reply] = await Promise.all([
              step.run("slow", async () => {
                ran(`${key}:slow`);
                await gate(key);
                return "slow done";
              }),
              step.waitForEvent("reply", {
                event: "t/parallel-reply",
                timeout: "1h",
                match: "data.key",
              }),
            ]);
            const after = await step.run("after", () => {
              ran(`${key}:after`);
              return "after";
            });
            return { slow, reply: reply?.data ?? null, after };
          },
        ),
        inngest.createFunction(
          { id: "echo", triggers: [{ event: "t/echo" }] },
          async ({ event }) => ({ echoed: event.data.text }),
        ),
        inngest.createFunction(
          { id: "parallel-mix", triggers: [{ event: "t/parallel-mix" }] },
          async ({ event, step, attempt }) => {
            const key = String(event.data.key);
            const [flaky, , echo] = await Promise.all([
              step.run("flaky-once", () => {
                ran(`${key}:flaky`);
                if (attempt === 0) throw new Error("first attempt fails");
                return "flaky ok";
              }),
              step.sleep("nap", "1h"),
              step.invoke("echo", {
                function: referenceFunction({ functionId: "echo" }),
                data: { text: key },
              }),
            ]);
            return { flaky, echo };
          },
        ),
        inngest.createFunction(
          { id: "fan-out", triggers: [{ event: "t/fan-out" }] },
          async ({ event, step }) => {
            const sent = await step.sendEvent("emit", [
              { name: "t/fan-item", data: { key: event.data.key, i: 1 } },
              { name: "t/fan-item", data: { key: event.data.key, i: 2 } },
            ]);
            return sent;
          },
        ),
        inngest.createFunction(
          { id: "fan-item", triggers: [{ event: "t/fan-item" }] },
          async ({ event }) => ({ i: event.data.i, times10: Number(event.data.i) * 10 }),
        ),
        inngest.createFunction(
          { id: "big-spender", triggers: [{ event: "t/purchase", if: "event.data.amount > 10" }] },
          async ({ event }) => `big ${event.data.amount}`,
        ),
        inngest.createFunction(
          { id: "any-wild", triggers: [{ event: "wild/*" }] },
          async ({ event }) => `saw ${event.name}`,
        ),
        inngest.createFunction(
          { id: "once-per-id", triggers: [{ event: "t/once" }] },
          async ({ event }) => {
            ran(`once:${event.data.key}`);
            return event.data.n;
          },
        ),
      ],
      { driver, testMode: true },
    );
  });
  afterAll(() => h?.close());

  it("runs sequential steps one request each, memoizing each result as {data}, and returns the output", async () => {
    const [eventId = ""] = await h.send([{ name: "t/sequence", data: { key: "seq", n: 7 } }]);
    const [run] = await h.waitForRuns(eventId);
    const output = { a: "A7", b: { from: "A7" }, c: ["A7", "A7"] };
    expect(run).toMatchObject({
      status: "Completed",
      function_id: await h.functionId("steps-sequence"),
      output,
    });

    // Classic: N steps cost N+1 discovery requests, each runs one step inline, the last one
    // returns. Checkpointing: one request runs them all, checkpointing each, and completes.
    const calls = h.callsOf(run?.run_id ?? "");
    expect(calls.map((call) => [call.stepId, call.stack.length, call.status])).toEqual(
      perMode({
        classic: [
          ["step", 0, 206],
          ["step", 1, 206],
          ["step", 2, 206],
          ["step", 3, 200],
        ],
        checkpointing: [["step", 0, 206]],
      }),
    );
    if (MODE === "classic") {
      expect(calls[3]?.stack).toEqual([sha1("a"), sha1("b"), sha1("c")]);
      expect(calls[3]?.steps).toEqual({
        [sha1("a")]: { data: "A7" },
        [sha1("b")]: { data: { from: "A7" } },
        [sha1("c")]: { data: ["A7", "A7"] },
      });
    } else {
      expect(h.checkpoints.filter((c) => c.runId === run?.run_id).map((c) => c.stepIds)).toEqual([
        [sha1("a")],
        [sha1("b")],
        [sha1("c")],
      ]);
    }
    expect(["a", "b", "c"].map((step) => timesRan(`seq:${step}`))).toEqual([1, 1, 1]);

    const steps = await h.timeline(run?.run_id ?? "");
    expect(steps.map((step) => [step.op, step.name, step.output])).toEqual([
      ["StepRun", "a", "A7"],
      ["StepRun", "b", { from: "A7" }],
      ["StepRun", "c", ["A7", "A7"]],
      ["RunCompleted", "Completed", output],
    ]);

    const [finished] = (await h.events("inngest/function.finished")).filter(
      (event) => event.data.run_id === run?.run_id,
    );
    expect(finished?.data).toMatchObject({
      function_id: "steps-sequence",
      result: output,
      _inngest: { status: "Completed" },
    });
  });

  it("runs Promise.all steps at the same time, each once, and discovers again only after both", async () => {
    const [eventId = ""] = await h.send([{ name: "t/parallel", data: { key: "par" } }]);
    const [run] = await h.waitForRuns(eventId);
    expect(run).toMatchObject({ status: "Completed", output: { sum: 3 } });
    expect(["p1", "p2", "sum"].map((step) => timesRan(`par:${step}`))).toEqual([1, 1, 1]);

    const calls = h.callsOf(run?.run_id ?? "");
    const planned = new Set([sha1("p1"), sha1("p2")]);
    // Discovery plans both; each planned step gets one call; then one discovery with both memoized.
    expect(calls[0]?.stepId).toBe("step");
    expect(new Set(calls.slice(1, 3).map((call) => call.stepId))).toEqual(planned);
    expect(calls.slice(3).every((call) => call.stepId === "step")).toBe(true);
    expect(new Set(calls[3]?.stack)).toEqual(planned);
    // After a response with several ops, planned steps are not run inline until they are all done.
    expect(calls.slice(1, 3).every((call) => call.disableImmediateExecution)).toBe(true);
    // Then classic: one discovery runs "sum", one more returns; checkpointing: one does both.
    expect(calls).toHaveLength(perMode({ classic: 5, checkpointing: 4 }));

    const steps = await h.timeline(run?.run_id ?? "");
    expect(steps.map((step) => step.op)).toEqual(["StepRun", "StepRun", "StepRun", "RunCompleted"]);
    expect(steps.at(2)).toMatchObject({ name: "sum", output: 3 });
  });

  it("runs a planned step once even when discovery re-reports it while it is still running", async () => {
    const [eventId = ""] = await h.send([{ name: "t/parallel-wait", data: { key: "pw" } }]);
    const run = await h.runOf(eventId);
    await h.waitFor("the slow step to start", () => gates.has("pw"));

    // The wait resolves while "slow" is in flight: the discovery that follows re-reports "slow".
    const [replyId] = await h.send([{ name: "t/parallel-reply", data: { key: "pw", says: "hi" } }]);
    await h.waitFor("a discovery after the reply", () =>
      h
        .callsOf(run.run_id)
        .some((call) => call.stepId === "step" && call.stack.includes(sha1("reply"))),
    );
    gates.get("pw")?.();

    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Completed",
      output: { slow: "slow done", reply: { key: "pw", says: "hi" }, after: "after" },
    });
    expect(timesRan("pw:slow")).toBe(1);
    expect(h.callsOf(run.run_id).filter((call) => call.stepId === sha1("slow"))).toHaveLength(
      perMode({ classic: 1, checkpointing: 1 }),
    );
    const steps = await h.timeline(run.run_id);
    expect(steps.filter((step) => step.op === "WaitForEvent")).toHaveLength(1);
    expect(steps.find((step) => step.op === "WaitForEvent")?.output).toMatchObject({
      id: replyId,
      name: "t/parallel-reply",
    });
    expect(steps.map((step) => step.name).slice(-2)).toEqual(["after", "Completed"]);
  });

  it("keeps a sleep and an invoke that discovery re-reports as they were (no second timer, no second child)", async () => {
    const [eventId = ""] = await h.send([{ name: "t/parallel-mix", data: { key: "mix" } }]);
    const run = await h.runOf(eventId);
    await h.waitForStep(
      run.run_id,
      (step) => step.op === "InvokeFunction" && step.ended_at !== null,
    );
    await h.idle();
    const sleepStart = Date.parse(
      (await h.timeline(run.run_id)).find((step) => step.op === "Sleep")?.started_at ?? "",
    );
    // The flaky step's retry comes later on the clock; each discovery after it reports the sleep again.
    await h.advance(10);
    await h.waitForStep(run.run_id, (step) => step.op === "StepRun" && step.name === "flaky-once");
    await h.advanceTo(sleepStart + 3600_000 - 1);
    expect((await h.run(run.run_id)).status).toBe("Running");
    await h.advanceTo(sleepStart + 3600_000);

    const ended = await h.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Completed",
      output: { flaky: "flaky ok", echo: { echoed: "mix" } },
    });
    const steps = await h.timeline(run.run_id);
    expect(steps.filter((step) => step.op === "Sleep").map((step) => step.duration_ms)).toEqual([
      3600_000,
    ]);
    expect(steps.filter((step) => step.op === "InvokeFunction")).toHaveLength(1);
    expect(await h.runsOfFunction("steps-echo")).toHaveLength(1);
    expect(timesRan("mix:flaky")).toBe(2);
  });

  it("stores the events step.sendEvent sends and starts their functions", async () => {
    const [eventId = ""] = await h.send([{ name: "t/fan-out", data: { key: "fan" } }]);
    const [run] = await h.waitForRuns(eventId);
    expect(run?.output).toEqual({ ids: [expect.any(String), expect.any(String)] });
    const sent = (run?.output as { ids: string[] } | undefined)?.ids ?? [];

    const stored = (await h.events("t/fan-item")).filter((event) => event.data.key === "fan");
    expect(new Set(stored.map((event) => event.internal_id))).toEqual(new Set(sent));
    const outputs = await Promise.all(sent.map(async (id) => (await h.waitForRuns(id))[0]));
    const fanItem = await h.functionId("steps-fan-item");
    expect(outputs.map((child) => [child?.function_id, child?.status, child?.output])).toEqual(
      expect.arrayContaining([
        [fanItem, "Completed", { i: 1, times10: 10 }],
        [fanItem, "Completed", { i: 2, times10: 20 }],
      ]),
    );
  });

  it("starts a run only for events that satisfy the trigger's if expression", async () => {
    const [small = "", big = ""] = await h.send([
      { name: "t/purchase", data: { amount: 5 } },
      { name: "t/purchase", data: { amount: 50 } },
    ]);
    const [bigRun] = await h.waitForRuns(big);
    expect(bigRun).toMatchObject({
      function_id: await h.functionId("steps-big-spender"),
      output: "big 50",
    });
    await h.idle();
    expect(await h.runsOf(small)).toEqual([]);
  });

  it("starts functions whose wildcard trigger covers the event name, and no others", async () => {
    const [inside = "", outside = ""] = await h.send([
      { name: "wild/thing.happened" },
      { name: "wilder/thing" },
    ]);
    const [run] = await h.waitForRuns(inside);
    expect(run).toMatchObject({
      function_id: await h.functionId("steps-any-wild"),
      output: "saw wild/thing.happened",
    });
    await h.idle();
    expect(await h.runsOf(outside)).toEqual([]);
  });

  it("starts one run per function for a sender's event id seen again within 24 h, but stores both", async () => {
    const [first = ""] = await h.send([
      { name: "t/once", id: "order-1", data: { key: "dup", n: 1 } },
    ]);
    await h.waitForRuns(first);
    await h.advance(23 * 3600_000);
    const [second = ""] = await h.send([
      { name: "t/once", id: "order-1", data: { key: "dup", n: 2 } },
    ]);
    await h.idle();
    expect(await h.runsOf(second)).toEqual([]);
    expect(timesRan("once:dup")).toBe(1);
    const stored = (await h.events("t/once")).filter((event) => event.id === "order-1");
    expect(stored.map((event) => event.internal_id)).toEqual([second, first]);

    // After 24 h the id is free again; and events without an id are never deduplicated.
    await h.advance(3600_000);
    const [third = ""] = await h.send([
      { name: "t/once", id: "order-1", data: { key: "dup", n: 3 } },
    ]);
    expect((await h.waitForRuns(third))[0]?.output).toBe(3);
    const plain = await h.send([
      { name: "t/once", data: { key: "plain", n: 4 } },
      { name: "t/once", data: { key: "plain", n: 4 } },
    ]);
    for (const id of plain) expect(await h.waitForRuns(id)).toHaveLength(1);
    expect(timesRan("once:plain")).toBe(2);
  });
});
