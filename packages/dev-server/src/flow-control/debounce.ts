import type { DebounceOption } from "../functions/options";
import type { WireEvent } from "../types";
import { flowKey } from "./keys";

/**
 * `debounce { period, key, timeout }`: one pending item per function and key holds the latest
 * event; each event replaces it and restarts the period, but never past `timeout` after the first
 * event of the period. When the item comes due, one run starts with the last event.
 */
export interface DebounceDecision {
  /** The pending item's queue id (the whole debounce state is that item). */
  itemId: string;
  dueAt: number;
  /** When the period's first event came: what `timeout` counts from. */
  firstAt: number;
}

export function decideDebounce(
  slug: string,
  option: DebounceOption,
  event: WireEvent,
  /** The `firstAt` of the pending item of this key, if one is pending. */
  pendingFirstAt: (itemId: string) => number | undefined,
  now: number,
): DebounceDecision {
  const itemId = flowKey(`debounce:${slug}`, option.key, event);
  const firstAt = pendingFirstAt(itemId) ?? now;
  const dueAt =
    option.timeoutMs === null
      ? now + option.periodMs
      : Math.min(now + option.periodMs, firstAt + option.timeoutMs);
  return { itemId, dueAt, firstAt };
}
