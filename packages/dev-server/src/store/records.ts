import type { ChangeSet, NewTimelineEntry, TimelineEnd } from "../engine/changes";
import type {
  AppRecord,
  JsonObject,
  Pause,
  QueueItem,
  RunRecord,
  StepRecord,
  StoredEvent,
  TimelineEntry,
} from "../types";
import type { StoredFunction } from "./store";

/**
 * The in-memory store's records: writes as plain JSON-clean data (what the journal writes and
 * replays), the copies that keep callers from sharing the store's objects, and the sorted id lists
 * its indexes are made of.
 */

/** A change set as plain data: what the journal writes, and what `apply` takes ownership of. */
export interface SetRecord {
  events: StoredEvent[];
  newRuns: RunRecord[];
  idempotencyKeys: [string, string][];
  updatedRuns: RunRecord[];
  newSteps: StepRecord[];
  gcra: [string, number][];
  batches: [string, { slug: string; eventIds: string[] | null }][];
  addItems: QueueItem[];
  deleteItems: string[];
  addPauses: Pause[];
  deletePauses: string[];
  timeline: NewTimelineEntry[];
  endTimeline: TimelineEnd[];
}

/** One write to the store, as plain data. */
export type WriteRecord =
  | { t: "commit"; now: number; sets: SetRecord[] }
  | { t: "app"; app: AppRecord; functions: StoredFunction[] | null }
  | { t: "appError"; url: string; error: string }
  | { t: "reset" };

/** The whole state as plain data (the journal's snapshot). */
export interface StateImage {
  apps: AppRecord[];
  functions: StoredFunction[];
  events: StoredEvent[];
  idempotency: [string, number][];
  runs: RunRecord[];
  steps: StepRecord[];
  queue: QueueItem[];
  pauses: Pause[];
  timeline: TimelineEntry[];
  gcra: [string, number][];
  batches: [string, { slug: string; eventIds: string[] }][];
}

/**
 * A deep copy of a value as `JSON.stringify` then `JSON.parse` would give it (`toJSON` applied,
 * `undefined` and functions dropped from objects and null in arrays, non-finite numbers null),
 * without the text in between.
 */
export function jsonCopy(value: unknown): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case "object": {
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === "function") return jsonCopy(withJson.toJSON());
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = jsonCopy(value[i]) ?? null;
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const copy = jsonCopy((value as Record<string, unknown>)[key]);
        if (copy !== undefined) out[key] = copy;
      }
      return out;
    }
    case "bigint":
      throw new TypeError("a BigInt cannot be stored as JSON");
    default:
      return undefined;
  }
}

/** A JSON column's value: `undefined` is SQL null. */
export const col = (value: unknown): unknown => jsonCopy(value) ?? null;
export const strings = (values: readonly string[]): string[] => values.map(String);

export function copyEvent(event: StoredEvent): StoredEvent {
  return {
    internalId: event.internalId,
    id: event.id ?? null,
    name: event.name,
    data: col(event.data) as JsonObject,
    user: col(event.user) as JsonObject,
    ts: event.ts,
    v: event.v ?? null,
    receivedAt: event.receivedAt,
  };
}

export function copyRun(run: RunRecord): RunRecord {
  const concurrency = col(run.concurrency) as RunRecord["concurrency"] | null;
  return {
    runId: run.runId,
    functionSlug: run.functionSlug,
    appUrl: run.appUrl,
    eventId: run.eventId,
    eventIds: col(run.eventIds) as string[],
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt ?? null,
    output: col(run.output),
    error: col(run.error) as JsonObject | null,
    cron: run.cron ?? null,
    forceStepPlan: Boolean(run.forceStepPlan),
    requestVersion: run.requestVersion,
    ...(concurrency ? { concurrency } : {}),
  };
}

export function copyStep(step: StepRecord): StepRecord {
  return {
    runId: step.runId,
    stepId: step.stepId,
    position: step.position,
    value: col(step.value),
  };
}

export function copyItem(item: QueueItem): QueueItem {
  return {
    id: item.id,
    kind: item.kind,
    runId: item.runId ?? null,
    stepId: item.stepId ?? null,
    attempt: item.attempt,
    dueAt: item.dueAt,
    data: col(item.data),
  } as QueueItem;
}

export function copyPause(pause: Pause): Pause {
  return {
    id: pause.id,
    runId: pause.runId,
    stepId: pause.stepId,
    kind: pause.kind,
    eventName: pause.eventName,
    expression: pause.expression ?? null,
    expiresAt: pause.expiresAt,
    afterEventId: pause.afterEventId,
  };
}

export function copyTimeline(entry: TimelineEntry): TimelineEntry {
  return {
    runId: entry.runId,
    seq: entry.seq,
    stepId: entry.stepId ?? null,
    name: entry.name,
    op: entry.op,
    attempt: entry.attempt,
    startedAt: entry.startedAt,
    endedAt: entry.endedAt ?? null,
    output: col(entry.output),
    error: col(entry.error) as JsonObject | null,
  };
}

export function copyNewTimeline(entry: NewTimelineEntry): NewTimelineEntry {
  const { seq: _seq, ...rest } = copyTimeline({ ...entry, seq: 0 });
  return rest;
}

export function copyEnd(end: TimelineEnd): TimelineEnd {
  return {
    runId: end.runId,
    stepId: end.stepId,
    op: end.op,
    endedAt: end.endedAt,
    output: col(end.output),
    error: col(end.error) as JsonObject | null,
  };
}

export function copyApp(app: AppRecord): AppRecord {
  return {
    url: app.url,
    appId: app.appId ?? null,
    framework: app.framework ?? null,
    sdk: app.sdk ?? null,
    functionCount: app.functionCount ?? 0,
    syncedAt: app.syncedAt ?? null,
    error: app.error ?? null,
  };
}

export function copyFunction(fn: StoredFunction): StoredFunction {
  return {
    slug: fn.slug,
    appUrl: fn.appUrl,
    appId: fn.appId,
    name: fn.name,
    config: col(fn.config) as StoredFunction["config"],
  };
}

/** A change set as plain data, copied: the engine's objects are not kept. */
export function setRecord(set: ChangeSet): SetRecord {
  return {
    events: set.events.map(copyEvent),
    newRuns: set.newRuns.map(copyRun),
    idempotencyKeys: [...set.idempotencyKeys].map(([run, key]) => [run, key]),
    updatedRuns: [...set.updatedRuns.values()].map(copyRun),
    newSteps: set.newSteps.map(copyStep),
    gcra: [...set.gcra].map(([key, tat]) => [key, tat]),
    batches: [...set.batches].map(([key, batch]) => [
      key,
      { slug: batch.slug, eventIds: batch.eventIds === null ? null : strings(batch.eventIds) },
    ]),
    addItems: [...set.addItems.values()].map(copyItem),
    deleteItems: [...set.deleteItems],
    addPauses: set.addPauses.map(copyPause),
    deletePauses: [...set.deletePauses.keys()],
    timeline: set.timeline.map(copyNewTimeline),
    endTimeline: set.endTimeline.map(copyEnd),
  };
}

export function appRecord(app: AppRecord, functions: StoredFunction[] | null): WriteRecord {
  return { t: "app", app: copyApp(app), functions: functions?.map(copyFunction) ?? null };
}

/** Ids in ascending order, kept sorted on insert (ULIDs mostly arrive in order: an append). */
export class SortedIds {
  readonly ids: string[] = [];

  add(id: string): void {
    const { ids } = this;
    const last = ids[ids.length - 1];
    if (last === undefined || last < id) {
      ids.push(id);
      return;
    }
    ids.splice(lowerBound(ids, id), 0, id);
  }

  /** Walks ids below `before` (all if undefined), highest first, while `visit` returns true. */
  descending(before: string | undefined, visit: (id: string) => boolean): void {
    const { ids } = this;
    let i = before === undefined ? ids.length - 1 : lowerBound(ids, before) - 1;
    for (; i >= 0; i--) if (!visit(ids[i] as string)) return;
  }
}

/** The first index whose id is not below `id`. */
export function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as string) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
export const isActive = (run: RunRecord) => run.status === "Running" || run.status === "Queued";
