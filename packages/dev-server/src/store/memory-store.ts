import type { ChangeSet } from "../engine/changes";
import { IDEMPOTENCY_TTL_MS } from "../flow-control/idempotency";
import type {
  AppRecord,
  JsonObject,
  Pause,
  QueueItem,
  RunRecord,
  StepRecord,
  StoredActiveRun,
  StoredEvent,
  TimelineEntry,
} from "../types";
import {
  appRecord,
  byString,
  col,
  copyApp,
  copyEvent,
  copyFunction,
  copyItem,
  copyPause,
  copyRun,
  copyStep,
  copyTimeline,
  isActive,
  push,
  type SetRecord,
  SortedIds,
  type StateImage,
  setRecord,
  type WriteRecord,
} from "./records";
import type {
  EventFilter,
  EventSummary,
  EventSummaryFilter,
  RunFilter,
  Store,
  StoredFunction,
} from "./store";

/**
 * The store in memory, with `SqlStore`'s semantics exactly: the same orders, paging cursors,
 * filters, idempotency claims and upserts. Everything written is copied in as JSON would carry it
 * (what a jsonb column keeps), and every read hands out copies: nobody outside mutates the state.
 * Alone it is `memory://`; `JournalStore` makes it durable.
 *
 * A write is first turned into a plain record (`WriteRecord`, JSON-clean), then applied: the
 * journal writes that same record, and replays it at start.
 */

export class MemoryStore implements Store {
  get kind(): "memory" | "journal" {
    return "memory";
  }

  get location(): string {
    return "memory://";
  }

  private apps = new Map<string, AppRecord>();
  private functions = new Map<string, StoredFunction>();
  private events = new Map<string, StoredEvent>();
  private eventOrder = new SortedIds();
  private eventsByName = new Map<string, SortedIds>();
  private idempotency = new Map<string, number>();
  private runs = new Map<string, RunRecord>();
  private runOrder = new SortedIds();
  private runsBySlug = new Map<string, SortedIds>();
  private activeRuns = new Set<string>();
  /** Event id → the runs it is one of the events of (`ds_run_events`). */
  private runsByEvent = new Map<string, Set<string>>();
  private steps = new Map<string, Map<string, StepRecord>>();
  private queue = new Map<string, QueueItem>();
  private queueByRun = new Map<string, Set<string>>();
  private pauses = new Map<string, Pause>();
  private timelines = new Map<string, TimelineEntry[]>();
  private gcra = new Map<string, number>();
  private batches = new Map<string, { slug: string; eventIds: string[] }>();

  async close(): Promise<void> {}

  // --- writes: a record, checked, then applied ---

  async commit(sets: readonly ChangeSet[], now: number): Promise<Set<string>[]> {
    const record: WriteRecord = { t: "commit", now, sets: sets.map(setRecord) };
    this.check(record);
    return this.apply(record);
  }

  async reset(): Promise<void> {
    this.apply({ t: "reset" });
  }

  async saveApp(app: AppRecord, functions: StoredFunction[] | null): Promise<void> {
    this.apply(appRecord(app, functions));
  }

  async setAppError(url: string, error: string): Promise<void> {
    this.apply({ t: "appError", url: String(url), error: String(error) });
  }

  /**
   * Throws where SQL would abort the transaction (an event or run id already there), before
   * anything is applied: a write lands whole or not at all.
   */
  protected check(record: WriteRecord): void {
    if (record.t !== "commit") return;
    const events = new Set<string>();
    const runs = new Set<string>();
    const claims = new Map<string, number>();
    for (const set of record.sets) {
      for (const event of set.events) {
        if (this.events.has(event.internalId) || events.has(event.internalId)) {
          throw new Error(`duplicate key: event ${event.internalId} is already stored`);
        }
        events.add(event.internalId);
      }
    }
    for (const set of record.sets) {
      const keys = new Map(set.idempotencyKeys);
      for (const run of set.newRuns) {
        const key = keys.get(run.runId);
        if (key) {
          const expires = claims.get(key) ?? this.idempotency.get(key);
          if (expires !== undefined && expires > record.now) continue;
          claims.set(key, record.now + IDEMPOTENCY_TTL_MS);
        }
        if (this.runs.has(run.runId) || runs.has(run.runId)) {
          throw new Error(`duplicate key: run ${run.runId} is already stored`);
        }
        runs.add(run.runId);
      }
    }
  }

  /** Applies a checked record, taking ownership of its objects. Commits return skipped runs. */
  protected apply(record: WriteRecord): Set<string>[] {
    switch (record.t) {
      case "commit": {
        for (const set of record.sets) for (const event of set.events) this.insertEvent(event);
        return record.sets.map((set) => this.applySet(set, record.now));
      }
      case "reset":
        this.clearRuns();
        return [];
      case "app":
        this.applyApp(record.app, record.functions);
        return [];
      case "appError": {
        const app = this.apps.get(record.url);
        if (app) app.error = record.error;
        else
          this.apps.set(record.url, {
            url: record.url,
            appId: null,
            framework: null,
            sdk: null,
            functionCount: 0,
            syncedAt: null,
            error: record.error,
          });
        return [];
      }
    }
  }

  private applyApp(app: AppRecord, functions: StoredFunction[] | null): void {
    this.apps.set(app.url, app);
    if (!functions) return;
    for (const [slug, fn] of this.functions) if (fn.appUrl === app.url) this.functions.delete(slug);
    // A slug belongs to one app: the latest app to register it takes it over.
    for (const fn of functions) this.functions.set(fn.slug, fn);
  }

  private clearRuns(): void {
    this.events.clear();
    this.eventOrder = new SortedIds();
    this.eventsByName.clear();
    this.idempotency.clear();
    this.runs.clear();
    this.runOrder = new SortedIds();
    this.runsBySlug.clear();
    this.activeRuns.clear();
    this.runsByEvent.clear();
    this.steps.clear();
    this.queue.clear();
    this.queueByRun.clear();
    this.pauses.clear();
    this.timelines.clear();
    this.gcra.clear();
    this.batches.clear();
  }

  private insertEvent(event: StoredEvent): void {
    this.events.set(event.internalId, event);
    this.eventOrder.add(event.internalId);
    let byName = this.eventsByName.get(event.name);
    if (!byName) {
      byName = new SortedIds();
      this.eventsByName.set(event.name, byName);
    }
    byName.add(event.internalId);
  }

  private insertRun(run: RunRecord): void {
    this.runs.set(run.runId, run);
    this.runOrder.add(run.runId);
    let bySlug = this.runsBySlug.get(run.functionSlug);
    if (!bySlug) {
      bySlug = new SortedIds();
      this.runsBySlug.set(run.functionSlug, bySlug);
    }
    bySlug.add(run.runId);
    if (isActive(run)) this.activeRuns.add(run.runId);
    for (const eventId of run.eventIds) {
      let runs = this.runsByEvent.get(eventId);
      if (!runs) {
        runs = new Set();
        this.runsByEvent.set(eventId, runs);
      }
      runs.add(run.runId);
    }
  }

  /** Claims an idempotency key for 24 h; false when it is already held and unexpired. */
  private claim(key: string, now: number): boolean {
    const expires = this.idempotency.get(key);
    if (expires !== undefined && expires > now) return false;
    this.idempotency.set(key, now + IDEMPOTENCY_TTL_MS);
    return true;
  }

  private applySet(set: SetRecord, now: number): Set<string> {
    const skipped = new Set<string>();
    const kept = (runId: string | null) => !runId || !skipped.has(runId);
    const keys = new Map(set.idempotencyKeys);
    for (const run of set.newRuns) {
      const key = keys.get(run.runId);
      if (key && !this.claim(key, now)) {
        skipped.add(run.runId);
        continue;
      }
      this.insertRun(run);
    }
    for (const run of set.updatedRuns) {
      const current = this.runs.get(run.runId);
      if (!current) continue;
      // The row's scalars that change; its identity, events and slots stay as inserted.
      current.status = run.status;
      current.endedAt = run.endedAt;
      current.output = run.output;
      current.error = run.error;
      current.forceStepPlan = run.forceStepPlan;
      current.requestVersion = run.requestVersion;
      if (isActive(current)) this.activeRuns.add(current.runId);
      else this.activeRuns.delete(current.runId);
    }
    for (const step of set.newSteps) {
      if (!kept(step.runId)) continue;
      let steps = this.steps.get(step.runId);
      if (!steps) {
        steps = new Map();
        this.steps.set(step.runId, steps);
      }
      const known = steps.get(step.stepId);
      if (known) known.value = step.value;
      else steps.set(step.stepId, step);
    }
    for (const [key, tat] of set.gcra) this.gcra.set(key, tat);
    for (const [key, batch] of set.batches) {
      if (batch.eventIds === null) this.batches.delete(key);
      else {
        const known = this.batches.get(key);
        if (known) known.eventIds = batch.eventIds;
        else this.batches.set(key, { slug: batch.slug, eventIds: batch.eventIds });
      }
    }
    for (const id of set.deleteItems) this.deleteItem(id);
    for (const item of set.addItems) {
      if (!kept(item.runId)) continue;
      const known = this.queue.get(item.id);
      if (known) {
        // As SQL's upsert: the item's kind, run and step stay; attempt, due time and data change.
        known.attempt = item.attempt;
        known.dueAt = item.dueAt;
        known.data = item.data as never;
        continue;
      }
      this.queue.set(item.id, item);
      if (item.runId !== null) {
        let ids = this.queueByRun.get(item.runId);
        if (!ids) {
          ids = new Set();
          this.queueByRun.set(item.runId, ids);
        }
        ids.add(item.id);
      }
    }
    for (const id of set.deletePauses) this.pauses.delete(id);
    for (const pause of set.addPauses) {
      if (!kept(pause.runId) || this.pauses.has(pause.id)) continue;
      this.pauses.set(pause.id, pause);
    }
    for (const entry of set.timeline) {
      if (!kept(entry.runId)) continue;
      let list = this.timelines.get(entry.runId);
      if (!list) {
        list = [];
        this.timelines.set(entry.runId, list);
      }
      // The record's own object (apply owns it), numbered: no copy of it to collect.
      const numbered = entry as TimelineEntry;
      numbered.seq = (list[list.length - 1]?.seq ?? 0) + 1;
      list.push(numbered);
    }
    for (const end of set.endTimeline) {
      for (const entry of this.timelines.get(end.runId) ?? []) {
        if (entry.stepId !== end.stepId || entry.op !== end.op || entry.endedAt !== null) continue;
        entry.endedAt = end.endedAt;
        entry.output = end.output ?? null;
        entry.error = end.error ?? null;
      }
    }
    return skipped;
  }

  private deleteItem(id: string): void {
    const item = this.queue.get(id);
    if (!item) return;
    this.queue.delete(id);
    if (item.runId === null) return;
    const ids = this.queueByRun.get(item.runId);
    ids?.delete(id);
    if (ids?.size === 0) this.queueByRun.delete(item.runId);
  }

  // --- the whole state as plain data, and back (the journal's snapshot) ---

  /** The state as plain data. Shares the store's objects: serialise it before the next write. */
  protected image(): StateImage {
    const steps: StepRecord[] = [];
    for (const byStep of this.steps.values()) steps.push(...byStep.values());
    const timeline: TimelineEntry[] = [];
    for (const list of this.timelines.values()) timeline.push(...list);
    return {
      apps: [...this.apps.values()],
      functions: [...this.functions.values()],
      events: this.eventOrder.ids.map((id) => this.events.get(id) as StoredEvent),
      idempotency: [...this.idempotency],
      runs: this.runOrder.ids.map((id) => this.runs.get(id) as RunRecord),
      steps,
      queue: [...this.queue.values()],
      pauses: [...this.pauses.values()],
      timeline,
      gcra: [...this.gcra],
      batches: [...this.batches],
    };
  }

  /** Replaces the state with an image's, taking ownership of its objects. */
  protected load(image: StateImage): void {
    this.apps = new Map(image.apps.map((app) => [app.url, app]));
    this.functions = new Map(image.functions.map((fn) => [fn.slug, fn]));
    this.clearRuns();
    for (const event of image.events) this.insertEvent(event);
    this.idempotency = new Map(image.idempotency);
    for (const run of image.runs) this.insertRun(run);
    for (const step of image.steps) {
      let steps = this.steps.get(step.runId);
      if (!steps) {
        steps = new Map();
        this.steps.set(step.runId, steps);
      }
      steps.set(step.stepId, step);
    }
    for (const item of image.queue) {
      this.queue.set(item.id, item);
      if (item.runId !== null) {
        let ids = this.queueByRun.get(item.runId);
        if (!ids) {
          ids = new Set();
          this.queueByRun.set(item.runId, ids);
        }
        ids.add(item.id);
      }
    }
    this.pauses = new Map(image.pauses.map((pause) => [pause.id, pause]));
    for (const entry of image.timeline) push(this.timelines, entry.runId, entry);
    for (const list of this.timelines.values()) list.sort((a, b) => a.seq - b.seq);
    this.gcra = new Map(image.gcra);
    this.batches = new Map(image.batches);
  }

  // --- apps and functions ---

  async listApps(): Promise<AppRecord[]> {
    return [...this.apps.values()].sort((a, b) => byString(a.url, b.url)).map(copyApp);
  }

  async listFunctions(): Promise<StoredFunction[]> {
    return [...this.functions.values()].sort((a, b) => byString(a.slug, b.slug)).map(copyFunction);
  }

  // --- what the engine loads at start ---

  async listActiveRuns(): Promise<StoredActiveRun[]> {
    return [...this.activeRuns].sort(byString).map((runId) => ({
      run: copyRun(this.runs.get(runId) as RunRecord),
      steps: [...(this.steps.get(runId)?.values() ?? [])]
        .sort((a, b) => a.position - b.position)
        .map(copyStep),
    }));
  }

  async loadQueue(): Promise<QueueItem[]> {
    return [...this.queue.values()]
      .sort((a, b) => a.dueAt - b.dueAt || byString(a.id, b.id))
      .map(copyItem);
  }

  async loadPauses(): Promise<Pause[]> {
    return [...this.pauses.values()].map(copyPause);
  }

  async loadGcraStates(): Promise<Map<string, number>> {
    return new Map(this.gcra);
  }

  async loadBatches(): Promise<{ key: string; functionSlug: string; eventIds: string[] }[]> {
    return [...this.batches]
      .sort(([a], [b]) => byString(a, b))
      .map(([key, batch]) => ({ key, functionSlug: batch.slug, eventIds: [...batch.eventIds] }));
  }

  // --- reads ---

  async getEvent(internalId: string): Promise<StoredEvent | null> {
    const event = this.events.get(internalId);
    return event ? copyEvent(event) : null;
  }

  async getEvents(internalIds: readonly string[]): Promise<StoredEvent[]> {
    const found: StoredEvent[] = [];
    for (const id of internalIds) {
      const event = this.events.get(id);
      if (event) found.push(copyEvent(event));
    }
    return found;
  }

  async listEvents(filter: EventFilter): Promise<StoredEvent[]> {
    const found: StoredEvent[] = [];
    if (filter.limit <= 0) return found;
    const ids = filter.name ? this.eventsByName.get(filter.name) : this.eventOrder;
    ids?.descending(filter.cursor || undefined, (id) => {
      const event = this.events.get(id) as StoredEvent;
      if (filter.receivedAfter !== undefined && !(event.receivedAt > filter.receivedAfter))
        return true;
      if (filter.receivedBefore !== undefined && !(event.receivedAt < filter.receivedBefore))
        return true;
      found.push(copyEvent(event));
      return found.length < filter.limit;
    });
    return found;
  }

  async listEventSummaries(filter: EventSummaryFilter): Promise<EventSummary[]> {
    const found: EventSummary[] = [];
    if (filter.limit <= 0) return found;
    const needle = filter.nameContains ? filter.nameContains.toLowerCase() : "";
    this.eventOrder.descending(undefined, (id) => {
      const event = this.events.get(id) as StoredEvent;
      if (needle && !event.name.toLowerCase().includes(needle)) return true;
      if (!filter.includeInternal && event.name.startsWith("inngest/")) return true;
      found.push({
        internalId: event.internalId,
        name: event.name,
        data: col(event.data) as JsonObject,
        receivedAt: event.receivedAt,
        runCount: this.runsByEvent.get(id)?.size ?? 0,
      });
      return found.length < filter.limit;
    });
    return found;
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const run = this.runs.get(runId);
    return run ? copyRun(run) : null;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const found: RunRecord[] = [];
    if (filter.limit <= 0) return found;
    const ids = filter.functionSlug ? this.runsBySlug.get(filter.functionSlug) : this.runOrder;
    ids?.descending(filter.cursor || undefined, (id) => {
      const run = this.runs.get(id) as RunRecord;
      if (filter.status && run.status !== filter.status) return true;
      found.push(copyRun(run));
      return found.length < filter.limit;
    });
    return found;
  }

  async listRunsByEvent(eventId: string): Promise<RunRecord[]> {
    return [...(this.runsByEvent.get(eventId) ?? [])]
      .sort(byString)
      .map((runId) => copyRun(this.runs.get(runId) as RunRecord));
  }

  async timeline(runId: string): Promise<TimelineEntry[]> {
    return (this.timelines.get(runId) ?? []).map(copyTimeline);
  }

  async queueOfRun(runId: string): Promise<QueueItem[]> {
    return [...(this.queueByRun.get(runId) ?? [])]
      .map((id) => this.queue.get(id) as QueueItem)
      .sort((a, b) => a.dueAt - b.dueAt || byString(a.id, b.id))
      .map(copyItem);
  }
}
