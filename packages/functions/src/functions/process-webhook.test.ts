import { webhookLog } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, event, execute, useTestDatabase } from "../../test/support";
import { interpretWebhook } from "../webhooks";

describe("interpretWebhook", () => {
  it.each([
    ["not json", /^payload is not valid JSON/],
    ["[]", /^payload must be a JSON object$/],
    ['{"data":{}}', /^payload\.type must be a string/],
    ['{"type":"","data":{}}', /^payload\.type must not be empty/],
    ['{"type":"x","data":5}', /^payload\.data must be an object/],
  ])("names the problem in %s", (raw, message) => {
    const outcome = interpretWebhook(raw);
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? "" : outcome.error).toMatch(message);
  });

  it("summarises a valid payload", () => {
    expect(interpretWebhook('{"type":"invoice.paid","id":"evt_1","data":{"b":1,"a":2}}')).toEqual({
      ok: true,
      result: { type: "invoice.paid", deliveryId: "evt_1", fields: ["a", "b"] },
    });
  });
});

describe.each(drivers)("process-webhook on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { processWebhook } = database.functions;
  const { inngest } = database;

  async function logWebhook(payload: string) {
    const [row] = await database.db
      .insert(webhookLog)
      .values({ source: "billing", payload, signatureValid: true })
      .returning({ id: webhookLog.id });
    if (!row) throw new Error("insert returned nothing");
    return row.id;
  }
  const load = async (id: number) =>
    (await database.db.select().from(webhookLog).where(eq(webhookLog.id, id)))[0];

  it("processes the logged payload and marks the row processed", async () => {
    const logId = await logWebhook('{"type":"invoice.paid","data":{"invoice":"inv_1"}}');
    const { result, error } = await execute(processWebhook, [
      event("webhook/received", { logId, app: inngest.id }),
    ]);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ logId, status: "processed" });

    const row = await load(logId);
    expect(row).toMatchObject({
      status: "processed",
      error: null,
      result: { type: "invoice.paid", fields: ["invoice"] },
    });
    expect(row?.processedAt).toBeInstanceOf(Date);
  });

  it("does not process a row twice", async () => {
    const logId = await logWebhook('{"type":"a","data":{}}');
    await execute(processWebhook, [event("webhook/received", { logId, app: inngest.id })]);
    const before = await load(logId);
    const rerun = await execute(processWebhook, [
      event("webhook/received", { logId, app: inngest.id }),
    ]);
    expect(rerun.result).toEqual({ logId, status: "processed", skipped: true });
    expect((await load(logId))?.processedAt).toEqual(before?.processedAt);
  });

  it("marks a bad payload failed with the error, and fails without retries", async () => {
    const logId = await logWebhook('{"type":"invoice.paid"}');
    const { result, error } = await execute(processWebhook, [
      event("webhook/received", { logId, app: inngest.id }),
    ]);
    expect(result).toBeUndefined();
    expect(error).toMatchObject({
      name: "NonRetriableError",
      message: `webhook ${logId} from billing: payload.data must be an object`,
    });
    expect(await load(logId)).toMatchObject({
      status: "failed",
      error: "payload.data must be an object",
      result: null,
    });
  });
});
