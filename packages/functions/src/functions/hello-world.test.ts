import { InngestTestEngine } from "@inngest/test";
import { describe, expect, it } from "vitest";
import { event, testFunctions } from "../../test/support";

const { helloWorld: helloWorldFn } = testFunctions();

describe("hello-world", () => {
  const engine = new InngestTestEngine({
    function: helloWorldFn,
    steps: [{ id: "wait-a-moment", handler: () => undefined }],
  });

  it("greets by name after its sleep", async () => {
    const { result, error, ctx } = await engine.execute({
      events: [event("test/hello.world", { name: "Ada" })],
    });
    expect(error).toBeUndefined();
    expect(result).toEqual({ message: "Hello Ada!" });
    expect(ctx.step.sleep).toHaveBeenCalledWith("wait-a-moment", "1s");
  });

  it("greets the world when no name is given", async () => {
    const { result } = await engine.execute({ events: [event("test/hello.world", {})] });
    expect(result).toEqual({ message: "Hello World!" });
  });

  it("sleeps durably: the first call ends in a 1 s Sleep op, not a timer in the process", async () => {
    const { step } = await new InngestTestEngine({ function: helloWorldFn }).executeStep(
      "wait-a-moment",
      { events: [event("test/hello.world", { name: "Ada" })] },
    );
    expect(step).toMatchObject({ op: "Sleep", name: "1s", displayName: "wait-a-moment" });
  });

  it("rejects an event whose data breaks the schema", async () => {
    const { result, error } = await engine.execute({
      events: [event("test/hello.world", { name: 42 })],
    });
    expect(result).toBeUndefined();
    expect(error).toMatchObject({ name: "EventValidationError" });
    expect(String((error as Error).message)).toContain("name");
  });
});
