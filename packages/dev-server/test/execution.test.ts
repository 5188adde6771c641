import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness";

describe("execution through real SDK handlers", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "exec",
      (inngest) => [
        inngest.createFunction(
          { id: "three-steps", triggers: [{ event: "t/three" }] },
          async ({ event, step }) => {
            const a = await step.run("a", () => `A ${event.data.n}`);
            const b = await step.run("b", () => `${a} B`);
            await step.sleep("nap", "1s");
            const c = await step.run("c", () => `${b} C`);
            return { c };
          },
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  it("memoizes each step, sleeps durably on the virtual clock, and completes with the output", async () => {
    const [eventId = ""] = await h.send([{ name: "t/three", data: { n: 1 } }]);
    // The run stops at its sleep until the clock moves.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [run] = await h.runsOf(eventId);
      const steps = run ? await h.timeline(run.run_id) : [];
      if (steps.some((step) => step.op === "Sleep")) break;
      if (Date.now() > deadline) throw new Error("the run never reached its sleep");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await h.runsOf(eventId))[0]?.status).toBe("Running");

    await h.advance(1000);
    const [run] = await h.waitForRuns(eventId);
    expect(run).toMatchObject({
      status: "Completed",
      output: { c: "A 1 B C" },
      function_id: await h.functionId("exec-three-steps"),
    });
    const steps = await h.timeline(run?.run_id ?? "");
    expect(steps.map((step) => [step.op, step.name])).toEqual([
      ["StepRun", "a"],
      ["StepRun", "b"],
      ["Sleep", "nap"],
      ["StepRun", "c"],
      ["RunCompleted", "Completed"],
    ]);
    const sleep = steps.find((step) => step.op === "Sleep");
    expect(Date.parse(sleep?.ended_at ?? "") - Date.parse(sleep?.started_at ?? "")).toBe(1000);
  });
});
