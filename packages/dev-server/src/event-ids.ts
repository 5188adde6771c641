/**
 * Internal event ids derived from the `x-inngest-event-id-seed` header (see the README's "Events
 * and waits").
 *
 * `inngest.send()` puts `<unix ms>,<base64 of 10 random bytes>` on every attempt of one send, and
 * retries with the same header. Deriving the ULIDs from it, as the Go server does
 * (`event.SeededIDFromString`), gives a retried send the same ids, so the server can tell that it
 * already stored those events instead of storing (and running) them twice.
 */

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAX_MS = 2 ** 48 - 1;

export interface EventIdSeed {
  ms: number;
  entropy: Uint8Array;
}

/** The seed in a header value, or null when it is absent or not of the SDK's form. */
export function parseEventIdSeed(header: string | null | undefined): EventIdSeed | null {
  if (!header) return null;
  const parts = header.split(",");
  if (parts.length !== 2) return null;
  const [msText = "", entropyText = ""] = parts;
  if (!/^\d+$/.test(msText)) return null;
  const ms = Number(msText);
  if (ms <= 0 || ms > MAX_MS) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(entropyText)) return null;
  const entropy = Buffer.from(entropyText, "base64");
  if (entropy.length !== 10) return null;
  return { ms, entropy: new Uint8Array(entropy) };
}

/**
 * The ULID of the `index`-th event (1-based, as Go counts) of a send: the seed's time, and its
 * entropy with `index` added to the last 4 bytes (big-endian, wrapping like Go's uint32).
 */
export function seededUlid(seed: EventIdSeed, index: number): string {
  const entropy = new Uint8Array(seed.entropy);
  const view = new DataView(entropy.buffer);
  view.setUint32(6, (view.getUint32(6) + index) >>> 0);
  let value = BigInt(seed.ms);
  for (const byte of entropy) value = (value << 8n) | BigInt(byte);
  let text = "";
  for (let i = 0; i < 26; i++) {
    text = CROCKFORD[Number(value & 31n)] + text;
    value >>= 5n;
  }
  return text;
}

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

export function isUlid(text: string): boolean {
  return ULID.test(text);
}
