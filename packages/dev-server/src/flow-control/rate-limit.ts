import type { RateLimitOption } from "../functions/options";
import type { WireEvent } from "../types";
import { currentTat, GCRA_EPSILON_MS, type GcraStates } from "./gcra";
import { keyValue } from "./keys";

/**
 * `rateLimit { limit, period, key }`: at most `limit` runs start per `period` and key; an event
 * over the limit starts no run (it is recorded as Skipped). GCRA per function and key: each
 * admission moves the bucket's TAT one `period / limit` ahead, and an event is refused while the
 * TAT is more than `period - period / limit` ahead of now.
 */
export type RateLimitDecision =
  | { allowed: true; key: string; tat: number }
  | { allowed: false; reason: string };

export function decideRateLimit(
  slug: string,
  option: RateLimitOption,
  event: WireEvent,
  states: GcraStates,
  now: number,
): RateLimitDecision {
  const value = keyValue(option.key, event);
  const key = `${slug}:${option.key ?? ""}:${value}`;
  const interval = option.periodMs / option.limit;
  const tat = currentTat(states, key, now);
  if (tat - now > option.periodMs - interval + GCRA_EPSILON_MS) {
    const bucket = option.key ? ` for ${option.key} = ${value}` : "";
    return {
      allowed: false,
      reason: `rate limited: over ${option.limit} run(s) per ${option.period}${bucket}`,
    };
  }
  return { allowed: true, key, tat: tat + interval };
}
