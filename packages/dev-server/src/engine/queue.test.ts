import { describe, expect, it } from "vitest";
import type { CallItem, CronItem, QueueItem } from "../types";
import { DueQueue } from "./queue";

function call(id: string, dueAt: number, runId = "run-1"): CallItem {
  return { id, kind: "call", runId, stepId: "step", attempt: 0, dueAt, data: {} };
}

function cron(id: string, dueAt: number): CronItem {
  return {
    id,
    kind: "cron",
    runId: null,
    stepId: null,
    attempt: 0,
    dueAt,
    data: { slug: "s", cron: "* * * * *" },
  };
}

/** Pops everything due at `now`, in order. */
function drain(queue: DueQueue, now: number): string[] {
  const out: string[] = [];
  for (let item = queue.popDue(now); item; item = queue.popDue(now)) out.push(item.id);
  return out;
}

const ids = (items: QueueItem[]) => items.map((item) => item.id).sort();

describe("DueQueue", () => {
  it("pops due items by dueAt, then by id", () => {
    const queue = new DueQueue();
    for (const item of [call("c", 5), call("b", 5), call("z", 1), call("a", 9), call("d", 3)]) {
      queue.put(item);
    }
    expect(drain(queue, 100)).toEqual(["z", "d", "b", "c", "a"]);
    expect(queue.size).toBe(0);
  });

  it("pops nothing before it is due, and an item exactly at its dueAt", () => {
    const queue = new DueQueue();
    queue.put(call("a", 10));
    expect(queue.popDue(9)).toBeUndefined();
    expect(queue.peek()?.id).toBe("a");
    expect(queue.popDue(10)?.id).toBe("a");
    expect(queue.has("a")).toBe(false);
  });

  it("put replaces the item with the same id (the old one never comes due)", () => {
    const queue = new DueQueue();
    queue.put(call("a", 1));
    queue.put(call("b", 5));
    const later = call("a", 10);
    queue.put(later);
    expect(queue.size).toBe(2);
    expect(queue.get("a")).toBe(later);
    expect(drain(queue, 5)).toEqual(["b"]);
    expect(queue.popDue(10)).toBe(later);
    expect(queue.popDue(100)).toBeUndefined();
  });

  it("delete removes an item: it is never popped", () => {
    const queue = new DueQueue();
    queue.put(call("a", 1));
    queue.put(call("b", 2));
    queue.delete("a");
    queue.delete("missing");
    expect(queue.has("a")).toBe(false);
    expect(queue.size).toBe(1);
    expect(drain(queue, 100)).toEqual(["b"]);
  });

  it("ofRun lists a run's queued items, not popped or deleted ones nor runless ones", () => {
    const queue = new DueQueue();
    queue.put(call("a", 1, "run-1"));
    queue.put(call("b", 2, "run-1"));
    queue.put(call("c", 3, "run-2"));
    queue.put(cron("tick", 50));
    expect(ids(queue.ofRun("run-1"))).toEqual(["a", "b"]);
    queue.popDue(1);
    expect(ids(queue.ofRun("run-1"))).toEqual(["b"]);
    queue.delete("b");
    expect(queue.ofRun("run-1")).toEqual([]);
    expect(ids(queue.ofRun("run-2"))).toEqual(["c"]);
  });

  it("a parked item stays queued but is not popped until unparked", () => {
    const queue = new DueQueue();
    queue.put(call("a", 1));
    const popped = queue.popDue(1) as QueueItem;
    queue.park(popped);
    expect(queue.has("a")).toBe(true);
    expect(ids(queue.ofRun("run-1"))).toEqual(["a"]);
    expect(queue.popDue(100)).toBeUndefined();
    expect(queue.unpark(popped)).toBe(true);
    expect(queue.popDue(100)).toBe(popped);
  });

  it("unpark is refused for a parked item deleted or replaced meanwhile", () => {
    const queue = new DueQueue();
    const deleted = call("a", 1);
    queue.park(deleted);
    queue.delete("a");
    expect(queue.unpark(deleted)).toBe(false);
    const replaced = call("b", 1);
    queue.park(replaced);
    const newer = call("b", 50);
    queue.put(newer);
    expect(queue.unpark(replaced)).toBe(false);
    expect(queue.popDue(49)).toBeUndefined();
    expect(queue.popDue(50)).toBe(newer);
  });

  it("keeps order across many puts (heap)", () => {
    const queue = new DueQueue();
    const dues = [7, 3, 9, 1, 8, 2, 6, 4, 5, 0];
    for (const [i, due] of dues.entries()) queue.put(call(`i${i}`, due));
    const order: number[] = [];
    for (let item = queue.popDue(100); item; item = queue.popDue(100)) order.push(item.dueAt);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
