/** The pure arithmetic of the bench: percentiles of samples, and medians with spread over rounds. */

/**
 * The p-th percentile (0-100) of the samples, nearest-rank: the smallest sample with at least p%
 * of the samples at or below it. Nearest-rank never invents a value that was not measured, and
 * p99 of 100 samples is the 99th smallest. NaN for no samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be from 0 to 100, got ${p}`);
  const finite = samples.filter(Number.isFinite);
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** The median: the middle sample, or the mean of the two middle ones. NaN for no samples. */
export function median(samples: readonly number[]): number {
  const finite = samples.filter(Number.isFinite);
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** One metric over the rounds: the median is what is reported, min and max are its spread. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Each round's value, in round order. */
  rounds: number[];
}

export function summarize(rounds: readonly number[]): Summary {
  const finite = rounds.filter(Number.isFinite);
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
    rounds: [...rounds],
  };
}

/**
 * The spread of a summary as a share of its median, from half the min-max range: `±4%` means the
 * rounds stayed within about 4% either side. NaN when the median is 0 or unknown.
 */
export function relativeSpread(summary: Summary): number {
  if (!Number.isFinite(summary.median) || summary.median === 0) return Number.NaN;
  return (summary.max - summary.min) / 2 / Math.abs(summary.median);
}

/** value / floor, the "×" figure of the table; NaN when either is unknown or the floor is 0. */
export function ratio(value: number, floor: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(floor) || floor === 0) return Number.NaN;
  return value / floor;
}
