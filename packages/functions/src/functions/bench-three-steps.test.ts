import { InngestTestEngine } from "@inngest/test";
import { describe, expect, it } from "vitest";
import { event, testFunctions } from "../../test/support";

const { benchThreeSteps: benchThreeStepsFn } = testFunctions();

describe("bench-three-steps", () => {
  const engine = new InngestTestEngine({ function: benchThreeStepsFn });

  it("runs its three steps in order on the event's n and returns (n + 1) * 2 - 1", async () => {
    const { result, error, ctx } = await engine.execute({
      events: [event("bench/three.steps", { n: 20 })],
    });
    expect(error).toBeUndefined();
    expect(result).toEqual({ n: 20, result: 41 });
    expect(ctx.step.run).toHaveBeenCalledTimes(3);
    expect(stepIds(ctx.step.run)).toEqual(["one", "two", "three"]);
  });

  it("runs one step per call: the first call ends with the first step's result", async () => {
    const { step } = await new InngestTestEngine({ function: benchThreeStepsFn }).executeStep(
      "one",
      { events: [event("bench/three.steps", { n: 1 })] },
    );
    expect(step).toMatchObject({ op: "StepRun", displayName: "one", data: 2 });
  });

  it("rejects an event without a numeric n", async () => {
    const { result, error } = await engine.execute({
      events: [event("bench/three.steps", { n: "x" })],
    });
    expect(result).toBeUndefined();
    expect(error).toMatchObject({ name: "EventValidationError" });
    expect(String((error as Error).message)).toContain("n");
  });
});

/** The ids `step.run` was called with, in call order. */
function stepIds(mock: unknown): string[] {
  return (mock as { mock: { calls: unknown[][] } }).mock.calls.map((call) => String(call[0]));
}
