import type { FunctionContext } from "../context";
import { benchThreeSteps } from "../events";

/**
 * The benchmark probe of `pnpm bench` (tooling/bench): three sequential `step.run`s doing trivial
 * work, no database, no logging, so what a run costs is the SDK, the framework and the Inngest
 * server, nothing of our own. Classic execution makes it 4 calls to the app: each step runs in its
 * own call (immediate execution after discovery), the fourth call returns the output.
 */
export function defineBenchThreeSteps({ inngest }: FunctionContext) {
  return inngest.createFunction(
    { id: "bench-three-steps", name: "Bench: three steps", triggers: [benchThreeSteps] },
    async ({ event, step }) => {
      const a = await step.run("one", () => event.data.n + 1);
      const b = await step.run("two", () => a * 2);
      const c = await step.run("three", () => b - 1);
      return { n: event.data.n, result: c };
    },
  );
}
