import { describe, expect, it } from "vitest";
import { invalidUtf8Offset } from "./utf8";

const bytes = (...values: number[]) => new Uint8Array(values);
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("invalidUtf8Offset", () => {
  it("is -1 for valid UTF-8 of every length, emoji included", () => {
    expect(invalidUtf8Offset(utf8('{"name":"café ✓ 𝄞"}'))).toBe(-1);
    expect(invalidUtf8Offset(bytes())).toBe(-1);
  });

  it("points at the first byte of the first bad sequence", () => {
    const prefix = utf8('{"name":"a');
    expect(invalidUtf8Offset(new Uint8Array([...prefix, 0xff, 0x41]))).toBe(prefix.length);
    expect(invalidUtf8Offset(bytes(0x41, 0xc3))).toBe(1); // truncated 2-byte sequence
    expect(invalidUtf8Offset(bytes(0x41, 0xe2, 0x28, 0xa1))).toBe(1); // bad continuation
    expect(invalidUtf8Offset(bytes(0x80))).toBe(0); // a lone continuation byte
  });

  it("refuses overlong forms, surrogates and code points past U+10FFFF", () => {
    expect(invalidUtf8Offset(bytes(0xc0, 0xaf))).toBe(0);
    expect(invalidUtf8Offset(bytes(0xe0, 0x80, 0xaf))).toBe(0);
    expect(invalidUtf8Offset(bytes(0xed, 0xa0, 0x80))).toBe(0); // U+D800
    expect(invalidUtf8Offset(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0); // U+110000
  });

  it("agrees with the platform's strict decoder on random bytes", () => {
    const strict = new TextDecoder("utf-8", { fatal: true });
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % 256;
    };
    for (let round = 0; round < 2000; round++) {
      const sample = new Uint8Array(Array.from({ length: 6 }, next));
      let valid = true;
      try {
        strict.decode(sample);
      } catch {
        valid = false;
      }
      expect(invalidUtf8Offset(sample) === -1).toBe(valid);
    }
  });
});
