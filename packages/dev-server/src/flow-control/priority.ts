import { evaluateKey } from "../expressions";
import type { PriorityOption } from "../functions/options";
import type { WireEvent } from "../types";

/** Go's bound on a priority: 12 hours either way. */
export const PRIORITY_MAX_MS = 12 * 3600_000;

/**
 * `priority { run }`: seconds (CEL over the event) by which the run's first call moves ahead of
 * (positive) or behind (negative) work queued at the same time. Whole seconds, clamped to ±12 h;
 * an expression that does not give a number is 0.
 */
export function priorityOffsetMs(option: PriorityOption | null, event: WireEvent): number {
  if (!option) return 0;
  const seconds = Number(evaluateKey(option.run, { event }) ?? 0);
  if (!Number.isFinite(seconds)) return 0;
  return Math.max(-PRIORITY_MAX_MS, Math.min(PRIORITY_MAX_MS, Math.trunc(seconds) * 1000));
}
