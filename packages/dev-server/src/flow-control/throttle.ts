import type { ThrottleOption } from "../functions/options";
import type { WireEvent } from "../types";
import { currentTat, type GcraStates } from "./gcra";
import { flowKey } from "./keys";

/**
 * `throttle { limit, period, burst, key }`: runs start `period / limit` apart per function and
 * key, `burst` of them at once; none is dropped: a run over the limit has its first call queued
 * for when the limit lets it start. Returns that time and the bucket's new TAT.
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
  return { key, startAt: Math.max(now, tat - (option.burst - 1) * interval), tat: tat + interval };
}
