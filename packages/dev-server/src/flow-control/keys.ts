import { evaluateKey } from "../expressions";
import type { WireEvent } from "../types";

/**
 * The bucket an event falls in for a keyed option: `<owner>:<expression>:<value>`, where the value
 * is the key expression evaluated over the event. No expression: one bucket for the owner. A key
 * that fails to evaluate shares the empty-value bucket, as a missing value does in Inngest. These
 * strings are stored (rate-limit states, batch buffers, queue ids), so their shape is kept stable.
 */
export function flowKey(owner: string, expression: string | null, event: WireEvent): string {
  return `${owner}:${expression ?? ""}:${keyValue(expression, event)}`;
}

/** The key expression's value for this event, as text ("" without an expression). */
export function keyValue(expression: string | null, event: WireEvent): string {
  return expression ? (evaluateKey(expression, { event }) ?? "") : "";
}
