import { describe, expect, it } from "vitest";
import { parseDuration, resolveTime } from "./durations";

describe("parseDuration", () => {
  it("adds up every unit: 1w2d3h4m5s", () => {
    expect(parseDuration("1w2d3h4m5s")).toBe(
      604_800_000 + 2 * 86_400_000 + 3 * 3_600_000 + 245_000,
    );
    expect(parseDuration("1w2d3h4m5s")).toBe(788_645_000);
  });

  it("reads ms, fractions, and m vs ms", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration(" 10s ")).toBe(10_000);
  });

  it("is null for an empty string or text that is not all durations", () => {
    expect(parseDuration("")).toBeNull();
    expect(parseDuration("   ")).toBeNull();
    expect(parseDuration("5x")).toBeNull();
    expect(parseDuration("5")).toBeNull();
    expect(parseDuration("5s junk")).toBeNull();
  });

  it("gives the same answer when called again (no regex state leaks)", () => {
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1h")).toBe(3_600_000);
  });
});

describe("resolveTime", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");

  it("takes an ISO date as absolute", () => {
    expect(resolveTime("2026-01-02T03:04:05Z", now)).toBe(Date.parse("2026-01-02T03:04:05Z"));
    expect(resolveTime("2026-01-02T03:04:05.000+01:00", now)).toBe(
      Date.parse("2026-01-02T02:04:05Z"),
    );
  });

  it("clamps a date in the past to now", () => {
    expect(resolveTime("2025-06-01T00:00:00Z", now)).toBe(now);
  });

  it("takes a duration as relative to now", () => {
    expect(resolveTime("1h30m", now)).toBe(now + 5_400_000);
  });

  it("is null for neither", () => {
    expect(resolveTime("tomorrow", now)).toBeNull();
    expect(resolveTime("", now)).toBeNull();
  });
});
