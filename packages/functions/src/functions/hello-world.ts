import type { FunctionContext } from "../context";
import { helloWorld } from "../events";

export function defineHelloWorld({ inngest }: FunctionContext) {
  return inngest.createFunction(
    { id: "hello-world", name: "Hello world", triggers: [helloWorld] },
    async ({ event, step, logger, runId }) => {
      await step.sleep("wait-a-moment", "1s");
      const name = event.data.name ?? "World";
      logger.info("hello-world: greeted", { runId, eventId: event.id, name });
      return { message: `Hello ${name}!` };
    },
  );
}
