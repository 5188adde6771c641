import { matches } from "../expressions";
import type { BatchOption } from "../functions/options";
import type { StoredEvent, WireEvent } from "../types";
import { flowKey } from "./keys";

/**
 * `batchEvents { maxSize, timeout, key, if }`: events are buffered per function and key; a full
 * buffer starts its run at once, else the buffer's timeout (counted from its first event) does.
 * Events for which `if` does not hold are not batched: each starts a run of its own.
 */
export interface BatchBuffer {
  slug: string;
  events: StoredEvent[];
}

export type BatchDecision =
  /** Not batched (`if` failed): the event starts a run of its own. */
  | { action: "unbatched" }
  /** Buffered. `opened`: it is the buffer's first event, so its timeout starts now. */
  | { action: "buffered"; key: string; opened: boolean; eventIds: string[] }
  /** It filled the buffer: these events start one run now; the buffer is gone. */
  | { action: "full"; key: string; opened: boolean; events: StoredEvent[] };

export class BatchBuffers {
  private readonly buffers = new Map<string, BatchBuffer>();

  add(slug: string, option: BatchOption, event: StoredEvent, wire: WireEvent): BatchDecision {
    if (option.if && !matches(option.if, { event: wire })) return { action: "unbatched" };
    const key = flowKey(slug, option.key, wire);
    let buffer = this.buffers.get(key);
    const opened = !buffer;
    if (!buffer) {
      buffer = { slug, events: [] };
      this.buffers.set(key, buffer);
    }
    buffer.events.push(event);
    if (buffer.events.length >= option.maxSize) {
      this.buffers.delete(key);
      return { action: "full", key, opened, events: buffer.events };
    }
    return {
      action: "buffered",
      key,
      opened,
      eventIds: buffer.events.map((each) => each.internalId),
    };
  }

  /** Empties the buffer (its timeout came); undefined when it already ran or never was. */
  take(key: string): BatchBuffer | undefined {
    const buffer = this.buffers.get(key);
    this.buffers.delete(key);
    return buffer;
  }

  /** The first event's id of the open buffer of `key` (which timer belongs to it). */
  firstEventId(key: string): string | undefined {
    return this.buffers.get(key)?.events[0]?.internalId;
  }

  /** At start: a buffer as it was saved. */
  restore(key: string, buffer: BatchBuffer): void {
    if (buffer.events.length > 0) this.buffers.set(key, buffer);
  }

  clear(): void {
    this.buffers.clear();
  }
}
