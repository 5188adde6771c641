import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signatureHeader, signatureProblem, verifySignature } from "./signing";

const key = `signkey-test-${randomBytes(32).toString("hex")}`;
const body = '{"steps":[1]}';
const now = Date.parse("2026-01-01T00:00:00Z");

describe("signatureProblem", () => {
  it("takes the signature of this body with this key, within 5 minutes either way", () => {
    for (const skew of [0, -299_000, 299_000]) {
      expect(signatureProblem(key, body, signatureHeader(key, body, now + skew), now)).toBeNull();
    }
    expect(verifySignature(key, body, signatureHeader(key, body, now), now)).toBe(true);
  });

  it("names each way a signature fails", () => {
    expect(signatureProblem(key, body, null, now)).toMatch(/carries no x-inngest-signature/);
    expect(signatureProblem(key, body, "s=abc", now)).toMatch(/is not t=<unix seconds>&s=<hex>/);
    expect(signatureProblem(key, body, "t=1.5&s=ab", now)).toMatch(/is not t=/);
    expect(signatureProblem(key, body, signatureHeader(key, body, now - 6 * 60_000), now)).toBe(
      "its x-inngest-signature is stale: signed 6.0 min ago, over the 5 min allowed",
    );
    expect(signatureProblem(key, body, signatureHeader(key, body, now + 6 * 60_000), now)).toMatch(
      /dated 6\.0 min in the future/,
    );
    const tampered = signatureProblem(key, `${body} `, signatureHeader(key, body, now), now);
    expect(tampered).toMatch(/does not match its body with our signing key/);
    const other = `signkey-test-${randomBytes(32).toString("hex")}`;
    expect(signatureProblem(key, body, signatureHeader(other, body, now), now)).toBe(tampered);
    expect(verifySignature(key, `${body} `, signatureHeader(key, body, now), now)).toBe(false);
  });
});
