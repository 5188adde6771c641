import type { ConcurrencySlot, FunctionRecord, QueueItem, WireEvent } from "../types";
import { flowKey } from "./keys";

/**
 * `concurrency`: at most `limit` calls of the runs sharing a key execute at once (steps, not runs:
 * a sleeping or waiting run holds no slot). A run's slots are evaluated once, when it is scheduled;
 * `fn`-scoped limits are per function, `env`/`account` ones share the key across functions.
 */
export function concurrencySlots(fn: FunctionRecord, event: WireEvent): ConcurrencySlot[] {
  return fn.options.concurrency.map((option) => {
    const owner = option.scope === "fn" ? `fn:${fn.slug}:${option.index}` : option.scope;
    return { key: flowKey(owner, option.key, event), limit: option.limit };
  });
}

/**
 * Slots taken per key, and the calls waiting for one, oldest (by queue order) first. A call takes
 * one slot of each of its keys or, if one is full, waits on that key until a holder releases it.
 */
export class ConcurrencySlotTable {
  private readonly taken = new Map<string, number>();
  private readonly holders = new Map<QueueItem, string[]>();
  private readonly waiting = new Map<string, QueueItem[]>();

  /** Takes a slot of each key for `item`; or returns the first full key (nothing taken). */
  take(item: QueueItem, slots: readonly ConcurrencySlot[]): string | null {
    const full = this.fullKey(slots);
    if (full) return full;
    for (const slot of slots) this.taken.set(slot.key, (this.taken.get(slot.key) ?? 0) + 1);
    this.holders.set(
      item,
      slots.map((slot) => slot.key),
    );
    return null;
  }

  fullKey(slots: readonly ConcurrencySlot[]): string | null {
    return slots.find((slot) => (this.taken.get(slot.key) ?? 0) >= slot.limit)?.key ?? null;
  }

  inUse(key: string): number {
    return this.taken.get(key) ?? 0;
  }

  /** Queues `item` on `key`, in queue order (due time, then id): a prioritised call goes first. */
  wait(key: string, item: QueueItem): void {
    let line = this.waiting.get(key);
    if (!line) {
      line = [];
      this.waiting.set(key, line);
    }
    let at = line.length;
    while (at > 0 && queueOrder(item, line[at - 1] as QueueItem) < 0) at--;
    line.splice(at, 0, item);
  }

  /**
   * `holder` is done: its slots free, and each goes to the first call in line for its key that
   * can run. Returns those calls (to be put back in play). `isLive` says whether a waiting call is
   * still wanted (its run may have ended); `slotsOf` gives a call's slots, since with two limits
   * the other may still be full: then the call moves to that key's line.
   */
  release(
    holder: QueueItem,
    isLive: (item: QueueItem) => boolean,
    slotsOf: (item: QueueItem) => readonly ConcurrencySlot[],
  ): QueueItem[] {
    const keys = this.holders.get(holder);
    if (!keys) return [];
    this.holders.delete(holder);
    const woken: QueueItem[] = [];
    for (const key of keys) {
      const held = (this.taken.get(key) ?? 1) - 1;
      if (held > 0) this.taken.set(key, held);
      else this.taken.delete(key);
      const line = this.waiting.get(key);
      while (line?.length) {
        const next = line.shift() as QueueItem;
        if (!isLive(next)) continue;
        const other = this.fullKey(slotsOf(next));
        if (other && other !== key) {
          this.wait(other, next);
          continue;
        }
        woken.push(next);
        break;
      }
      if (line?.length === 0) this.waiting.delete(key);
    }
    return woken;
  }

  clear(): void {
    this.taken.clear();
    this.holders.clear();
    this.waiting.clear();
  }
}

export function queueOrder(a: QueueItem, b: QueueItem): number {
  return a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
