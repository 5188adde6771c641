import { describe, expect, it } from "vitest";
import type { RateLimitOption } from "../functions/options";
import type { WireEvent } from "../types";
import type { GcraStates } from "./gcra";
import { decideRateLimit } from "./rate-limit";

const S = 1000;
const fivePerMinute: RateLimitOption = {
  limit: 5,
  periodMs: 60 * S,
  period: "60s",
  key: "event.data.userId",
};

function event(userId: string): WireEvent {
  return { id: "01E", name: "app/ping", data: { userId }, user: {}, ts: 0 };
}

/** One event through the limiter, storing the TAT as the runner does when it is allowed. */
function send(states: GcraStates, userId: string, now: number, option = fivePerMinute) {
  const decision = decideRateLimit("app-fn", option, event(userId), states, now);
  if (decision.allowed) states.set(decision.key, decision.tat);
  return decision;
}

describe("decideRateLimit (GCRA, limit 5 per 60 s: interval 12 s)", () => {
  it("allows the first 5 events at t=0, each moving the TAT 12 s ahead", () => {
    const states: GcraStates = new Map();
    const tats = [1, 2, 3, 4, 5].map(() => {
      const decision = send(states, "a", 0);
      expect(decision.allowed).toBe(true);
      return decision.allowed ? decision.tat : Number.NaN;
    });
    expect(tats).toEqual([12 * S, 24 * S, 36 * S, 48 * S, 60 * S]);
    expect([...states.keys()]).toEqual(["app-fn:event.data.userId:a"]);
  });

  it("refuses the 6th event at t=0 with a reason naming the limit, period and key value", () => {
    const states: GcraStates = new Map();
    for (let i = 0; i < 5; i++) send(states, "a", 0);
    expect(send(states, "a", 0)).toEqual({
      allowed: false,
      reason: "rate limited: over 5 run(s) per 60s for event.data.userId = a",
    });
    // A refused event does not move the TAT.
    expect(states.get("app-fn:event.data.userId:a")).toBe(60 * S);
  });

  it("allows exactly one more event 12 s later, then refuses again", () => {
    const states: GcraStates = new Map();
    for (let i = 0; i < 5; i++) send(states, "a", 0);
    expect(send(states, "a", 12 * S - 1).allowed).toBe(false);
    expect(send(states, "a", 12 * S)).toEqual({
      allowed: true,
      key: "app-fn:event.data.userId:a",
      tat: 72 * S,
    });
    expect(send(states, "a", 12 * S).allowed).toBe(false);
  });

  it("keeps one bucket per key value: user b is not limited by user a", () => {
    const states: GcraStates = new Map();
    for (let i = 0; i < 5; i++) send(states, "a", 0);
    expect(send(states, "a", 0).allowed).toBe(false);
    const b = send(states, "b", 0);
    expect(b).toEqual({ allowed: true, key: "app-fn:event.data.userId:b", tat: 12 * S });
  });

  it("counts a TAT in the past as now: a long idle saves up no burst", () => {
    const states: GcraStates = new Map([["app-fn:event.data.userId:a", 0]]);
    const now = 3600 * S;
    const allowed = [1, 2, 3, 4, 5, 6, 7].map(() => send(states, "a", now).allowed);
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
    expect(states.get("app-fn:event.data.userId:a")).toBe(now + 60 * S);
  });

  it("without a key, shares one bucket and names no key in the reason", () => {
    const option = { limit: 1, periodMs: 10 * S, period: "10s", key: null };
    const states: GcraStates = new Map();
    expect(send(states, "a", 0, option)).toEqual({ allowed: true, key: "app-fn::", tat: 10 * S });
    expect(send(states, "b", 0, option)).toEqual({
      allowed: false,
      reason: "rate limited: over 1 run(s) per 10s",
    });
  });

  it("admits the whole limit when the interval is not a whole number of ms (3 per 10 s)", () => {
    const states: GcraStates = new Map();
    const threePerTenSeconds = { limit: 3, periodMs: 10 * S, period: "10s", key: null };
    const allowed = [1, 2, 3, 4].map(() => send(states, "a", 0, threePerTenSeconds).allowed);
    expect(allowed).toEqual([true, true, true, false]);
  });
});
