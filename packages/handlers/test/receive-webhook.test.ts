import { webhookLog } from "@repo/db";
import { describe, expect, it } from "vitest";
import { signWebhook } from "../src/index";
import {
  drivers,
  endlessBody,
  ORIGIN,
  postStream,
  readJsonResponse,
  useHandlers,
  WEBHOOK_SECRET,
  webhookLogCount,
} from "./support";

const payload = '{"type":"invoice.paid","id":"evt_1","data":{"invoice":"inv_1","amount":4200}}';
const MiB = 1024 * 1024;

function delivery(
  source: string,
  body: string | Uint8Array,
  signature: string | null = signWebhook(WEBHOOK_SECRET, body),
) {
  return new Request(`${ORIGIN}/api/webhooks/${source}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === null ? {} : { "x-webhook-signature": signature }),
    },
    body,
  });
}

interface BadDelivery {
  name: string;
  request: () => Request;
  status: number;
  error: RegExp;
}

const invalidUtf8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);

const badDeliveries: BadDelivery[] = [
  {
    name: "a source with capitals",
    request: () => delivery("Billing", payload),
    status: 400,
    error: /^invalid webhook source "Billing": expected 1-64 lowercase letters/,
  },
  {
    name: "a source starting with -",
    request: () => delivery("-billing", payload),
    status: 400,
    error: /^invalid webhook source "-billing"/,
  },
  {
    name: "a source with a space",
    request: () => delivery("bill%20ing", payload),
    status: 400,
    error: /^invalid webhook source "bill ing"/,
  },
  {
    name: "a source of 65 characters",
    request: () => delivery("b".repeat(65), payload),
    status: 400,
    error: /^invalid webhook source/,
  },
  {
    name: "no signature header",
    request: () => delivery("billing", payload, null),
    status: 401,
    error: /^missing x-webhook-signature header$/,
  },
  {
    name: "an empty signature header",
    request: () => delivery("billing", payload, ""),
    status: 401,
    error: /^missing x-webhook-signature header$/,
  },
  {
    name: "a signature made with another secret",
    request: () => delivery("billing", payload, signWebhook("another-secret", payload)),
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a signature of another body",
    request: () => delivery("billing", payload, signWebhook(WEBHOOK_SECRET, `${payload} `)),
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a signature that is not sha256=<hex>",
    request: () => delivery("billing", payload, "v1,abc"),
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a signed body of 1 MiB and 1 byte",
    request: () => delivery("billing", "a".repeat(MiB + 1)),
    status: 413,
    error: /^request body is larger than the limit of 1 MiB$/,
  },
  {
    name: "an endless body stream",
    request: () =>
      postStream("/api/webhooks/billing", endlessBody(), {
        "x-webhook-signature": signWebhook(WEBHOOK_SECRET, "a"),
      }),
    status: 413,
    error: /^request body is larger than the limit of 1 MiB$/,
  },
  {
    name: "a signed body that is not UTF-8",
    request: () => delivery("billing", invalidUtf8),
    status: 400,
    error: /^webhook body is not valid UTF-8 text$/,
  },
  {
    name: "a signed body with a NUL character",
    request: () => delivery("billing", '{"a":"\u0000"}'),
    status: 400,
    error: /^webhook body contains a NUL character$/,
  },
];

describe.each(drivers)("receiveWebhook (%s)", (driver) => {
  const h = useHandlers(driver);
  const sent = () => h.inngest.events.map(({ name, data }) => ({ name, data }));

  it.each(badDeliveries)("$name → $status, nothing stored or sent", async (bad) => {
    const response = await readJsonResponse(await h.handlers.handle(bad.request()));

    expect(response.status).toBe(bad.status);
    expect(response.body.error).toMatch(bad.error);
    expect(Object.keys(response.body)).toEqual(["error"]);
    expect(await webhookLogCount(h.db)).toBe(0);
    expect(h.inngest.requests).toBe(0);
  });

  it("rejects an empty source when called directly", async () => {
    const response = await h.handlers.receiveWebhook(delivery("billing", payload), "");
    expect(response.status).toBe(400);
    expect(await webhookLogCount(h.db)).toBe(0);
  });

  it("logs the raw body first, then sends webhook/received with the log id", async () => {
    const response = await readJsonResponse(await h.handlers.handle(delivery("billing", payload)));

    const rows = await h.db.select().from(webhookLog);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      source: "billing",
      payload,
      signatureValid: true,
      status: "received",
      result: null,
      error: null,
      processedAt: null,
    });
    expect(response).toEqual({
      status: 202,
      body: { logId: row?.id, ids: h.inngest.answeredIds },
    });
    expect(h.inngest.answeredIds).toHaveLength(1);
    expect(sent()).toEqual([{ name: "webhook/received", data: { logId: row?.id, app: "test" } }]);
  });

  it("accepts any text payload: checking it is process-webhook's job", async () => {
    const text = "not JSON at all — ünïcödé ✓";
    const response = await h.handlers.receiveWebhook(delivery("crm_v2", text), "crm_v2");

    expect(response.status).toBe(202);
    const [row] = await h.db.select().from(webhookLog);
    expect(row).toMatchObject({ source: "crm_v2", payload: text });
  });

  it("accepts a body of exactly 1 MiB", async () => {
    const body = "a".repeat(MiB);
    const response = await h.handlers.handle(delivery("billing", body));

    expect(response?.status).toBe(202);
    const [row] = await h.db.select().from(webhookLog);
    expect(row?.payload).toHaveLength(MiB);
  });

  it("keeps the row as received and answers 502 with its log id when Inngest fails", async () => {
    const response = await readJsonResponse(
      await h.failingHandlers.handle(delivery("billing", payload)),
    );

    const rows = await h.db.select().from(webhookLog);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ payload, status: "received" });
    expect(response.status).toBe(502);
    expect(response.body).toEqual({
      error: expect.stringMatching(/^could not send the event to Inngest: /),
      logId: rows[0]?.id,
    });
    expect(h.failingInngest.requests).toBeGreaterThan(0);
    expect(h.logged).toHaveLength(1);
  });
});
