import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "./signature";

// HMAC-SHA256(key "secret", "hello"), as `printf hello | openssl dgst -sha256 -hmac secret` prints.
const HELLO_SIGNATURE = "sha256=88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b";

describe("signWebhook", () => {
  it("is sha256= and the hex HMAC-SHA256 of the raw body", () => {
    expect(signWebhook("secret", "hello")).toBe(HELLO_SIGNATURE);
    expect(signWebhook("secret", new TextEncoder().encode("hello"))).toBe(HELLO_SIGNATURE);
  });
});

describe("verifyWebhookSignature", () => {
  it("accepts the signature of exactly these bytes with this secret", () => {
    expect(verifyWebhookSignature("secret", "hello", HELLO_SIGNATURE)).toBe(true);
    expect(
      verifyWebhookSignature(
        "secret",
        "hello",
        HELLO_SIGNATURE.toUpperCase().replace("SHA256", "sha256"),
      ),
    ).toBe(true);
  });

  it.each([
    ["another secret", "other", "hello", HELLO_SIGNATURE],
    ["another body", "secret", "hello!", HELLO_SIGNATURE],
    ["no header", "secret", "hello", null],
    ["an empty header", "secret", "hello", ""],
    ["no sha256= prefix", "secret", "hello", HELLO_SIGNATURE.slice("sha256=".length)],
    ["another algorithm", "secret", "hello", HELLO_SIGNATURE.replace("sha256", "sha1")],
    ["a truncated digest", "secret", "hello", HELLO_SIGNATURE.slice(0, -2)],
    ["a digest that is not hex", "secret", "hello", `sha256=${"z".repeat(64)}`],
  ])("rejects %s", (_, secret, body, header) => {
    expect(verifyWebhookSignature(secret, body, header)).toBe(false);
  });
});
