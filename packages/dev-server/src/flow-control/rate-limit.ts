import type { RateLimitOption } from "../functions/options";
import type { WireEvent } from "../types";
import { currentTat, GCRA_EPSILON_MS, type GcraStates } from "./gcra";
import { keyValue } from "./keys";

/**
 * `rateLimit { limit, period, key }`, as Inngest runs it: GCRA per function and key with the
 * interval `period / limit` and a burst of `floor(limit / 10)`. So at most `floor(limit / 10) + 1`
 * runs start at once, then one more every `period / limit`; an event over the limit starts no run
 * (it is recorded as Skipped, with why). "5 per minute" is one at once, then one every 12 s;
 * "20 per minute" three at once, then one every 3 s.
 */
export type RateLimitDecision =
  | { allowed: true; key: string; tat: number }
  | { allowed: false; reason: string };

/** How many runs may start at once beyond the first: Inngest's burst for a rate limit. */
export function rateLimitBurst(limit: number): number {
  return Math.floor(limit / 10);
}

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
  if (tat - now > rateLimitBurst(option.limit) * interval + GCRA_EPSILON_MS) {
    const bucket = option.key ? ` for ${option.key} = ${value}` : "";
    const next = Math.ceil((tat - now - rateLimitBurst(option.limit) * interval) / 1000);
    return {
      allowed: false,
      reason: `rate limited: over ${option.limit} run(s) per ${option.period}${bucket} (next one allowed in ${next}s)`,
    };
  }
  return { allowed: true, key, tat: tat + interval };
}
