import type { ThrottleOption } from "../functions/options";
import type { WireEvent } from "../types";
import { currentTat, type GcraStates } from "./gcra";
import { flowKey } from "./keys";

/**
 * `throttle { limit, period, burst, key }`, as Inngest runs it: GCRA on run starts per function
 * and key, interval `period / limit`. `limit + burst` runs start at once, then one every
 * `period / limit`; none is dropped: a run over the limit has its first call queued for when the
 * limit lets it start. Returns that time and the bucket's new TAT.
 */
export interface ThrottleDecision {
  key: string;
  startAt: number;
  tat: number;
}

export function decideThrottle(
  slug: string,
  option: ThrottleOption,
  event: WireEvent,
  states: GcraStates,
  now: number,
): ThrottleDecision {
  const key = flowKey(`throttle:${slug}`, option.key, event);
  const interval = option.periodMs / option.limit;
  const tat = currentTat(states, key, now);
  const atOnce = option.limit + option.burst;
  return { key, startAt: Math.max(now, tat - (atOnce - 1) * interval), tat: tat + interval };
}
