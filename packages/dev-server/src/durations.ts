/** Inngest time strings: "1w2d3h4m5s", "500ms", "1m30s"; ISO dates where the SDK sends them. */
const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)/gy;

/** Milliseconds in a duration string, or null when it is not one. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(trimmed); match; match = PART.exec(trimmed)) {
    total += Number(match[1]) * (UNITS[match[2] as string] ?? 0);
    consumed = PART.lastIndex;
  }
  return consumed === trimmed.length ? total : null;
}

/**
 * When a sleep or timeout given as `name`/`timeout` ends: an RFC 3339 date (absolute), else a
 * duration from `now`. Null when neither.
 */
export function resolveTime(text: string, now: number): number | null {
  if (text.length >= 10 && /^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return Math.max(at, now);
  }
  const duration = parseDuration(text);
  return duration === null ? null : now + duration;
}
