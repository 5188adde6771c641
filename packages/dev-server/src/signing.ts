import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * Inngest's request signatures (the README's "Secure mode"): HMAC-SHA256 over the JCS-canonical body plus
 * the unix time, keyed with the signing key minus its `signkey-<env>-` prefix, used as ASCII.
 */
const PREFIX = /^signkey-\w+-/;

export function canonicalJson(value: unknown): string {
  return canonicalize(value) ?? "";
}

function mac(signingKey: string, body: string, timestamp: number): string {
  return createHmac("sha256", signingKey.replace(PREFIX, ""))
    .update(body + timestamp)
    .digest("hex");
}

export function signatureHeader(signingKey: string, body: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t}&s=${mac(signingKey, body, t)}`;
}

/** How far a signature's time may be from ours, either way: 5 minutes, as the SDK allows. */
export const SIGNATURE_MAX_AGE_MS = 5 * 60_000;

/**
 * Why an `x-inngest-signature` over `body` does not hold, or null when it does: missing, malformed,
 * signed more than 5 minutes from now (stale), or not the HMAC of this body (tampered, or another
 * key).
 */
export function signatureProblem(
  signingKey: string,
  body: string,
  header: string | null,
  nowMs = Date.now(),
): string | null {
  if (!header) return "it carries no x-inngest-signature";
  const params = new URLSearchParams(header);
  const t = Number(params.get("t"));
  const s = params.get("s") ?? "";
  if (!params.get("t") || !Number.isInteger(t) || !s)
    return `its x-inngest-signature "${header.slice(0, 100)}" is not t=<unix seconds>&s=<hex>`;
  const ageMs = nowMs - t * 1000;
  if (Math.abs(ageMs) > SIGNATURE_MAX_AGE_MS) {
    const minutes = (Math.abs(ageMs) / 60_000).toFixed(1);
    return ageMs > 0
      ? `its x-inngest-signature is stale: signed ${minutes} min ago, over the 5 min allowed`
      : `its x-inngest-signature is dated ${minutes} min in the future, over the 5 min allowed`;
  }
  const expected = Buffer.from(mac(signingKey, body, t));
  const given = Buffer.from(s);
  if (expected.length === given.length && timingSafeEqual(expected, given)) return null;
  return "its x-inngest-signature does not match its body with our signing key (the body was changed, or signed with another key)";
}

/** Checks an `x-inngest-signature` over `body`; the time must be within 5 minutes. */
export function verifySignature(
  signingKey: string,
  body: string,
  header: string | null,
  nowMs = Date.now(),
): boolean {
  return signatureProblem(signingKey, body, header, nowMs) === null;
}

/**
 * Why a signing key cannot work, or null. The SDK hashes the part after the prefix as hex for its
 * Bearer token, so anything else would make every register call fail to authenticate.
 */
export function signingKeyProblem(signingKey: string): string | null {
  const rest = signingKey.replace(PREFIX, "");
  if (!rest) return "the signing key is empty after its signkey-<env>- prefix";
  if (!/^(?:[0-9a-f]{2})+$/i.test(rest)) {
    return "a signing key must be signkey-<env>-<hex>, e.g. signkey-test-<64 hex digits>";
  }
  return null;
}

/** The Bearer token the SDK sends: `signkey-<env>-` + sha256 of the hex-decoded key. */
export function hashedSigningKey(signingKey: string): string {
  const prefix = signingKey.match(PREFIX)?.[0] ?? "";
  const hex = signingKey.slice(prefix.length);
  return prefix + createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex");
}
