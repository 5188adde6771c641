import { describe, expect, it } from "vitest";
import type { RateLimitOption } from "../functions/options";
import type { WireEvent } from "../types";
import type { GcraStates } from "./gcra";
import { decideRateLimit, rateLimitBurst } from "./rate-limit";

const S = 1000;
const fivePerMinute: RateLimitOption = {
  limit: 5,
  periodMs: 60 * S,
  period: "1m",
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

/** Which of `count` events sent at `now` start a run. */
function admitted(option: RateLimitOption, count: number, now = 0, states = new Map()) {
  return Array.from({ length: count }, () => send(states, "a", now, option).allowed);
}

describe("decideRateLimit (GCRA, burst floor(limit / 10))", () => {
  it("limit 2 per 1 m, 4 events at once: exactly 1 starts (as measured on Inngest)", () => {
    const option = { ...fivePerMinute, limit: 2 };
    expect(admitted(option, 4)).toEqual([true, false, false, false]);
  });

  it("limit 5 per 1 m: one at once, the 2nd refused with a reason naming limit, key and wait", () => {
    const states: GcraStates = new Map();
    expect(send(states, "a", 0)).toEqual({
      allowed: true,
      key: "app-fn:event.data.userId:a",
      tat: 12 * S,
    });
    expect(send(states, "a", 0)).toEqual({
      allowed: false,
      reason:
        "rate limited: over 5 run(s) per 1m for event.data.userId = a (next one allowed in 12s)",
    });
    // A refused event does not move the TAT.
    expect(states.get("app-fn:event.data.userId:a")).toBe(12 * S);
  });

  it("limit 5 per 1 m refills one every 12 s, never earlier", () => {
    const states: GcraStates = new Map();
    expect(send(states, "a", 0).allowed).toBe(true);
    expect(send(states, "a", 12 * S - 1).allowed).toBe(false);
    expect(send(states, "a", 12 * S).allowed).toBe(true);
    expect(send(states, "a", 12 * S).allowed).toBe(false);
    expect(send(states, "a", 24 * S).allowed).toBe(true);
  });

  it("limit 20 per 1 m: 3 at once (burst 2), then one every 3 s", () => {
    const option = { ...fivePerMinute, limit: 20 };
    const states: GcraStates = new Map();
    expect(admitted(option, 4, 0, states)).toEqual([true, true, true, false]);
    expect(send(states, "a", 3 * S - 1, option).allowed).toBe(false);
    expect(send(states, "a", 3 * S, option).allowed).toBe(true);
  });

  it("the burst is floor(limit / 10)", () => {
    expect([1, 5, 9, 10, 19, 20, 100].map(rateLimitBurst)).toEqual([0, 0, 0, 1, 1, 2, 10]);
  });

  it("keeps key values independent", () => {
    const states: GcraStates = new Map();
    expect(send(states, "a", 0).allowed).toBe(true);
    expect(send(states, "a", 0).allowed).toBe(false);
    expect(send(states, "b", 0).allowed).toBe(true);
  });

  it("saves no capacity while idle: after an hour, still one at once", () => {
    const states: GcraStates = new Map([["app-fn:event.data.userId:a", 12 * S]]);
    expect(admitted(fivePerMinute, 2, 3600 * S, states)).toEqual([true, false]);
  });

  it("without a key, shares one bucket and names no key in the reason", () => {
    const option = { limit: 1, periodMs: 10 * S, period: "10s", key: null };
    const states: GcraStates = new Map();
    expect(send(states, "a", 0, option)).toEqual({ allowed: true, key: "app-fn::", tat: 10 * S });
    expect(send(states, "b", 0, option)).toEqual({
      allowed: false,
      reason: "rate limited: over 1 run(s) per 10s (next one allowed in 10s)",
    });
  });

  it("admits on time when period / limit is a fraction of a ms (30 per 1 s, burst 3)", () => {
    const option = { limit: 30, periodMs: S, period: "1s", key: null };
    expect(admitted(option, 5)).toEqual([true, true, true, true, false]);
  });
});
