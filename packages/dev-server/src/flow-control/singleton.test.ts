import { describe, expect, it } from "vitest";
import type { WireEvent } from "../types";
import { Singletons, singletonKey } from "./singleton";

function event(userId: string): WireEvent {
  return { id: "01E", name: "app/ping", data: { userId }, user: {}, ts: 0 };
}

describe("singletonKey", () => {
  it("is the function's bucket for the key value", () => {
    const option = { key: "event.data.userId", mode: "skip" as const };
    expect(singletonKey("app-fn", option, event("a"))).toBe("app-fn:event.data.userId:a");
    expect(singletonKey("app-fn", { key: null, mode: "skip" }, event("a"))).toBe("app-fn::");
  });

  it("is null without the option or without an event", () => {
    expect(singletonKey("app-fn", null, event("a"))).toBeNull();
    expect(singletonKey("app-fn", { key: null, mode: "skip" }, undefined)).toBeNull();
  });
});

describe("Singletons", () => {
  it("starts when the key is free", () => {
    expect(new Singletons().decide("k", "skip")).toEqual({ action: "start" });
  });

  it("skips (mode skip) or replaces (mode cancel) while a run holds the key", () => {
    const singletons = new Singletons();
    singletons.hold("k", "run-1");
    expect(singletons.decide("k", "skip")).toEqual({ action: "skip", holder: "run-1" });
    expect(singletons.decide("k", "cancel")).toEqual({ action: "replace", holder: "run-1" });
    expect(singletons.decide("other", "skip")).toEqual({ action: "start" });
  });

  it("release frees the key of the run that holds it", () => {
    const singletons = new Singletons();
    singletons.hold("k", "run-1");
    singletons.release("run-1");
    expect(singletons.holderOf("k")).toBeUndefined();
    expect(singletons.decide("k", "skip")).toEqual({ action: "start" });
  });

  it("release of a replaced run leaves the key to its replacement", () => {
    const singletons = new Singletons();
    singletons.hold("k", "run-1");
    singletons.hold("k", "run-2");
    singletons.release("run-1");
    expect(singletons.holderOf("k")).toBe("run-2");
    singletons.release("run-2");
    expect(singletons.holderOf("k")).toBeUndefined();
  });

  it("release of an unknown run changes nothing", () => {
    const singletons = new Singletons();
    singletons.hold("k", "run-1");
    singletons.release("run-9");
    expect(singletons.holderOf("k")).toBe("run-1");
  });
});
