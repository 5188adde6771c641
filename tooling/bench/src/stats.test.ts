import { describe, expect, it } from "vitest";
import { median, percentile, ratio, relativeSpread, summarize } from "./stats";

const oneToHundred = Array.from({ length: 100 }, (_, i) => 100 - i);

describe("percentile (nearest rank)", () => {
  it("answers measured samples: p50 of 1..100 is 50, p99 is 99, p100 the max, p0 the min", () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
  });

  it("rounds the rank up: p99 of 10 samples is the largest, p50 of 3 the middle one", () => {
    expect(percentile([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 99)).toBe(10);
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });

  it("leaves the input unsorted and ignores NaN", () => {
    const samples = [3, Number.NaN, 1, 2];
    expect(percentile(samples, 100)).toBe(3);
    expect(samples).toEqual([3, Number.NaN, 1, 2]);
  });

  it("is NaN without samples and refuses a p outside 0-100", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(/0 to 100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/0 to 100/);
  });
});

describe("median, summarize, spread and ratio", () => {
  it("takes the middle of an odd count and the mean of the middle two of an even count", () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("summarizes rounds as median, min, max, keeping each round in order", () => {
    expect(summarize([12, 10, 11])).toEqual({ median: 11, min: 10, max: 12, rounds: [12, 10, 11] });
    const missing = summarize([Number.NaN, 4]);
    expect(missing).toMatchObject({ median: 4, min: 4, max: 4 });
  });

  it("gives the spread as half the range over the median", () => {
    expect(relativeSpread(summarize([90, 100, 110]))).toBeCloseTo(0.1);
    expect(relativeSpread(summarize([0, 0, 0]))).toBeNaN();
  });

  it("divides by the floor, NaN when the floor is 0 or unknown", () => {
    expect(ratio(30, 20)).toBe(1.5);
    expect(ratio(30, 0)).toBeNaN();
    expect(ratio(Number.NaN, 20)).toBeNaN();
  });
});
