import { z } from "zod";

/** What a webhook body must look like to be processed: `{ "type": "...", "data": { ... } }`. */
const webhookBody = z.object(
  {
    type: z.string({ error: "must be a string" }).min(1, "must not be empty"),
    id: z.string().optional(),
    data: z.record(z.string(), z.unknown(), { error: "must be an object" }),
  },
  { error: "must be a JSON object" },
);

export type WebhookOutcome =
  | { ok: true; result: { type: string; deliveryId: string | null; fields: string[] } }
  | { ok: false; error: string };

/** Parses and checks a logged webhook payload. Pure: the function records the outcome. */
export function interpretWebhook(rawPayload: string): WebhookOutcome {
  let json: unknown;
  try {
    json = JSON.parse(rawPayload);
  } catch (error) {
    return { ok: false, error: `payload is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = webhookBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? `payload.${issue.path.join(".")}` : "payload";
    return { ok: false, error: `${field} ${issue?.message ?? "is invalid"}` };
  }
  return {
    ok: true,
    result: {
      type: parsed.data.type,
      deliveryId: parsed.data.id ?? null,
      fields: Object.keys(parsed.data.data).sort(),
    },
  };
}
