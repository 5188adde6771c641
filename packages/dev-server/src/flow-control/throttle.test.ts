import { describe, expect, it } from "vitest";
import type { ThrottleOption } from "../functions/options";
import type { WireEvent } from "../types";
import type { GcraStates } from "./gcra";
import { decideThrottle } from "./throttle";

const S = 1000;

function event(userId: string): WireEvent {
  return { id: "01E", name: "app/ping", data: { userId }, user: {}, ts: 0 };
}

/** Sends `count` events at `now`, storing each TAT as the runner does; the start times. */
function startTimes(
  option: ThrottleOption,
  count: number,
  now = 0,
  states: GcraStates = new Map(),
  userId = "a",
): number[] {
  return Array.from({ length: count }, () => {
    const decision = decideThrottle("app-fn", option, event(userId), states, now);
    states.set(decision.key, decision.tat);
    return decision.startAt;
  });
}

const twoPer8s = (burst: number, key: string | null = null): ThrottleOption => ({
  limit: 2,
  periodMs: 8 * S,
  burst,
  key,
});

describe("decideThrottle (limit 2 per 8 s: interval 4 s)", () => {
  it("with burst 1, spaces 5 events sent at t=0 4 s apart; none is dropped", () => {
    expect(startTimes(twoPer8s(1), 5)).toEqual([0, 4 * S, 8 * S, 12 * S, 16 * S]);
  });

  it("with burst 2, starts two at once, then one every 4 s", () => {
    expect(startTimes(twoPer8s(2), 5)).toEqual([0, 0, 4 * S, 8 * S, 12 * S]);
  });

  it("returns the bucket key and moves the TAT one interval per event", () => {
    const states: GcraStates = new Map();
    const first = decideThrottle("app-fn", twoPer8s(1), event("a"), states, 0);
    expect(first).toEqual({ key: "throttle:app-fn::", startAt: 0, tat: 4 * S });
    states.set(first.key, first.tat);
    expect(decideThrottle("app-fn", twoPer8s(1), event("a"), states, S)).toEqual({
      key: "throttle:app-fn::",
      startAt: 4 * S,
      tat: 8 * S,
    });
  });

  it("keeps key values independent", () => {
    const states: GcraStates = new Map();
    const option = twoPer8s(1, "event.data.userId");
    expect(startTimes(option, 3, 0, states, "a")).toEqual([0, 4 * S, 8 * S]);
    expect(startTimes(option, 2, 0, states, "b")).toEqual([0, 4 * S]);
    expect(states.get("throttle:app-fn:event.data.userId:a")).toBe(12 * S);
    expect(states.get("throttle:app-fn:event.data.userId:b")).toBe(8 * S);
  });

  it("starts at once after an idle period (a past TAT counts as now)", () => {
    const states: GcraStates = new Map([["throttle:app-fn::", 4 * S]]);
    expect(startTimes(twoPer8s(1), 2, 100 * S, states)).toEqual([100 * S, 104 * S]);
  });
});
