import { describe, expect, it } from "vitest";
import type { BatchOption } from "../functions/options";
import type { StoredEvent, WireEvent } from "../types";
import { BatchBuffers } from "./batching";

function stored(internalId: string, data: Record<string, unknown> = {}): StoredEvent {
  return {
    internalId,
    id: null,
    name: "app/ping",
    data,
    user: {},
    ts: 0,
    v: null,
    receivedAt: 0,
  };
}

function wire(event: StoredEvent): WireEvent {
  return { id: event.internalId, name: event.name, data: event.data, user: {}, ts: 0 };
}

const maxThree: BatchOption = { maxSize: 3, timeoutMs: 60_000, key: null, if: null };

function add(buffers: BatchBuffers, option: BatchOption, event: StoredEvent) {
  return buffers.add("app-fn", option, event, wire(event));
}

describe("BatchBuffers", () => {
  it("with maxSize 3: buffered (opened), buffered, then full with the 3 events", () => {
    const buffers = new BatchBuffers();
    const [e1, e2, e3] = [stored("E1"), stored("E2"), stored("E3")];
    expect(add(buffers, maxThree, e1)).toEqual({
      action: "buffered",
      key: "app-fn::",
      opened: true,
      eventIds: ["E1"],
    });
    expect(add(buffers, maxThree, e2)).toEqual({
      action: "buffered",
      key: "app-fn::",
      opened: false,
      eventIds: ["E1", "E2"],
    });
    expect(add(buffers, maxThree, e3)).toEqual({
      action: "full",
      key: "app-fn::",
      opened: false,
      events: [e1, e2, e3],
    });
    // The full buffer is gone: the next event opens a new one.
    expect(buffers.firstEventId("app-fn::")).toBeUndefined();
    expect(add(buffers, maxThree, stored("E4"))).toMatchObject({
      action: "buffered",
      opened: true,
    });
  });

  it("with maxSize 1, the first event is full and opened at once", () => {
    const buffers = new BatchBuffers();
    const e1 = stored("E1");
    expect(add(buffers, { ...maxThree, maxSize: 1 }, e1)).toEqual({
      action: "full",
      key: "app-fn::",
      opened: true,
      events: [e1],
    });
  });

  it("does not batch an event for which `if` is false", () => {
    const buffers = new BatchBuffers();
    const option = { ...maxThree, if: "event.data.vip == true" };
    expect(add(buffers, option, stored("E1", { vip: false }))).toEqual({ action: "unbatched" });
    expect(add(buffers, option, stored("E2", {}))).toEqual({ action: "unbatched" });
    expect(add(buffers, option, stored("E3", { vip: true }))).toMatchObject({
      action: "buffered",
      eventIds: ["E3"],
    });
  });

  it("keeps one buffer per key value", () => {
    const buffers = new BatchBuffers();
    const option = { ...maxThree, maxSize: 2, key: "event.data.userId" };
    expect(add(buffers, option, stored("A1", { userId: "a" }))).toMatchObject({
      key: "app-fn:event.data.userId:a",
      opened: true,
    });
    expect(add(buffers, option, stored("B1", { userId: "b" }))).toMatchObject({
      action: "buffered",
      key: "app-fn:event.data.userId:b",
      opened: true,
      eventIds: ["B1"],
    });
    expect(add(buffers, option, stored("A2", { userId: "a" }))).toMatchObject({
      action: "full",
      key: "app-fn:event.data.userId:a",
    });
    expect(buffers.firstEventId("app-fn:event.data.userId:b")).toBe("B1");
  });

  it("take empties the buffer once; firstEventId names its first event until then", () => {
    const buffers = new BatchBuffers();
    const [e1, e2] = [stored("E1"), stored("E2")];
    add(buffers, maxThree, e1);
    add(buffers, maxThree, e2);
    expect(buffers.firstEventId("app-fn::")).toBe("E1");
    expect(buffers.take("app-fn::")).toEqual({ slug: "app-fn", events: [e1, e2] });
    expect(buffers.take("app-fn::")).toBeUndefined();
    expect(buffers.firstEventId("app-fn::")).toBeUndefined();
    expect(add(buffers, maxThree, stored("E3"))).toMatchObject({ opened: true, eventIds: ["E3"] });
  });

  it("restore keeps a saved buffer with events and ignores an empty one", () => {
    const buffers = new BatchBuffers();
    buffers.restore("k1", { slug: "app-fn", events: [stored("E1")] });
    buffers.restore("k2", { slug: "app-fn", events: [] });
    expect(buffers.firstEventId("k1")).toBe("E1");
    expect(buffers.take("k2")).toBeUndefined();
  });
});
