import { decodeTime, monotonicFactory } from "ulid";
import { describe, expect, it } from "vitest";
import { isUlid } from "./event-ids";
import { monotonicUlid, ulidTime } from "./ulid";

describe("monotonicUlid", () => {
  it("encodes the time as the ulid package does, and decodes it back", () => {
    const next = monotonicUlid();
    for (const ms of [0, 1, 31, 32, 1_767_225_600_000, 2 ** 48 - 1]) {
      const id = next(ms);
      expect(isUlid(id)).toBe(true);
      // (The package reads a time of 0 as "now", so it is no reference for that one.)
      if (ms > 0) expect(id.slice(0, 10)).toBe(monotonicFactory()(ms).slice(0, 10));
      expect(decodeTime(id)).toBe(ms);
      expect(ulidTime(id)).toBe(ms);
    }
  });

  it("is strictly increasing within one millisecond and when the clock goes back", () => {
    const next = monotonicUlid();
    const ids = [next(1000), next(1000), next(1000), next(999), next(500), next(1000), next(1001)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // Within the millisecond (and after it went back) the time part stays the latest one seen.
    expect(ids.slice(0, 6).map(ulidTime)).toEqual([1000, 1000, 1000, 1000, 1000, 1000]);
    expect(ulidTime(ids[6] as string)).toBe(1001);
  });

  it("carries an increment across the random part", () => {
    const next = monotonicUlid();
    const first = next(5);
    // Enough ids in one millisecond to carry out of the last character many times.
    let previous = first;
    for (let i = 0; i < 5000; i++) {
      const id = next(5);
      expect(id > previous).toBe(true);
      previous = id;
    }
    expect(previous.slice(0, 10)).toBe(first.slice(0, 10));
    expect(previous.slice(-3)).not.toBe(first.slice(-3));
  });

  it("draws fresh randomness for each new millisecond", () => {
    const next = monotonicUlid();
    const randomParts = new Set<string>();
    for (let ms = 1; ms <= 2000; ms++) randomParts.add(next(ms).slice(10));
    expect(randomParts.size).toBe(2000);
  });

  it("refuses a time it cannot encode", () => {
    const next = monotonicUlid();
    expect(() => next(-1)).toThrow(/integer millisecond/);
    expect(() => next(2 ** 48)).toThrow(/integer millisecond/);
    expect(() => next(1.5)).toThrow(/integer millisecond/);
  });
});
