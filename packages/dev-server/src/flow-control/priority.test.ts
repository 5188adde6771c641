import { describe, expect, it } from "vitest";
import type { WireEvent } from "../types";
import { PRIORITY_MAX_MS, priorityOffsetMs } from "./priority";

function event(data: Record<string, unknown>): WireEvent {
  return { id: "01E", name: "app/ping", data, user: {}, ts: 0 };
}

const byData = { run: "event.data.p" };

describe("priorityOffsetMs", () => {
  it("turns seconds into milliseconds, either way", () => {
    expect(priorityOffsetMs(byData, event({ p: 30 }))).toBe(30_000);
    expect(priorityOffsetMs(byData, event({ p: -30 }))).toBe(-30_000);
    expect(priorityOffsetMs({ run: "event.data.vip ? 120 : 0" }, event({ vip: true }))).toBe(
      120_000,
    );
  });

  it("truncates to whole seconds, towards zero", () => {
    expect(priorityOffsetMs(byData, event({ p: 1.9 }))).toBe(1000);
    expect(priorityOffsetMs(byData, event({ p: -1.9 }))).toBe(-1000);
  });

  it("clamps to ±12 h", () => {
    expect(PRIORITY_MAX_MS).toBe(43_200_000);
    expect(priorityOffsetMs(byData, event({ p: 50_000 }))).toBe(43_200_000);
    expect(priorityOffsetMs(byData, event({ p: -50_000 }))).toBe(-43_200_000);
    expect(priorityOffsetMs(byData, event({ p: 43_200 }))).toBe(43_200_000);
  });

  it("is 0 for a value that is not a number, a missing field, or no option", () => {
    expect(priorityOffsetMs(byData, event({ p: "soon" }))).toBe(0);
    expect(priorityOffsetMs(byData, event({ p: { at: 5 } }))).toBe(0);
    expect(priorityOffsetMs(byData, event({}))).toBe(0);
    expect(priorityOffsetMs(null, event({ p: 30 }))).toBe(0);
  });
});
