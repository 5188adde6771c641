import { webhookLog } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, useDevServerStack } from "./support";

// A payload that cannot be processed is the sender's fault, not a passing outage: the function
// throws NonRetriableError, and the server must end the run at once instead of retrying it.
describe.each(drivers)("process-webhook through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  /** Logs a webhook as the receiver does before it sends `webhook/received`. */
  async function logWebhook(source: string, payload: string) {
    const [row] = await stack.db
      .insert(webhookLog)
      .values({ source, payload, signatureValid: true })
      .returning({ id: webhookLog.id });
    if (!row) throw new Error("the webhook_log insert returned no row");
    return row.id;
  }

  const logRow = async (id: number) =>
    (await stack.db.select().from(webhookLog).where(eq(webhookLog.id, id)))[0];

  it("processes a valid payload: Completed, row processed with the result", async () => {
    const logId = await logWebhook(
      "stripe",
      JSON.stringify({
        type: "invoice.paid",
        id: "evt_123",
        data: { amount: 4200, currency: "eur" },
      }),
    );
    const run = await stack.onlyRunOf(
      await stack.send({ name: "webhook/received", data: { logId, app: stack.inngest.id } }),
    );
    const result = { type: "invoice.paid", deliveryId: "evt_123", fields: ["amount", "currency"] };

    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { logId, status: "processed", result },
    });
    expect(await logRow(logId)).toMatchObject({ status: "processed", result, error: null });
    expect((await logRow(logId))?.processedAt).toBeInstanceOf(Date);
  });

  it("leaves another app's webhook alone: its log id names a row in that app's database", async () => {
    // Two apps serving these functions share one Inngest server, each with its own database: an
    // event logged by the other app must start no run here, even where the id exists here too.
    const logId = await logWebhook("stripe", JSON.stringify({ type: "a", data: {} }));
    const theirs = await stack.send({
      name: "webhook/received",
      data: { logId, app: `not-${stack.inngest.id}` },
    });
    const ours = await stack.send({
      name: "webhook/received",
      data: { logId, app: stack.inngest.id },
    });

    // Ours runs; once it has ended and the server is idle, theirs (sent first, matched against
    // the same trigger) has started nothing.
    const run = await stack.onlyRunOf(ours);
    expect((await stack.waitForEnd(run.run_id)).status).toBe("Completed");
    await stack.advance(0);
    expect(await stack.runsOf(theirs)).toEqual([]);
  });

  it("an invalid payload fails the run at once, naming the field; no retry; row failed", async () => {
    const logId = await logWebhook("github", JSON.stringify({ type: "push" }));
    const error = "payload.data must be an object";
    const run = await stack.onlyRunOf(
      await stack.send({ name: "webhook/received", data: { logId, app: stack.inngest.id } }),
    );

    // No clock move: a retry would wait for its backoff, so Failed now means none was scheduled.
    const ended = await stack.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Failed",
      output: { name: "NonRetriableError", message: `webhook ${logId} from github: ${error}` },
    });
    expect(await logRow(logId)).toMatchObject({ status: "failed", error, result: null });

    // Time passing brings no second attempt either.
    await stack.advance(3_600_000);
    const timeline = await stack.timeline(run.run_id);
    expect(timeline.filter((step) => step.attempt > 0)).toEqual([]);
    expect(timeline.filter((step) => step.op === "StepError")).toEqual([]);
    expect(timeline.filter((step) => step.op === "FunctionError")).toHaveLength(1);
    expect(timeline.map((step) => [step.op, step.name])).toEqual([
      ["StepRun", "load-webhook"],
      ["StepRun", "process-payload"],
      ["StepRun", "mark-failed"],
      ["FunctionError", "Process webhook"],
      ["RunFailed", "Failed"],
    ]);
    expect((await stack.run(run.run_id)).status).toBe("Failed");
  });

  it("a payload that is not JSON fails the same way, with the parser's complaint", async () => {
    const logId = await logWebhook("github", "{not json");
    const run = await stack.onlyRunOf(
      await stack.send({ name: "webhook/received", data: { logId, app: stack.inngest.id } }),
    );
    const ended = await stack.waitForEnd(run.run_id);
    expect(ended.status).toBe("Failed");
    expect((ended.output as { message?: string }).message).toMatch(
      new RegExp(`^webhook ${logId} from github: payload is not valid JSON: `),
    );
    expect((await logRow(logId))?.status).toBe("failed");
  });
});
