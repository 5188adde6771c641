import type { QueueItem } from "../types";

/**
 * The in-memory index of the durable queue: a binary min-heap on (dueAt, id), with lazy deletion
 * (an entry is live while `items` maps its id to that same object), and the live items of each run.
 */
export class DueQueue {
  private heap: QueueItem[] = [];
  private readonly items = new Map<string, QueueItem>();
  private readonly byRun = new Map<string, Map<string, QueueItem>>();

  get size(): number {
    return this.items.size;
  }

  has(id: string): boolean {
    return this.items.has(id);
  }

  get(id: string): QueueItem | undefined {
    return this.items.get(id);
  }

  values(): IterableIterator<QueueItem> {
    return this.items.values();
  }

  /** The queued (not yet popped) items of one run. */
  ofRun(runId: string): QueueItem[] {
    return [...(this.byRun.get(runId)?.values() ?? [])];
  }

  /** Adds or replaces the item with this id. */
  put(item: QueueItem): void {
    this.delete(item.id);
    this.items.set(item.id, item);
    if (item.runId) {
      let ofRun = this.byRun.get(item.runId);
      if (!ofRun) {
        ofRun = new Map();
        this.byRun.set(item.runId, ofRun);
      }
      ofRun.set(item.id, item);
    }
    this.heap.push(item);
    this.up(this.heap.length - 1);
  }

  delete(id: string): void {
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    if (item.runId) {
      const ofRun = this.byRun.get(item.runId);
      ofRun?.delete(id);
      if (ofRun?.size === 0) this.byRun.delete(item.runId);
    }
  }

  clear(): void {
    this.items.clear();
    this.byRun.clear();
    this.heap = [];
  }

  /** The earliest live item, without removing it. */
  peek(): QueueItem | undefined {
    this.dropStale();
    return this.heap[0];
  }

  /** Removes and returns the earliest live item due at or before `now`. */
  popDue(now: number): QueueItem | undefined {
    const top = this.peek();
    if (!top || top.dueAt > now) return undefined;
    this.removeTop();
    this.delete(top.id);
    return top;
  }

  /**
   * Keeps a popped item queued but out of the heap: it waits for a concurrency slot, so it must
   * not come due again and spin the pump. It still counts as queued (`has`, `ofRun`, `delete`).
   */
  park(item: QueueItem): void {
    this.items.set(item.id, item);
    if (item.runId) {
      let ofRun = this.byRun.get(item.runId);
      if (!ofRun) {
        ofRun = new Map();
        this.byRun.set(item.runId, ofRun);
      }
      ofRun.set(item.id, item);
    }
  }

  /** Puts a parked item back in play; false when it was deleted or replaced meanwhile. */
  unpark(item: QueueItem): boolean {
    if (this.items.get(item.id) !== item) return false;
    this.heap.push(item);
    this.up(this.heap.length - 1);
    return true;
  }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0] as QueueItem;
      if (this.items.get(top.id) === top) return;
      this.removeTop();
    }
  }

  private removeTop(): void {
    const last = this.heap.pop();
    if (last && this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
  }

  private less(a: QueueItem, b: QueueItem): boolean {
    return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id < b.id);
  }

  private up(index: number): void {
    const heap = this.heap;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i] as QueueItem, heap[parent] as QueueItem)) break;
      [heap[i], heap[parent]] = [heap[parent] as QueueItem, heap[i] as QueueItem];
      i = parent;
    }
  }

  private down(index: number): void {
    const heap = this.heap;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.less(heap[left] as QueueItem, heap[smallest] as QueueItem))
        smallest = left;
      if (right < heap.length && this.less(heap[right] as QueueItem, heap[smallest] as QueueItem))
        smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as QueueItem, heap[i] as QueueItem];
      i = smallest;
    }
  }
}
