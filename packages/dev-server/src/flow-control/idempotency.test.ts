import { describe, expect, it } from "vitest";
import { functionInternalId } from "../functions/internal-id";
import { parseFunctionOptions } from "../functions/options";
import type { FunctionRecord, StoredEvent, WireEvent } from "../types";
import { IDEMPOTENCY_TTL_MS, idempotencyKey } from "./idempotency";

function fn(options: Record<string, unknown> = {}): FunctionRecord {
  const config = {
    id: "app-fn",
    triggers: [{ event: "app/ping" }],
    steps: {
      step: { id: "step", name: "step", runtime: { type: "http", url: "http://x/api/inngest" } },
    },
    ...options,
  };
  return {
    slug: "app-fn",
    appUrl: "http://x/api/inngest",
    internalId: functionInternalId("app-fn"),
    appId: "app",
    name: "fn",
    config,
    options: parseFunctionOptions(config),
  };
}

function stored(id: string | null, data: Record<string, unknown> = {}): StoredEvent {
  return { internalId: "01E", id, name: "app/ping", data, user: {}, ts: 0, v: null, receivedAt: 0 };
}

function wire(event: StoredEvent): WireEvent {
  return { id: event.internalId, name: event.name, data: event.data, user: {}, ts: 0 };
}

function keyOf(record: FunctionRecord, event: StoredEvent, cron: string | null = null) {
  return idempotencyKey(record, event, wire(event), cron);
}

describe("idempotencyKey", () => {
  it("holds 24 hours", () => {
    expect(IDEMPOTENCY_TTL_MS).toBe(86_400_000);
  });

  it("is the function's expression value when it has an idempotency expression", () => {
    const record = fn({ idempotency: "event.data.orderId" });
    expect(keyOf(record, stored("sender-1", { orderId: 42 }))).toBe("app-fn:expr:42");
    expect(keyOf(record, stored(null, { orderId: "o-7" }))).toBe("app-fn:expr:o-7");
  });

  it("is the sender's event id when there is no expression", () => {
    expect(keyOf(fn(), stored("sender-1"))).toBe("app-fn:sender-1");
  });

  it("is none without an expression and without a sender id", () => {
    expect(keyOf(fn(), stored(null))).toBeNull();
  });

  it("ignores the expression for a cron run (only the tick's own event id keys it)", () => {
    const record = fn({ idempotency: "event.data.orderId" });
    expect(keyOf(record, stored(null, { orderId: 42 }), "0 9 * * *")).toBeNull();
    expect(keyOf(record, stored("app-fn:2026-01-01T09:00:00.000Z"), "0 9 * * *")).toBe(
      "app-fn:app-fn:2026-01-01T09:00:00.000Z",
    );
  });

  it("is none for a batch, even with a sender id", () => {
    const record = fn({ batchEvents: { maxSize: 10, timeout: "5s" } });
    expect(keyOf(record, stored("sender-1"))).toBeNull();
  });
});
