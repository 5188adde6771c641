import { createHash } from "node:crypto";
import { ulid } from "ulid";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { functionInternalId } from "../src/functions/internal-id";
import { CHECKPOINTING, type Harness, MODE, perMode, startHarness } from "./harness";

/**
 * Async checkpointing (the README's "Checkpointing"): the server sends `ctx.fn_id` and `ctx.qi_id`,
 * the SDK runs several steps in one call and posts each to `/v1/checkpoint/:runId/async`. Runs
 * here in both modes: in classic mode the same runs take one call per step and the route only
 * refuses.
 */

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** A gate a step waits on, opened by the test. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe(`checkpointing (${MODE} mode)`, () => {
  let h: Harness;
  const ran: string[] = [];
  let held = gate();
  let started = gate();

  beforeAll(async () => {
    h = await startHarness(
      "ckpt",
      (inngest) => [
        inngest.createFunction(
          { id: "three", triggers: [{ event: "ckpt/three" }], retries: 0 },
          async ({ event, step }) => {
            const a = await step.run("a", () => `A${event.data.n}`);
            const b = await step.run("b", () => `${a}B`);
            const c = await step.run("c", () => `${b}C`);
            return event.data.output === undefined ? { c } : event.data.output;
          },
        ),
        inngest.createFunction(
          { id: "held", triggers: [{ event: "ckpt/held" }], retries: 0 },
          async ({ step }) => {
            await step.run("first", () => {
              ran.push("first");
              return 1;
            });
            await step.run("held", async () => {
              started.open();
              await held.opened;
              ran.push("held");
              return 2;
            });
            await step.run("after", () => {
              ran.push("after");
              return 3;
            });
            return "done";
          },
        ),
        inngest.createFunction(
          {
            id: "long",
            triggers: [{ event: "ckpt/long" }],
            retries: 0,
            // The SDK stops running new steps in a call after this long, and plans them instead.
            checkpointing: { maxRuntime: 300 },
          },
          async ({ step }) => {
            const a = await step.run("slow", async () => {
              await new Promise((resolve) => setTimeout(resolve, 600));
              return "S";
            });
            const b = await step.run("next", () => `${a}N`);
            const c = await step.run("last", () => `${b}L`);
            return c;
          },
        ),
        inngest.createFunction(
          { id: "sleepy", triggers: [{ event: "ckpt/sleepy" }], retries: 0 },
          async ({ step }) => {
            const a = await step.run("a", () => "A");
            const b = await step.run("b", () => `${a}B`);
            await step.sleep("nap", "1s");
            const c = await step.run("c", () => `${b}C`);
            return c;
          },
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());
  afterEach(() => {
    ran.length = 0;
    held = gate();
    started = gate();
  });

  const runOfEvent = async (name: string, data: Record<string, unknown> = {}) => {
    const [eventId = ""] = await h.send([{ name, data }]);
    return h.runOf(eventId);
  };

  it("serves a three-step run in one call instead of four, with each step memoized and timed", async () => {
    const run = await h.waitForEnd((await runOfEvent("ckpt/three", { n: 1 })).run_id);
    expect(run).toMatchObject({ status: "Completed", output: { c: "A1BC" } });
    const calls = h.callsOf(run.run_id);
    expect(calls.map((call) => [call.stepId, call.status])).toEqual(
      perMode({
        classic: [
          ["step", 206],
          ["step", 206],
          ["step", 206],
          ["step", 200],
        ],
        checkpointing: [["step", 206]],
      }),
    );
    // The server names the function (by its internal id, as REST v1 does) and the queue item
    // only when it checkpoints.
    const fnId = functionInternalId("ckpt-three");
    expect(calls.every((call) => (call.fnIdSent === fnId) === CHECKPOINTING)).toBe(true);
    expect(calls.every((call) => (call.qiId !== null) === CHECKPOINTING)).toBe(true);
    expect(h.checkpoints.filter((checkpoint) => checkpoint.runId === run.run_id)).toEqual(
      perMode({
        classic: [],
        checkpointing: ["a", "b", "c"].map((id) => ({
          runId: run.run_id,
          qiId: calls[0]?.qiId,
          stepIds: [sha1(id)],
          status: 200,
        })),
      }),
    );
    if (CHECKPOINTING)
      expect(JSON.parse(calls[0]?.body ?? "")).toMatchObject([{ op: "RunComplete" }]);
    const timeline = await h.timeline(run.run_id);
    expect(timeline.map((step) => [step.op, step.name, step.attempt, step.output])).toEqual([
      ["StepRun", "a", 0, "A1"],
      ["StepRun", "b", 0, "A1B"],
      ["StepRun", "c", 0, "A1BC"],
      ["RunCompleted", "Completed", 0, { c: "A1BC" }],
    ]);
  });

  it.each([
    ["an empty string", ""],
    ["zero", 0],
    ["false", false],
    ["null", null],
    ["an array", [1, "two", { three: 3 }]],
    ["a nested object", { a: { b: [null, true] }, s: "x" }],
  ])("reports the run's output exactly over REST v1: %s", async (_, output) => {
    const run = await h.waitForEnd((await runOfEvent("ckpt/three", { n: 2, output })).run_id);
    expect(run.status).toBe("Completed");
    expect(run.output).toEqual(output);
  });

  it("a stop at a sleep: the steps before it are checkpointed, the call answers the sleep", async () => {
    const { run_id } = await runOfEvent("ckpt/sleepy");
    await h.waitForStep(run_id, (step) => step.op === "Sleep");
    await h.idle();
    expect(h.callsOf(run_id).map((call) => call.status)).toEqual(
      perMode({ classic: [206, 206, 206], checkpointing: [206] }),
    );
    await h.advance(1000);
    const run = await h.waitForEnd(run_id);
    expect(run).toMatchObject({ status: "Completed", output: "ABC" });
    const calls = h.callsOf(run_id);
    expect(calls.map((call) => call.status)).toEqual(
      perMode({ classic: [206, 206, 206, 206, 200], checkpointing: [206, 206] }),
    );
    // The call after the sleep replays what the checkpoints memoized, as classic answers would be.
    expect(calls[perMode({ classic: 3, checkpointing: 1 })]?.steps).toEqual({
      [sha1("a")]: { data: "A" },
      [sha1("b")]: { data: "AB" },
      [sha1("nap")]: null,
    });
    expect((await h.timeline(run_id)).map((step) => step.op)).toEqual([
      "StepRun",
      "StepRun",
      "Sleep",
      "StepRun",
      "RunCompleted",
    ]);
  });

  it("after its maximum runtime in a call, the SDK plans the next step, and the server runs it", async () => {
    const run = await h.waitForEnd((await runOfEvent("ckpt/long")).run_id);
    expect(run).toMatchObject({ status: "Completed", output: "SNL" });
    // Checkpointing: "slow" outlasts the call's 300 ms, so "next" comes back planned and is run
    // by a call of its own; the discovery after it runs "last" and completes.
    expect(h.callsOf(run.run_id).map((call) => call.stepId)).toEqual(
      perMode({
        classic: ["step", "step", "step", "step"],
        checkpointing: ["step", sha1("next"), "step"],
      }),
    );
    expect((await h.timeline(run.run_id)).map((step) => [step.op, step.name])).toEqual([
      ["StepRun", "slow"],
      ["StepRun", "next"],
      ["StepRun", "last"],
      ["RunCompleted", "Completed"],
    ]);
  });

  it("a cancel while a step runs stops the run there: no later step runs", async () => {
    const { run_id } = await runOfEvent("ckpt/held");
    await started.opened;
    expect((await h.cancel(run_id)).status).toBe("Cancelled");
    held.open();
    await h.waitFor("the held call to be answered", () =>
      h.callsOf(run_id).every((call) => call.status !== null),
    );
    await h.idle();
    expect(ran).toEqual(["first", "held"]);
    expect((await h.run(run_id)).status).toBe("Cancelled");
    // Classic: the held step's answer is dropped. Checkpointing: its checkpoint gets a 409, so
    // the SDK stops (and answers 400, no retry), never reaching "after".
    expect(h.callsOf(run_id).map((call) => call.status)).toEqual(
      perMode({ classic: [206, 206], checkpointing: [400] }),
    );
    expect(h.checkpoints.filter((c) => c.runId === run_id).map((c) => c.status)).toEqual(
      perMode({ classic: [], checkpointing: [200, 409] }),
    );
  });

  describe("POST /v1/checkpoint/:runId/async", () => {
    const post = (runId: string, body: unknown) =>
      fetch(`${h.server.url}/v1/checkpoint/${runId}/async`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    const valid = (runId: string, qiId = "q", steps: unknown[] = []) => ({
      run_id: runId,
      fn_id: "ckpt-held",
      qi_id: qiId,
      steps,
      ts: Date.now(),
    });

    it.each([
      ["the run id", "not-a-ulid", valid("x"), /run id must be a ULID/],
      ["malformed JSON", "ULID", "{", /malformed JSON/],
      ["a non-object body", "ULID", [1], /body must be a JSON object/],
      ["run_id", "ULID", { ...valid("x"), run_id: 5 }, /^run_id must be a non-empty string/],
      ["a run_id of another run", "ULID", valid(ulid()), /run_id ".*" is not the run of the path/],
      ["fn_id", "ULID", { ...valid("ULID"), fn_id: "" }, /^fn_id must be a non-empty string/],
      ["qi_id", "ULID", { ...valid("ULID"), qi_id: null }, /^qi_id must be a non-empty string/],
      ["steps", "ULID", { ...valid("ULID"), steps: {} }, /^steps must be an array/],
      ["steps[0]", "ULID", valid("ULID", "q", ["x"]), /^steps\[0\] must be an op object/],
      ["steps[0].id", "ULID", valid("ULID", "q", [{ op: "StepRun" }]), /^steps\[0\]\.id/],
      [
        "steps[1].op",
        "ULID",
        valid("ULID", "q", [
          { op: "StepRun", id: sha1("x"), data: 1 },
          { op: "Sleep", id: sha1("nap"), name: "1s" },
        ]),
        /^steps\[1\]\.op "Sleep" cannot be checkpointed/,
      ],
      ["ts", "ULID", { ...valid("ULID"), ts: "now" }, /^ts must be a number/],
    ])("refuses %s with a 400 naming it", async (_, path, body, message) => {
      const runId = path === "ULID" ? ulid() : path;
      const fixed =
        typeof body === "object" && body !== null && !Array.isArray(body)
          ? {
              ...body,
              ...((body as { run_id?: unknown }).run_id === "ULID" ? { run_id: runId } : {}),
            }
          : body;
      const response = await post(runId, fixed);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    });

    it("writes nothing of a checkpoint with one bad step, even for the call in flight", async () => {
      const { run_id } = await runOfEvent("ckpt/held");
      await started.opened;
      const qiId = h.callsOf(run_id).at(-1)?.qiId ?? "none";
      const before = await h.timeline(run_id);
      const response = await post(
        run_id,
        valid(run_id, qiId, [
          { op: "StepRun", id: sha1("forged"), data: "x" },
          { op: "StepRun", id: "" },
        ]),
      );
      expect(response.status).toBe(400);
      expect(await h.timeline(run_id)).toEqual(before);
      held.open();
      const run = await h.waitForEnd(run_id);
      expect(run.status).toBe("Completed");
      expect((await h.timeline(run_id)).map((step) => step.name)).toEqual([
        "first",
        "held",
        "after",
        "Completed",
      ]);
    });

    it("answers 409 to a checkpoint of an unknown run, an ended run, or a call not in flight", async () => {
      const unknown = ulid();
      expect((await post(unknown, valid(unknown))).status).toBe(409);

      const ended = await h.waitForEnd((await runOfEvent("ckpt/three", { n: 3 })).run_id);
      const endedQi = h.callsOf(ended.run_id)[0]?.qiId ?? "q";
      const answer = await post(
        ended.run_id,
        valid(ended.run_id, endedQi, [{ op: "StepRun", id: sha1("z"), data: 1 }]),
      );
      expect(answer.status).toBe(409);
      expect(((await answer.json()) as { error: string }).error).toMatch(/is not running/);

      // A run waiting at its sleep has no call in flight: any qi_id is stale.
      const { run_id } = await runOfEvent("ckpt/sleepy");
      await h.waitForStep(run_id, (step) => step.op === "Sleep");
      await h.idle();
      const lastQi = h.callsOf(run_id).at(-1)?.qiId ?? "q";
      const stale = await post(
        run_id,
        valid(run_id, lastQi, [{ op: "StepRun", id: sha1("forged"), data: "x" }]),
      );
      expect(stale.status).toBe(409);
      expect(((await stale.json()) as { error: string }).error).toMatch(/qi_id .* not a call/);
      expect((await h.timeline(run_id)).map((step) => step.name)).toEqual(["a", "b", "nap"]);
      await h.advance(1000);
      expect((await h.waitForEnd(run_id)).output).toBe("ABC");
    });

    it("answers 409 to a qi_id or fn_id other than the call in flight's, which goes on unharmed", async () => {
      const { run_id } = await runOfEvent("ckpt/held");
      await started.opened;
      const qiId = h.callsOf(run_id).at(-1)?.qiId ?? "none";
      const forged = [{ op: "StepRun", id: sha1("forged"), data: "x" }];
      expect((await post(run_id, valid(run_id, `${qiId}-other`, forged))).status).toBe(409);
      if (CHECKPOINTING) {
        const wrongFn = { ...valid(run_id, qiId, forged), fn_id: "ckpt-three" };
        expect((await post(run_id, wrongFn)).status).toBe(409);
      }
      held.open();
      const run = await h.waitForEnd(run_id);
      expect(run).toMatchObject({ status: "Completed", output: "done" });
      expect(ran).toEqual(["first", "held", "after"]);
      expect((await h.timeline(run_id)).map((step) => step.name)).not.toContain("forged");
    });
  });
});

describe.runIf(CHECKPOINTING)("checkpointing when the checkpoint API fails", () => {
  const ran: string[] = [];
  const functions = (inngest: Harness["inngest"]) => [
    inngest.createFunction(
      { id: "two", triggers: [{ event: "ckpt/two" }], retries: 0 },
      async ({ step }) => {
        const a = await step.run("a", () => {
          ran.push("a");
          return "A";
        });
        const b = await step.run("b", () => {
          ran.push("b");
          return `${a}B`;
        });
        return b;
      },
    ),
  ];

  const buffered = (inngest: Harness["inngest"]) => [
    inngest.createFunction(
      {
        id: "buffered",
        triggers: [{ event: "ckpt/buffered" }],
        retries: 0,
        // Two steps per checkpoint: the SDK holds a step until the next one has run.
        checkpointing: { bufferedSteps: 2 },
      },
      async ({ step }) => {
        const a = await step.run("a", () => "A");
        const b = await step.run("b", () => `${a}B`);
        const c = await step.run("c", () => `${b}C`);
        return c;
      },
    ),
  ];

  it.each([
    ["pass", [["a", "b"]], [[206, false]]],
    [
      "fail",
      [],
      [
        [206, false],
        [206, false],
      ],
    ],
  ] as const)(
    "takes several steps per checkpoint, and several StepRuns in one answer, with checkpoints that %s",
    async (checkpointApi, checkpointed, calls) => {
      const h = await startHarness("ckpt-buffered", buffered, { checkpointApi });
      try {
        const [eventId = ""] = await h.send([{ name: "ckpt/buffered" }]);
        const run = await h.waitForEnd((await h.runOf(eventId)).run_id);
        expect(run).toMatchObject({ status: "Completed", output: "ABC" });
        expect(h.checkpoints.map((checkpoint) => checkpoint.stepIds)).toEqual(
          checkpointed.map((ids) => ids.map(sha1)),
        );
        // "c" is still buffered when the function returns: it comes with RunComplete. Failing
        // checkpoints: a and b come back as one answer of two StepRuns, which are not parallel
        // steps (the next call may still run steps inline and checkpoint them).
        expect(
          h.callsOf(run.run_id).map((call) => [call.status, call.disableImmediateExecution]),
        ).toEqual(calls);
        const answers = h
          .callsOf(run.run_id)
          .map((call) => (JSON.parse(call.body ?? "[]") as { op: string }[]).map((op) => op.op));
        expect(answers.at(-1)).toEqual(["StepRun", "RunComplete"]);
        expect((await h.timeline(run.run_id)).map((step) => [step.op, step.name])).toEqual([
          ["StepRun", "a"],
          ["StepRun", "b"],
          ["StepRun", "c"],
          ["RunCompleted", "Completed"],
        ]);
      } finally {
        await h.close();
      }
    },
  );

  it.each([
    ["fail", "never reach the server"],
    ["lose-answer", "reach the server but their answers are lost"],
  ] as const)(
    "falls back to answering each step when checkpoints %s (%s): each memoized once",
    async (checkpointApi, _) => {
      ran.length = 0;
      const h = await startHarness("ckpt-fail", functions, { checkpointApi });
      try {
        const [eventId = ""] = await h.send([{ name: "ckpt/two" }]);
        const run = await h.waitForEnd((await h.runOf(eventId)).run_id);
        expect(run).toMatchObject({ status: "Completed", output: "AB" });
        expect(ran).toEqual(["a", "b"]);
        // Each call ran one step, failed to checkpoint it (the SDK tries 5 times), and answered
        // it as a classic call would; the last call completes.
        const calls = h.callsOf(run.run_id);
        expect(calls.map((call) => call.status)).toEqual([206, 206, 206]);
        expect(calls.slice(0, 2).map((call) => JSON.parse(call.body ?? "")[0].op)).toEqual([
          "StepRun",
          "StepRun",
        ]);
        expect(h.checkpoints.map((checkpoint) => checkpoint.status)).toEqual(
          checkpointApi === "fail" ? [] : Array(10).fill(200),
        );
        expect((await h.timeline(run.run_id)).map((step) => [step.op, step.name])).toEqual([
          ["StepRun", "a"],
          ["StepRun", "b"],
          ["RunCompleted", "Completed"],
        ]);
      } finally {
        await h.close();
      }
    },
  );
});
