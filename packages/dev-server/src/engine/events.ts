import type { JsonObject, StoredEvent, WireEvent } from "../types";
import { monotonicUlid } from "../ulid";

/** ULIDs for events, runs and pauses: time-ordered, strictly increasing within the process. */
export const nextUlid = monotonicUlid();

export interface EventInput {
  name: string;
  data?: JsonObject;
  id?: string | null;
  ts?: number | undefined;
  user?: JsonObject;
  v?: string | null;
}

/** A stored event, as received from a sender at `now` (ids and timestamps filled in). */
export function makeEvent(input: EventInput, now: number): StoredEvent {
  return {
    internalId: nextUlid(now),
    id: input.id ?? null,
    name: input.name,
    data: input.data ?? {},
    user: input.user ?? {},
    ts: input.ts ?? now,
    v: input.v ?? null,
    receivedAt: now,
  };
}

/** The event as the SDK and CEL expressions see it: its id is the internal one. */
export function toWire(event: StoredEvent): WireEvent {
  return {
    id: event.internalId,
    name: event.name,
    data: event.data,
    user: event.user,
    ts: event.ts,
    ...(event.v ? { v: event.v } : {}),
  };
}

/** Exact names, and wildcards: `app/*` matches every event whose name starts with `app/`. */
export function eventNameMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (!pattern.endsWith("*")) return false;
  return name.startsWith(pattern.slice(0, -1));
}
