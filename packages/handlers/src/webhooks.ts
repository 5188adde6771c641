import type { Database } from "@repo/db";
import { webhookLog } from "@repo/db";
import type { Inngest } from "inngest";
import { HttpError, jsonResponse } from "./http";
import { type Logger, sendEvents } from "./send-events";
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "./signature";
import { WEBHOOK_SOURCE_PATTERN, WEBHOOK_SOURCE_RULE } from "./webhook-source";

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export function checkWebhookSource(source: string): void {
  if (!WEBHOOK_SOURCE_PATTERN.test(source)) {
    const shown = source.length > 80 ? `${source.slice(0, 80)}…` : source;
    throw new HttpError(
      400,
      `invalid webhook source ${JSON.stringify(shown)}: expected ${WEBHOOK_SOURCE_RULE}`,
    );
  }
}

export function missingSignature(): HttpError {
  return new HttpError(401, `missing ${WEBHOOK_SIGNATURE_HEADER} header`);
}

/**
 * The payload is logged as text, so it must be text: bytes that are not UTF-8 would be altered
 * (no longer the signed body) and a NUL cannot be stored in a PostgreSQL text column at all.
 */
function payloadText(rawBody: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(rawBody);
  } catch {
    throw new HttpError(400, "webhook body is not valid UTF-8 text");
  }
  if (text.includes("\u0000")) throw new HttpError(400, "webhook body contains a NUL character");
  return text;
}

export interface WebhookDelivery {
  source: string;
  /** The body exactly as received: the signature covers these bytes. */
  rawBody: Uint8Array;
  signature: string;
}

export interface WebhookDependencies {
  inngest: Inngest.Any;
  getDatabase: () => Promise<Database>;
  webhookSecret: string;
  logger: Logger;
}

/**
 * Verifies, logs, then announces a webhook. The row is written before the event is sent: if
 * sending fails, the delivery is not lost but stays `received`, ready to be replayed.
 */
export async function acceptWebhook(
  deps: WebhookDependencies,
  delivery: WebhookDelivery,
): Promise<Response> {
  if (!verifyWebhookSignature(deps.webhookSecret, delivery.rawBody, delivery.signature)) {
    throw new HttpError(401, "invalid webhook signature");
  }
  const payload = payloadText(delivery.rawBody);
  const db = await deps.getDatabase();
  const [row] = await db
    .insert(webhookLog)
    .values({
      source: delivery.source,
      payload,
      signatureValid: true,
      status: "received",
    })
    .returning({ id: webhookLog.id });
  if (!row) throw new Error("inserting into webhook_log returned no row");

  const ids = await sendEvents(
    deps.inngest,
    [{ name: "webhook/received", data: { logId: row.id, app: deps.inngest.id } }],
    deps.logger,
    { logId: row.id },
  );
  return jsonResponse(202, { logId: row.id, ids });
}
