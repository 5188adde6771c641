import { createHmac, timingSafeEqual } from "node:crypto";

/** The header a webhook sender puts its signature in. */
export const WEBHOOK_SIGNATURE_HEADER = "x-webhook-signature";

const SIGNATURE_FORMAT = /^sha256=([0-9a-f]{64})$/i;

function hmac(secret: string, rawBody: string | Uint8Array): Buffer {
  return createHmac("sha256", secret).update(rawBody).digest();
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as a sender computes it. */
export function signWebhook(secret: string, rawBody: string | Uint8Array): string {
  return `sha256=${hmac(secret, rawBody).toString("hex")}`;
}

/**
 * Whether `header` is the signature of exactly these body bytes. The digests are compared in
 * constant time, so the answer's timing tells an attacker nothing about how close a guess was.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  const hex = header ? SIGNATURE_FORMAT.exec(header.trim())?.[1] : undefined;
  if (!hex) return false;
  return timingSafeEqual(hmac(secret, rawBody), Buffer.from(hex, "hex"));
}
