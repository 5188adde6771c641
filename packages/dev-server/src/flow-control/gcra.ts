/**
 * GCRA (the generic cell rate algorithm), the arithmetic under rate limits and throttles: each
 * bucket keeps one number, its theoretical arrival time (TAT). One admission every
 * `period / limit` keeps TAT at the present; admissions faster than that push it ahead.
 */

/** Every bucket's TAT, by flow key; saved with the commit that moved it. */
export type GcraStates = Map<string, number>;

/** The bucket's TAT as of `now` (a TAT in the past counts as now: unused capacity is not saved). */
export function currentTat(states: GcraStates, key: string, now: number): number {
  return Math.max(states.get(key) ?? now, now);
}

/**
 * Intervals are fractions of a millisecond (`period / limit`), added up: a TAT can drift by a few
 * units in the last place. Comparisons allow that much, so that 3 per 10 s admits 3, not 2.
 */
export const GCRA_EPSILON_MS = 1e-6;
