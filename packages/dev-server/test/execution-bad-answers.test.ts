import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { createRestClient, waitFor } from "@repo/test-utils";
import { Inngest } from "inngest";
import { serve } from "inngest/node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../src";

/**
 * A 206 the server cannot act on (a body that is not JSON ops, or only ops it does not know) is an
 * error of the call: retried with backoff, shown in the timeline, and the run's failure once the
 * attempts are spent. Before, the run was left with nothing queued, Running for ever.
 */

const garbage: Record<string, string> = {
  "invalid-json": '[{"op": "StepRun", "id": ',
  "unknown-op": JSON.stringify([{ op: "Teleport", id: "beam" }]),
};

let server: DevServer;
let app: Server;
/** How many calls of each run still get the bad answer. */
const badCallsLeft = new Map<string, number>();

beforeAll(async () => {
  server = await startDevServer({
    port: 0,
    storage: "memory://",
    retry: { baseMs: 10, maxMs: 50 },
  });
  const inngest = new Inngest({ id: "bad-answers", isDev: true, baseUrl: server.url });
  const handler = serve({
    client: inngest,
    functions: [
      inngest.createFunction(
        { id: "fragile", triggers: [{ event: "t/fragile" }], retries: 2 },
        async ({ step }) => `${await step.run("a", () => "A")}!`,
      ),
    ],
  });
  // The event names the bad answer and how many first calls of its run get it.
  app = createServer((request, response) => {
    if (request.method !== "POST") return void handler(request, response);
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        event: { data: { fault: string; times?: number } };
        ctx: { run_id: string };
      };
      const left = badCallsLeft.get(body.ctx.run_id) ?? Number(body.event.data.times ?? 1);
      if (left > 0) {
        badCallsLeft.set(body.ctx.run_id, left - 1);
        response
          .writeHead(206, { "content-type": "application/json", "x-inngest-sdk": "inngest-js:v4" })
          .end(garbage[body.event.data.fault]);
        return;
      }
      badCallsLeft.set(body.ctx.run_id, 0);
      // Replayed to the SDK handler: the same request, its body already read.
      const replay = Object.assign(Readable.from([Buffer.concat(chunks)]), {
        headers: request.headers,
        method: request.method,
        url: request.url,
        socket: request.socket,
      });
      void handler(replay as never, response);
    });
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  await server.sync(`http://127.0.0.1:${(app.address() as AddressInfo).port}/api/inngest`);
});

afterAll(async () => {
  app?.close();
  app?.closeAllConnections();
  await server?.close();
});

const endedRun = async (fault: string, times: number) => {
  const rest = createRestClient(server.url);
  const [eventId = ""] = await rest.send({ name: "t/fragile", data: { fault, times } });
  const run = await waitFor(`the ${fault} run to end`, async () => {
    const [found] = await rest.eventRuns(eventId);
    return found && found.status !== "Running" && found;
  });
  return { run, timeline: (await rest.timeline(run.run_id)).steps };
};

it.each([
  ["invalid-json", /not JSON ops: \[\{"op": "StepRun", "id": /],
  ["unknown-op", /unknown ops only: Teleport/],
])("retries a run whose app answers %s, and shows why in its timeline", async (fault, message) => {
  const { run, timeline } = await endedRun(fault, 1);
  expect(run).toMatchObject({ status: "Completed", output: "A!" });
  expect(timeline[0]).toMatchObject({ op: "FunctionError", attempt: 0 });
  expect(timeline[0]?.error?.message).toMatch(message);
});

it("fails the run with that error once its attempts are spent", async () => {
  const { run, timeline } = await endedRun("unknown-op", 99);
  expect(run.status).toBe("Failed");
  expect(timeline.filter((step) => step.op === "FunctionError")).toHaveLength(3);
});
