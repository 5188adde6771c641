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

describe("decideThrottle (limit 2 per 8 s: interval 4 s; limit + burst start at once)", () => {
  it("burst 1: 5 events at t=0 start at 0, 0, 0, 4 s, 8 s (as measured on Inngest); none dropped", () => {
    expect(startTimes(twoPer8s(1), 5)).toEqual([0, 0, 0, 4 * S, 8 * S]);
  });

  it("burst 0: two at once, then one every 4 s", () => {
    expect(startTimes(twoPer8s(0), 5)).toEqual([0, 0, 4 * S, 8 * S, 12 * S]);
  });

  it("limit 1 per 10 s, no burst: one at once, then one every 10 s", () => {
    const option = { limit: 1, periodMs: 10 * S, burst: 0, key: null };
    expect(startTimes(option, 3)).toEqual([0, 10 * S, 20 * S]);
  });

  it("returns the bucket key and moves the TAT one interval per event", () => {
    const states: GcraStates = new Map();
    const first = decideThrottle("app-fn", twoPer8s(0), event("a"), states, 0);
    expect(first).toEqual({ key: "throttle:app-fn::", startAt: 0, tat: 4 * S });
    states.set(first.key, first.tat);
    const second = decideThrottle("app-fn", twoPer8s(0), event("a"), states, S);
    expect(second).toEqual({ key: "throttle:app-fn::", startAt: S, tat: 8 * S });
    states.set(second.key, second.tat);
    expect(decideThrottle("app-fn", twoPer8s(0), event("a"), states, S)).toEqual({
      key: "throttle:app-fn::",
      startAt: 4 * S,
      tat: 12 * S,
    });
  });

  it("keeps key values independent", () => {
    const states: GcraStates = new Map();
    const option = twoPer8s(0, "event.data.userId");
    expect(startTimes(option, 3, 0, states, "a")).toEqual([0, 0, 4 * S]);
    expect(startTimes(option, 2, 0, states, "b")).toEqual([0, 0]);
    expect(states.get("throttle:app-fn:event.data.userId:a")).toBe(12 * S);
    expect(states.get("throttle:app-fn:event.data.userId:b")).toBe(8 * S);
  });

  it("refills: after an idle period the whole limit + burst starts at once again", () => {
    const states: GcraStates = new Map([["throttle:app-fn::", 40 * S]]);
    expect(startTimes(twoPer8s(1), 4, 100 * S, states)).toEqual([
      100 * S,
      100 * S,
      100 * S,
      104 * S,
    ]);
  });
});
