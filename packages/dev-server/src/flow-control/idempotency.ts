import { evaluateKey } from "../expressions";
import type { FunctionRecord, StoredEvent, WireEvent } from "../types";

/** How long an idempotency key holds: 24 hours, as in Inngest. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/**
 * The key under which a new run of `fn` is claimed: a second run with the same key within 24 h is
 * not created. An `idempotency` expression gives the key; else the sender's own event id does
 * (a cron tick's event has one, `<slug>:<tick>`, so each tick runs once; the expression is not
 * applied to ticks). Batches have none (a batch is not one event: Go keys it by the batch id,
 * which is never seen twice). The claim itself is checked against the store, in the run's commit.
 */
export function idempotencyKey(
  fn: FunctionRecord,
  first: StoredEvent,
  firstWire: WireEvent,
  cron: string | null,
): string | null {
  const expression = fn.options.idempotency;
  if (expression && cron === null) {
    return `${fn.slug}:expr:${evaluateKey(expression, { event: firstWire }) ?? ""}`;
  }
  if (first.id && !fn.options.batch) return `${fn.slug}:${first.id}`;
  return null;
}
