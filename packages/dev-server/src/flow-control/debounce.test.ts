import { describe, expect, it } from "vitest";
import type { DebounceOption } from "../functions/options";
import type { WireEvent } from "../types";
import { decideDebounce } from "./debounce";

const S = 1000;

function event(userId: string): WireEvent {
  return { id: "01E", name: "app/ping", data: { userId }, user: {}, ts: 0 };
}

const nothingPending = () => undefined;

describe("decideDebounce", () => {
  it("with period 5 s and nothing pending, is due 5 s from now and starts the period now", () => {
    const option: DebounceOption = { periodMs: 5 * S, timeoutMs: null, key: null };
    expect(decideDebounce("app-fn", option, event("a"), nothingPending, 7 * S)).toEqual({
      itemId: "debounce:app-fn::",
      dueAt: 12 * S,
      firstAt: 7 * S,
    });
  });

  it("without a timeout, each event pushes the due time 5 s past it, however long", () => {
    const option: DebounceOption = { periodMs: 5 * S, timeoutMs: null, key: null };
    const pending = () => 0;
    expect(decideDebounce("app-fn", option, event("a"), pending, 100 * S).dueAt).toBe(105 * S);
  });

  it("with timeout 12 s, events every 4 s push the due time until firstAt + 12 s caps it", () => {
    const option: DebounceOption = { periodMs: 5 * S, timeoutMs: 12 * S, key: null };
    const firstAts = new Map<string, number>();
    const dues = [0, 4, 8, 12].map((at) => {
      const decision = decideDebounce(
        "app-fn",
        option,
        event("a"),
        (id) => firstAts.get(id),
        at * S,
      );
      firstAts.set(decision.itemId, decision.firstAt);
      expect(decision.firstAt).toBe(0);
      return decision.dueAt;
    });
    expect(dues).toEqual([5 * S, 9 * S, 12 * S, 12 * S]);
  });

  it("keeps one pending item per key value", () => {
    const option: DebounceOption = { periodMs: 5 * S, timeoutMs: null, key: "event.data.userId" };
    const firstAts = new Map([["debounce:app-fn:event.data.userId:a", 1 * S]]);
    const lookup = (id: string) => firstAts.get(id);
    const a = decideDebounce("app-fn", option, event("a"), lookup, 3 * S);
    const b = decideDebounce("app-fn", option, event("b"), lookup, 3 * S);
    expect(a).toEqual({ itemId: "debounce:app-fn:event.data.userId:a", dueAt: 8 * S, firstAt: S });
    expect(b).toEqual({
      itemId: "debounce:app-fn:event.data.userId:b",
      dueAt: 8 * S,
      firstAt: 3 * S,
    });
  });
});
