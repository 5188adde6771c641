import { randomFillSync } from "node:crypto";

/**
 * Monotonic ULIDs (time-ordered ids for events, runs and pauses), made for the event API's hot
 * path: 10 characters of milliseconds, 16 of randomness drawn from a pooled buffer (one
 * `randomFillSync` per 256 ids, not one per character). Within one millisecond, or when the clock
 * goes back (the virtual clock of test mode can), the previous id's random part is incremented, so
 * every id is strictly greater than the one before it in this process.
 */

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const MAX_TIME = 2 ** 48 - 1;

export type UlidFactory = (now?: number) => string;

export function monotonicUlid(): UlidFactory {
  const pool = Buffer.alloc(RANDOM_CHARS * 256);
  let poolOffset = pool.length;
  let lastTime = -1;
  const random = new Uint8Array(RANDOM_CHARS);
  let lastTimeText = "";

  const freshRandom = () => {
    if (poolOffset === pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    for (let i = 0; i < RANDOM_CHARS; i++) random[i] = (pool[poolOffset + i] as number) & 31;
    poolOffset += RANDOM_CHARS;
  };

  const increment = () => {
    for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
      if ((random[i] as number) < 31) {
        random[i] = (random[i] as number) + 1;
        return;
      }
      random[i] = 0;
    }
    throw new Error("ULID random part overflowed within one millisecond");
  };

  return (now = Date.now()) => {
    if (!Number.isInteger(now) || now < 0 || now > MAX_TIME) {
      throw new Error(`a ULID's time must be an integer millisecond in [0, 2^48), got ${now}`);
    }
    if (now > lastTime) {
      lastTime = now;
      lastTimeText = encodeTime(now);
      freshRandom();
    } else {
      increment();
    }
    let text = lastTimeText;
    for (let i = 0; i < RANDOM_CHARS; i++) text += CROCKFORD[random[i] as number];
    return text;
  };
}

function encodeTime(ms: number): string {
  let text = "";
  let rest = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    text = CROCKFORD[rest % 32] + text;
    rest = Math.floor(rest / 32);
  }
  return text;
}

/** The millisecond a ULID was made at. */
export function ulidTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < TIME_CHARS; i++) {
    const digit = CROCKFORD.indexOf((id[i] ?? "").toUpperCase());
    if (digit < 0) throw new Error(`not a ULID: ${JSON.stringify(id)}`);
    ms = ms * 32 + digit;
  }
  return ms;
}
