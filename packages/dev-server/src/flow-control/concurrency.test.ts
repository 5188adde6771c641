import { describe, expect, it } from "vitest";
import { functionInternalId } from "../functions/internal-id";
import { parseFunctionOptions } from "../functions/options";
import type { CallItem, ConcurrencySlot, FunctionRecord, QueueItem, WireEvent } from "../types";
import { ConcurrencySlotTable, concurrencySlots } from "./concurrency";

function fn(slug: string, concurrency: unknown): FunctionRecord {
  const config = {
    id: slug,
    triggers: [{ event: "app/ping" }],
    steps: {
      step: { id: "step", name: "step", runtime: { type: "http", url: "http://x/api/inngest" } },
    },
    concurrency,
  };
  return {
    slug,
    appUrl: "http://x/api/inngest",
    internalId: functionInternalId(slug),
    appId: "app",
    name: slug,
    config,
    options: parseFunctionOptions(config),
  };
}

function event(data: Record<string, unknown>): WireEvent {
  return { id: "01E", name: "app/ping", data, user: {}, ts: 0 };
}

function call(id: string, dueAt = 0): CallItem {
  return { id, kind: "call", runId: `run-${id}`, stepId: "step", attempt: 0, dueAt, data: {} };
}

const ids = (items: QueueItem[]) => items.map((item) => item.id);
const allLive = () => true;

describe("concurrencySlots", () => {
  it("scopes a fn limit to the function and its place in the list", () => {
    const record = fn("app-a", [{ limit: 2 }, { limit: 1, key: "event.data.userId" }]);
    expect(concurrencySlots(record, event({ userId: "u1" }))).toEqual([
      { key: "fn:app-a:0::", limit: 2 },
      { key: "fn:app-a:1:event.data.userId:u1", limit: 1 },
    ]);
  });

  it("shares env and account keys across functions", () => {
    const shared = [
      { limit: 3, key: "event.data.tenant", scope: "env" },
      { limit: 5, key: "event.data.tenant", scope: "account" },
    ];
    const a = concurrencySlots(fn("app-a", shared), event({ tenant: "t1" }));
    const b = concurrencySlots(fn("app-b", shared), event({ tenant: "t1" }));
    expect(a).toEqual([
      { key: "env:event.data.tenant:t1", limit: 3 },
      { key: "account:event.data.tenant:t1", limit: 5 },
    ]);
    expect(b).toEqual(a);
  });

  it("gives each key value its own slot key", () => {
    const record = fn("app-a", { limit: 1, key: "event.data.userId" });
    const [a] = concurrencySlots(record, event({ userId: "a" }));
    const [b] = concurrencySlots(record, event({ userId: "b" }));
    expect([a?.key, b?.key]).toEqual([
      "fn:app-a:0:event.data.userId:a",
      "fn:app-a:0:event.data.userId:b",
    ]);
  });
});

describe("ConcurrencySlotTable", () => {
  const two: ConcurrencySlot[] = [{ key: "K", limit: 2 }];

  it("lets calls take slots until the limit, then names the full key", () => {
    const table = new ConcurrencySlotTable();
    expect(table.take(call("a"), two)).toBeNull();
    expect(table.take(call("b"), two)).toBeNull();
    expect(table.inUse("K")).toBe(2);
    expect(table.take(call("c"), two)).toBe("K");
    expect(table.inUse("K")).toBe(2);
  });

  it("takes nothing when one of two keys is full", () => {
    const table = new ConcurrencySlotTable();
    const slots = [
      { key: "A", limit: 5 },
      { key: "B", limit: 1 },
    ];
    table.take(call("a"), [{ key: "B", limit: 1 }]);
    expect(table.take(call("b"), slots)).toBe("B");
    expect(table.inUse("A")).toBe(0);
  });

  it("on release, wakes the first waiter in queue order (dueAt, then id)", () => {
    const table = new ConcurrencySlotTable();
    const one = [{ key: "K", limit: 1 }];
    const holder = call("h");
    table.take(holder, one);
    const late = call("a", 20);
    const earlyB = call("b", 10);
    const earlyA = call("c", 10);
    for (const item of [late, earlyB, earlyA]) table.wait("K", item);
    expect(ids(table.release(holder, allLive, () => one))).toEqual(["b"]);
    expect(table.inUse("K")).toBe(0);
    // The woken call takes the slot; its release wakes the next in line.
    table.take(earlyB, one);
    expect(ids(table.release(earlyB, allLive, () => one))).toEqual(["c"]);
    table.take(earlyA, one);
    expect(ids(table.release(earlyA, allLive, () => one))).toEqual(["a"]);
  });

  it("wakes one waiter per released slot, and none once the line is empty", () => {
    const table = new ConcurrencySlotTable();
    const one = [{ key: "K", limit: 1 }];
    const holder = call("h");
    table.take(holder, one);
    table.wait("K", call("w"));
    expect(ids(table.release(holder, allLive, () => one))).toEqual(["w"]);
    expect(table.release(holder, allLive, () => one)).toEqual([]);
    const other = call("o");
    table.take(other, one);
    expect(table.release(other, allLive, () => one)).toEqual([]);
  });

  it("skips a dead waiter (its run ended) and wakes the next live one", () => {
    const table = new ConcurrencySlotTable();
    const one = [{ key: "K", limit: 1 }];
    const holder = call("h");
    table.take(holder, one);
    table.wait("K", call("dead", 1));
    table.wait("K", call("live", 2));
    const isLive = (item: QueueItem) => item.id !== "dead";
    expect(ids(table.release(holder, isLive, () => one))).toEqual(["live"]);
  });

  it("moves a waiter whose other key is full to that key's line", () => {
    const table = new ConcurrencySlotTable();
    const a = { key: "A", limit: 1 };
    const b = { key: "B", limit: 1 };
    const holdsA = call("ha");
    const holdsB = call("hb");
    table.take(holdsA, [a]);
    table.take(holdsB, [b]);
    const both = call("w");
    table.wait("A", both);
    // A frees, but B is still full: the waiter is not woken, it waits on B now.
    expect(table.release(holdsA, allLive, () => [a, b])).toEqual([]);
    expect(table.inUse("A")).toBe(0);
    expect(ids(table.release(holdsB, allLive, () => [a, b]))).toEqual(["w"]);
    expect(table.take(both, [a, b])).toBeNull();
    expect([table.inUse("A"), table.inUse("B")]).toEqual([1, 1]);
  });

  it("frees every key a holder took", () => {
    const table = new ConcurrencySlotTable();
    const slots = [
      { key: "A", limit: 1 },
      { key: "B", limit: 1 },
    ];
    const holder = call("h");
    table.take(holder, slots);
    expect(table.fullKey(slots)).toBe("A");
    table.release(holder, allLive, () => slots);
    expect(table.fullKey(slots)).toBeNull();
  });
});
