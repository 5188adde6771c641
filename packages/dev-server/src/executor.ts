import { Cron } from "croner";
import { monotonicFactory } from "ulid";
import type { Clock } from "./clock";
import { parseDuration, resolveTime } from "./durations";
import { evaluateKey, matches } from "./expressions";
import { DueQueue } from "./queue";
import { AppUnreachableError, type CallResponse, type SdkClient } from "./sdk-client";
import type { SqlExecutor } from "./store/sql";
import type { Store } from "./store/store";
import type {
  FunctionRecord,
  JsonObject,
  Pause,
  QueueItem,
  RunRecord,
  StoredEvent,
  TimelineEntry,
  WireEvent,
} from "./types";

/**
 * The executor: routes events to functions and waiting runs, and drives each run by calling its
 * app one step at a time (protocol notes §6, §7, §10). All state changes go to the store in one
 * transaction before they take effect in memory, so a restart on the same storage resumes every
 * run where it stood, and no memoized step runs again.
 *
 * Concurrency: each change to a run's state happens under that run's lock, but the HTTP call to
 * the app does not hold it. So the planned steps of a `Promise.all` really run at the same time,
 * and a cancel takes effect at once even while a step is running (its answer is then dropped).
 * A run has at most one discovery call in flight: a state change that needs another one while a
 * discovery is out asks for it to be repeated when it is back (`rediscover`), since its snapshot
 * of the run is stale.
 */

export interface RetryPolicy {
  /** Delay after the first failed attempt; it doubles with each further attempt. */
  baseMs: number;
  /** Upper bound of the delay. */
  maxMs: number;
}

export interface Logger {
  /** Routine detail (each run's end): shown with --verbose. */
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ExecutorOptions {
  store: Store;
  clock: Clock;
  sdk: SdkClient;
  retry: RetryPolicy;
  logger: Logger;
  /** Queue items worked on at once (calls to apps included), across all runs. */
  maxInFlight?: number;
}

/** Go's default when a function sets no `retries`: 4 retries, 5 attempts. */
const DEFAULT_ATTEMPTS = 5;
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const UNREACHABLE_MAX_DELAY_MS = 30_000;
const YEAR_MS = 365 * 24 * 3600_000;
const RETRY_AFTER_MIN_MS = 1000;
const RETRY_AFTER_MAX_MS = 24 * 3600_000;
const PRIORITY_MAX_MS = 12 * 3600_000;

type Op = {
  id: string;
  op: string;
  name?: string;
  displayName?: string;
  opts?: JsonObject;
  data?: unknown;
  error?: JsonObject;
};

type RunEnd =
  | { status: "Completed"; output: unknown }
  | { status: "Failed"; error: JsonObject }
  | { status: "Cancelled" };

/** Change sets written in one group-commit transaction, at most. */
const MAX_GROUP_COMMIT = 256;

interface PendingCommit {
  changes: Changes;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const nextUlid = monotonicFactory();

/** Writes that belong together, persisted in one transaction, then applied to memory. */
class Changes {
  events: StoredEvent[] = [];
  newRuns: RunRecord[] = [];
  /** Batch buffers to save (event ids), or to delete (null), by key. */
  batches = new Map<string, { slug: string; eventIds: string[] | null }>();
  /** Rate-limit states (GCRA theoretical arrival times) to save, by key. */
  rateLimits = new Map<string, number>();
  /** A sender's event id per new run: the run is only created if its key is free (24 h). */
  idempotencyKeys = new Map<string, string>();
  updatedRuns = new Map<string, RunRecord>();
  addItems = new Map<string, QueueItem>();
  deleteItems = new Set<string>();
  addPauses: Pause[] = [];
  deletePauses = new Map<string, Pause>();
  timeline: Omit<TimelineEntry, "seq">[] = [];
  endTimeline: {
    runId: string;
    stepId: string;
    op: string;
    endedAt: number;
    output?: unknown;
    error?: JsonObject | null;
  }[] = [];
  /** What to do once the transaction has committed. */
  afterCommit: (() => void)[] = [];

  /** `processed`: the queue item being worked on; once these changes commit, it is settled. */
  constructor(readonly processed: QueueItem | null = null) {}

  add(item: QueueItem) {
    this.deleteItems.delete(item.id);
    this.addItems.set(item.id, item);
  }

  remove(id: string) {
    this.addItems.delete(id);
    this.deleteItems.add(id);
  }
}

interface PreparedCall {
  fn: FunctionRecord;
  url: string;
  payload: JsonObject;
  headers: Record<string, string>;
  maxAttempts: number;
}

export class Executor {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly sdk: SdkClient;
  private readonly logger: Logger;
  private readonly maxInFlight: number;
  retry: RetryPolicy;

  private functions = new Map<string, FunctionRecord>();
  private readonly queue = new DueQueue();
  /** Items popped from the queue and not settled yet (by object: an id can be queued again). */
  private readonly inFlight = new Set<QueueItem>();
  private readonly pausesByEvent = new Map<string, Map<string, Pause>>();
  private readonly pausesById = new Map<string, Pause>();
  private readonly pausesByRun = new Map<string, Map<string, Pause>>();
  /** Pauses taken out of play whose removal is not committed yet: still "waiting" for dedupe. */
  private readonly consuming = new Map<string, Pause>();
  /** Runs whose in-flight discovery went stale: it is followed by another one. */
  private readonly rediscover = new Set<string>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly runEvents = new Map<string, WireEvent[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** Serialises event ingestion, so runs and pauses see events in their id order. */
  private readonly pendingCommits: PendingCommit[] = [];
  private flushing = false;
  /** Concurrency: call items executing per slot key, and the slots each in-flight item holds. */
  private readonly slots = new Map<string, number>();
  private readonly slotHolders = new Map<QueueItem, string[]>();
  /** Call items parked (out of the heap) until a slot of this key frees, oldest first. */
  private readonly waitingForSlot = new Map<string, QueueItem[]>();
  /**
   * Rate limits: GCRA theoretical arrival time per function and key. Decided and updated when an
   * event is routed (routing is synchronous, so two sends in one tick cannot both take the last
   * place), saved in the same commit as the event.
   */
  private readonly rateLimits = new Map<string, number>();
  /** singleton: the run holding each key, and back. Rebuilt from the active runs at start. */
  private readonly singletonRuns = new Map<string, string>();
  private readonly singletonKeyOfRun = new Map<string, string>();
  /** batchEvents: the open buffer per function and key (saved with each event it takes). */
  private readonly batches = new Map<string, { slug: string; events: StoredEvent[] }>();

  constructor(options: ExecutorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.sdk = options.sdk;
    this.logger = options.logger;
    this.retry = options.retry;
    this.maxInFlight = options.maxInFlight ?? 64;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads functions, the queue and the pauses from the store, and starts working. */
  async start(): Promise<void> {
    for (const fn of await this.store.listFunctions()) this.functions.set(fn.slug, fn);
    // Active runs in memory first: the pump reads their concurrency keys synchronously.
    for (const run of await this.store.listActiveRuns()) {
      this.runs.set(run.runId, run);
      this.runEvents.set(run.runId, (await this.store.getEvents(run.eventIds)).map(toWire));
    }
    for (const run of this.runs.values()) {
      const fn = this.functions.get(run.functionSlug);
      const key = fn && this.singletonKey(fn, this.runEvents.get(run.runId)?.[0]);
      if (key) this.holdSingleton(key, run.runId);
    }
    for (const item of await this.store.loadQueue()) this.queue.put(item);
    for (const [key, tat] of await this.store.loadRateLimits()) this.rateLimits.set(key, tat);
    for (const batch of await this.store.loadBatches()) {
      const events = await this.store.getEvents(batch.eventIds);
      if (events.length > 0) this.batches.set(batch.key, { slug: batch.functionSlug, events });
    }
    for (const pause of await this.store.loadPauses()) {
      this.indexPause(pause);
      await this.loadRun(pause.runId); // its trigger event, for the pause's expression
    }
    this.pump();
  }

  /** Starts nothing new; work in flight goes on until it settles (`idle()` waits for it). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.notifyIdle();
  }

  /** Forgets all runs, events and queued work (test mode's reset); keeps apps and functions. */
  async reset(): Promise<void> {
    await this.idle();
    await this.drain();
    await this.store.reset();
    this.queue.clear();
    this.pausesByEvent.clear();
    this.pausesById.clear();
    this.pausesByRun.clear();
    this.consuming.clear();
    this.rediscover.clear();
    this.runs.clear();
    this.runEvents.clear();
    this.slots.clear();
    this.slotHolders.clear();
    this.waitingForSlot.clear();
    this.rateLimits.clear();
    this.batches.clear();
    this.singletonRuns.clear();
    this.singletonKeyOfRun.clear();
    await this.scheduleAllCrons();
  }

  /**
   * Resolves when nothing is due and nothing is in flight (once stopped: when nothing is in
   * flight).
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    if (this.inFlight.size > 0) return false;
    if (this.stopped) return true;
    const next = this.queue.peek();
    return !next || next.dueAt > this.clock.now();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Virtual clock: moves to `to` and runs everything that comes due, in time order. */
  async advanceTo(to: number): Promise<void> {
    const clock = this.clock as Clock & { set?(to: number): void };
    if (!clock.set) throw new Error("the clock is real: start the server in test mode");
    // Step through due times one by one, so work that a due item schedules in between runs at
    // its own time, in order, as it would have in real time.
    for (;;) {
      await this.idle();
      const next = this.queue.peek();
      if (!next || next.dueAt > to) break;
      clock.set(Math.max(next.dueAt, this.clock.now()));
      this.pump();
    }
    clock.set(to);
    this.pump();
    await this.idle();
  }

  // ---------------------------------------------------------------- functions

  functionList(): FunctionRecord[] {
    return [...this.functions.values()];
  }

  getFunction(slug: string): FunctionRecord | undefined {
    return this.functions.get(slug);
  }

  /** Replaces an app's functions (after a sync) and re-arms their cron triggers. */
  async setAppFunctions(appUrl: string, functions: FunctionRecord[]): Promise<void> {
    for (const [slug, fn] of this.functions) if (fn.appUrl === appUrl) this.functions.delete(slug);
    for (const fn of functions) this.functions.set(fn.slug, fn);
    await this.scheduleAllCrons();
  }

  private async scheduleAllCrons(): Promise<void> {
    const changes = new Changes();
    const wanted = new Set<string>();
    const firing = new Set([...this.inFlight].map((item) => item.id));
    for (const fn of this.functions.values()) {
      fn.config.triggers.forEach((trigger, index) => {
        if (!trigger.cron) return;
        const id = `cron:${fn.slug}:${index}:${trigger.cron}`;
        wanted.add(id);
        if (this.queue.has(id) || firing.has(id)) return;
        const dueAt = nextCronTick(trigger.cron, this.clock.now());
        if (dueAt === null) return;
        changes.add({
          id,
          kind: "cron",
          runId: null,
          stepId: null,
          attempt: 0,
          dueAt,
          data: { slug: fn.slug, cron: trigger.cron },
        });
      });
    }
    for (const item of this.queue.values()) {
      if (item.kind === "cron" && !wanted.has(item.id)) changes.remove(item.id);
    }
    await this.commit(changes);
  }

  // ---------------------------------------------------------------- events in

  /**
   * Stores events and schedules what they start, in one transaction: when this resolves, the
   * events are durable and every run they trigger is queued.
   */
  ingest(events: StoredEvent[]): Promise<void> {
    // Routing is synchronous and commits keep their order, so concurrent sends need no lock: the
    // group commit below writes them in the order they were routed.
    const changes = new Changes();
    changes.events.push(...events);
    for (const event of events) this.route(event, changes);
    return this.commit(changes);
  }

  /**
   * Starts a new run of `fn` with stored trigger events (the dev UI's Rerun). Unlike routing, no
   * flow control applies and the sender's event id is not an idempotency key: asking for a rerun
   * is asking for exactly one more run.
   */
  async rerun(fn: FunctionRecord, events: StoredEvent[], cron: string | null): Promise<RunRecord> {
    if (events.length === 0) throw new Error("a rerun needs the trigger events of the run");
    const changes = new Changes();
    const run = this.startRun(fn, events, changes, cron);
    changes.idempotencyKeys.delete(run.runId);
    await this.commit(changes);
    return run;
  }

  /** A stored event, as received from a sender (ids and timestamps filled in). */
  makeEvent(input: {
    name: string;
    data?: JsonObject;
    id?: string | null;
    ts?: number;
    user?: JsonObject;
    v?: string | null;
  }): StoredEvent {
    const now = this.clock.now();
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

  /** Finds the runs an event starts and the waiting runs it resumes. */
  private route(event: StoredEvent, changes: Changes): void {
    const wire = toWire(event);
    // Waiting runs first. A pause is in play from its commit on, so it only ever sees events that
    // arrive after it (no look-back). Event ids are not compared for waits: ids of `inngest.send()`
    // events come from the sender's clock. Cancel-pauses also need an event newer than the run,
    // as in Go.
    const pauses = this.pausesByEvent.get(event.name);
    if (pauses) {
      for (const pause of [...pauses.values()]) {
        if (pause.kind === "cancel" && event.internalId <= pause.afterEventId) continue;
        const trigger = this.runEvents.get(pause.runId)?.[0];
        if (pause.expression && !matches(pause.expression, { event: trigger ?? {}, async: wire }))
          continue;
        this.consumePause(pause, changes);
        changes.add({
          id: resumeId(pause.runId, pause.stepId),
          kind: pause.kind === "cancel" ? "cancel" : "resume",
          runId: pause.runId,
          stepId: pause.stepId,
          attempt: 0,
          dueAt: this.clock.now(),
          data:
            pause.kind === "invoke"
              ? { invokeResult: wire.data }
              : { value: wire, eventId: event.internalId },
        });
      }
    }

    // Invocations go straight to their target, whatever its triggers.
    const invokeTarget =
      event.name === "inngest/function.invoked"
        ? (event.data._inngest as JsonObject | undefined)?.fn_id
        : undefined;
    if (typeof invokeTarget === "string") {
      const fn = this.functions.get(invokeTarget);
      if (fn) this.startRun(fn, [event], changes, null);
      return;
    }

    for (const fn of this.functions.values()) {
      const trigger = fn.config.triggers.find(
        (candidate) =>
          candidate.event !== undefined &&
          eventNameMatches(candidate.event, event.name) &&
          (!candidate.expression || matches(candidate.expression, { event: wire })),
      );
      if (!trigger) continue;
      if (fn.config.batchEvents && this.addToBatch(fn, event, wire, changes)) continue;
      if (fn.config.debounce) {
        this.debounce(fn, event, wire, changes);
        continue;
      }
      const limited = this.rateLimited(fn, wire, changes);
      if (limited) {
        this.skipRun(fn, event, limited, changes);
        continue;
      }
      const singleton = this.singletonKey(fn, wire);
      const holder = singleton ? this.singletonRuns.get(singleton) : undefined;
      if (singleton && holder) {
        if ((fn.config.singleton as { mode?: unknown }).mode !== "cancel") {
          this.skipRun(
            fn,
            event,
            `singleton: run ${holder} of key ${singleton} is running`,
            changes,
          );
          continue;
        }
        // mode cancel: the running one is cancelled, the new one starts.
        changes.add({
          id: `${holder}:singleton-cancel`,
          kind: "cancel",
          runId: holder,
          stepId: null,
          attempt: 0,
          dueAt: this.clock.now(),
          data: {},
        });
      }
      const startAt = this.throttledStart(fn, wire, changes) - this.priorityMs(fn, wire);
      const run = this.startRun(fn, [event], changes, null, startAt);
      if (singleton) this.holdSingleton(singleton, run.runId);
    }
  }

  /**
   * `rateLimit {limit, period, key}`: GCRA per function and evaluated key, as Go does; `limit`
   * starts fit in any `period`. Returns why the run is skipped, or null when it may start.
   */
  private rateLimited(fn: FunctionRecord, event: WireEvent, changes: Changes): string | null {
    const option = fn.config.rateLimit as
      | { limit?: unknown; period?: unknown; key?: unknown }
      | undefined;
    if (!option) return null;
    const limit = Number(option.limit);
    const period = parseDuration(String(option.period ?? ""));
    if (!(limit > 0) || !period) return null;
    const expression = typeof option.key === "string" && option.key ? option.key : null;
    const value = expression ? (evaluateKey(expression, { event }) ?? "") : "";
    const key = `${fn.slug}:${expression ?? ""}:${value}`;
    const now = this.clock.now();
    const interval = period / limit;
    const tat = Math.max(this.rateLimits.get(key) ?? now, now);
    if (tat - now > period - interval) {
      return `rate limited: over ${limit} run(s) per ${option.period}${expression ? ` for ${expression} = ${value}` : ""}`;
    }
    this.rateLimits.set(key, tat + interval);
    changes.rateLimits.set(key, tat + interval);
    return null;
  }

  /**
   * `batchEvents {maxSize, timeout, key, if}`: buffers the event per function and key; a full
   * buffer starts its run at once, else the first event's `timeout` does (a `batch` queue item).
   * False when the event is not batched (it fails `if`): it starts a run of its own.
   */
  private addToBatch(
    fn: FunctionRecord,
    event: StoredEvent,
    wire: WireEvent,
    changes: Changes,
  ): boolean {
    const option = fn.config.batchEvents as {
      maxSize?: unknown;
      timeout?: unknown;
      key?: unknown;
      if?: unknown;
    };
    if (typeof option.if === "string" && option.if && !matches(option.if, { event: wire })) {
      return false;
    }
    const maxSize = Math.max(1, Number(option.maxSize) || 1);
    const timeout = parseDuration(String(option.timeout ?? "")) ?? 60_000;
    const expression = typeof option.key === "string" && option.key ? option.key : null;
    const value = expression ? (evaluateKey(expression, { event: wire }) ?? "") : "";
    const key = `${fn.slug}:${expression ?? ""}:${value}`;
    let batch = this.batches.get(key);
    if (!batch) {
      batch = { slug: fn.slug, events: [] };
      this.batches.set(key, batch);
      changes.add({
        id: batchItemId(key, event.internalId),
        kind: "batch",
        runId: null,
        stepId: null,
        attempt: 0,
        dueAt: this.clock.now() + timeout,
        data: { key },
      });
    }
    batch.events.push(event);
    if (batch.events.length >= maxSize) {
      this.closeBatch(key, changes);
    } else {
      changes.batches.set(key, {
        slug: fn.slug,
        eventIds: batch.events.map((each) => each.internalId),
      });
    }
    return true;
  }

  /** Starts the run of a buffer (full, or timed out) and empties it. */
  private closeBatch(key: string, changes: Changes): void {
    const batch = this.batches.get(key);
    if (!batch) return;
    this.batches.delete(key);
    changes.batches.set(key, { slug: batch.slug, eventIds: null });
    const first = batch.events[0];
    if (first) changes.remove(batchItemId(key, first.internalId));
    const fn = this.functions.get(batch.slug);
    if (fn && batch.events.length > 0) this.startRun(fn, batch.events, changes, null);
  }

  private async fireBatch(item: QueueItem): Promise<void> {
    const changes = new Changes(item);
    changes.remove(item.id);
    const key = String(item.data.key);
    // A buffer that filled up meanwhile already ran; a newer one has a timer of its own.
    const first = this.batches.get(key)?.events[0];
    if (first && batchItemId(key, first.internalId) === item.id) this.closeBatch(key, changes);
    await this.commit(changes);
  }

  /**
   * `throttle {limit, period, burst, key}`: GCRA on run starts per function and key. A run over
   * the limit is not dropped: its first call is queued for when the limit lets it start. Runs
   * start `period / limit` apart; `burst` of them may start at once.
   */
  private throttledStart(fn: FunctionRecord, event: WireEvent, changes: Changes): number {
    const now = this.clock.now();
    const option = fn.config.throttle as
      | { limit?: unknown; period?: unknown; burst?: unknown; key?: unknown }
      | undefined;
    if (!option) return now;
    const limit = Math.max(1, Number(option.limit) || 1); // Go: limit 0 means 1
    const period = parseDuration(String(option.period ?? ""));
    if (!period) return now;
    const burst = Math.max(1, Number(option.burst) || 1);
    const expression = typeof option.key === "string" && option.key ? option.key : null;
    const value = expression ? (evaluateKey(expression, { event }) ?? "") : "";
    const key = `throttle:${fn.slug}:${expression ?? ""}:${value}`;
    const interval = period / limit;
    const tat = Math.max(this.rateLimits.get(key) ?? now, now);
    const startAt = Math.max(now, tat - (burst - 1) * interval);
    this.rateLimits.set(key, tat + interval);
    changes.rateLimits.set(key, tat + interval);
    return startAt;
  }

  /**
   * `debounce {period, key, timeout}`: one `debounce` queue item per function and key holds the
   * latest event; each event replaces it and restarts the period, up to `timeout` after the
   * first. When it comes due, one run starts with the last event. The item is the whole state.
   */
  private debounce(fn: FunctionRecord, event: StoredEvent, wire: WireEvent, changes: Changes) {
    const option = fn.config.debounce as { period?: unknown; key?: unknown; timeout?: unknown };
    const now = this.clock.now();
    const period = parseDuration(String(option.period ?? "")) ?? 0;
    const timeout = option.timeout ? parseDuration(String(option.timeout)) : null;
    const expression = typeof option.key === "string" && option.key ? option.key : null;
    const value = expression ? (evaluateKey(expression, { event: wire }) ?? "") : "";
    const id = `debounce:${fn.slug}:${expression ?? ""}:${value}`;
    // Pending (not yet firing): its first event's time still counts toward `timeout`.
    const pending = changes.addItems.get(id) ?? this.queue.get(id);
    const firstAt = pending ? Number(pending.data.firstAt) : now;
    const dueAt = timeout === null ? now + period : Math.min(now + period, firstAt + timeout);
    changes.add({
      id,
      kind: "debounce",
      runId: null,
      stepId: null,
      attempt: 0,
      dueAt,
      data: { slug: fn.slug, firstAt, event: event as unknown as JsonObject },
    });
  }

  private async fireDebounce(item: QueueItem): Promise<void> {
    // Synchronous up to the commit: an event routed meanwhile opens a new period (same id,
    // written after this commit's delete).
    const changes = new Changes(item);
    changes.remove(item.id);
    const fn = this.functions.get(String(item.data.slug));
    const event = item.data.event as unknown as StoredEvent;
    if (fn) this.startRun(fn, [event], changes, null);
    await this.commit(changes);
  }

  /**
   * `priority {run}`: seconds (CEL over the event) by which the run's first call moves ahead of
   * (positive) or behind (negative) the work queued at the same time; clamped to ±12 h as in Go.
   */
  private priorityMs(fn: FunctionRecord, event: WireEvent): number {
    const expression = (fn.config.priority as { run?: unknown } | undefined)?.run;
    if (typeof expression !== "string" || !expression) return 0;
    const seconds = Number(evaluateKey(expression, { event }) ?? 0);
    if (!Number.isFinite(seconds)) return 0;
    return Math.max(-PRIORITY_MAX_MS, Math.min(PRIORITY_MAX_MS, Math.trunc(seconds) * 1000));
  }

  /** `singleton {key, mode}`: the run's singleton key (CEL over the event), or null. */
  private singletonKey(fn: FunctionRecord, event: WireEvent | undefined): string | null {
    const option = fn.config.singleton as { key?: unknown } | undefined;
    if (!option || !event) return null;
    const expression = typeof option.key === "string" && option.key ? option.key : null;
    const value = expression ? (evaluateKey(expression, { event }) ?? "") : "";
    return `${fn.slug}:${expression ?? ""}:${value}`;
  }

  private holdSingleton(key: string, runId: string): void {
    this.singletonRuns.set(key, runId);
    this.singletonKeyOfRun.set(runId, key);
  }

  /** The run ended (or never started): its singleton key is free. */
  private releaseSingleton(runId: string): void {
    const key = this.singletonKeyOfRun.get(runId);
    if (key === undefined) return;
    this.singletonKeyOfRun.delete(runId);
    if (this.singletonRuns.get(key) === runId) this.singletonRuns.delete(key);
  }

  /** A run that flow control dropped: recorded as Skipped (with why), so the event shows it. */
  private skipRun(fn: FunctionRecord, event: StoredEvent, reason: string, changes: Changes): void {
    const now = this.clock.now();
    const run: RunRecord = {
      runId: nextUlid(now),
      functionSlug: fn.slug,
      appUrl: fn.appUrl,
      eventId: event.internalId,
      eventIds: [event.internalId],
      status: "Skipped",
      startedAt: now,
      endedAt: now,
      output: null,
      error: null,
      cron: null,
      stack: [],
      steps: {},
      forceStepPlan: false,
      requestVersion: -1,
    };
    changes.newRuns.push(run);
    changes.timeline.push({
      runId: run.runId,
      stepId: null,
      name: "Skipped",
      op: "RunSkipped",
      attempt: 0,
      startedAt: now,
      endedAt: now,
      output: { reason },
      error: null,
    });
    this.logger.debug(`event ${event.internalId}: ${fn.slug} skipped (${reason})`);
  }

  private startRun(
    fn: FunctionRecord,
    events: StoredEvent[],
    changes: Changes,
    cron: string | null,
    firstCallAt = this.clock.now(),
  ): RunRecord {
    const now = this.clock.now();
    const first = events[0] as StoredEvent;
    const run: RunRecord = {
      runId: nextUlid(now),
      functionSlug: fn.slug,
      appUrl: fn.appUrl,
      eventId: first.internalId,
      eventIds: events.map((event) => event.internalId),
      status: "Running",
      startedAt: now,
      endedAt: null,
      output: null,
      error: null,
      cron,
      stack: [],
      steps: {},
      forceStepPlan: false,
      requestVersion: -1,
    };
    const concurrency = concurrencyKeys(fn, toWire(first));
    if (concurrency.length > 0) run.concurrency = concurrency;
    // A sender's own event id seen again within 24 h starts no second run of the function; an
    // `idempotency` expression replaces the event id by its value (Go: rate limit 1 per 24 h).
    const idempotency = typeof fn.config.idempotency === "string" ? fn.config.idempotency : null;
    if (idempotency && cron === null) {
      const value = evaluateKey(idempotency, { event: toWire(first) }) ?? "";
      changes.idempotencyKeys.set(run.runId, `${fn.slug}:expr:${value}`);
    } else if (first.id && !fn.config.batchEvents) {
      // A batch is not one event: Go keys it by the batch id, which is never seen twice.
      changes.idempotencyKeys.set(run.runId, `${fn.slug}:${first.id}`);
    }
    changes.newRuns.push(run);
    this.runEvents.set(run.runId, events.map(toWire));
    changes.add(discoveryItem(run.runId, firstCallAt, 0));
    const startTimeout = (fn.config.timeouts as { start?: unknown } | undefined)?.start;
    const startMs = startTimeout ? parseDuration(String(startTimeout)) : null;
    if (startMs !== null) {
      // Counted from scheduling: time spent delayed by throttle or waiting for a slot included.
      changes.add({
        id: startTimeoutId(run.runId),
        kind: "cancel",
        runId: run.runId,
        stepId: null,
        attempt: 0,
        dueAt: now + startMs,
        data: { timeout: "start" },
      });
    }
    (fn.config.cancel ?? []).forEach((cancel, index) => {
      const expiresAt = (cancel.timeout && resolveTime(cancel.timeout, now)) || now + YEAR_MS;
      this.addPause(
        run,
        `cancel-${index}`,
        "cancel",
        cancel.event,
        cancel.if ?? null,
        expiresAt,
        changes,
      );
    });
    return run;
  }

  // ---------------------------------------------------------------- commit

  /**
   * Persists `changes` in one transaction, then applies them in memory. Group commit: change sets
   * that arrive while a transaction is running are written together in the next one, in arrival
   * order, so the cost of a commit is shared by everything that is ready (concurrent sends,
   * parallel runs) instead of paid once each.
   */
  private commit(changes: Changes): Promise<void> {
    this.settleDiscovery(changes);
    return new Promise<void>((resolve, reject) => {
      this.pendingCommits.push({ changes, resolve, reject });
      if (!this.flushing) void this.flushCommits();
    });
  }

  /** Resolves once every change set queued so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing || this.pendingCommits.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async flushCommits(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pendingCommits.length > 0) {
        const batch = this.pendingCommits.splice(0, MAX_GROUP_COMMIT);
        let skippedRuns: Set<string>[] | undefined;
        try {
          skippedRuns = await this.store.transaction(async (tx) => {
            // All the batch's events in one multi-row insert (order kept), then the rest.
            await this.store.insertEvents(
              batch.flatMap((entry) => entry.changes.events),
              tx,
            );
            const skipped: Set<string>[] = [];
            for (const entry of batch) skipped.push(await this.persist(entry.changes, tx, false));
            return skipped;
          });
        } catch (error) {
          if (batch.length === 1) {
            this.restorePauses((batch[0] as PendingCommit).changes);
            (batch[0] as PendingCommit).reject(error);
            continue;
          }
        }
        if (skippedRuns) {
          batch.forEach((entry, index) => {
            this.apply(entry.changes, skippedRuns[index] as Set<string>);
            entry.resolve();
          });
          continue;
        }
        // One bad change set must not fail the others it was grouped with: each alone.
        for (const entry of batch) {
          try {
            const skipped = await this.store.transaction((tx) => this.persist(entry.changes, tx));
            this.apply(entry.changes, skipped);
            entry.resolve();
          } catch (error) {
            this.restorePauses(entry.changes);
            entry.reject(error);
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Writes one change set; returns the new runs skipped because their event id was seen. */
  private async persist(
    changes: Changes,
    tx: SqlExecutor,
    withEvents = true,
  ): Promise<Set<string>> {
    const skipped = new Set<string>();
    const kept = (runId: string | null) => !runId || !skipped.has(runId);
    if (withEvents) await this.store.insertEvents(changes.events, tx);
    for (const run of changes.newRuns) {
      const key = changes.idempotencyKeys.get(run.runId);
      if (
        key &&
        !(await this.store.claimIdempotencyKey(key, this.clock.now(), IDEMPOTENCY_TTL_MS, tx))
      ) {
        skipped.add(run.runId);
        continue;
      }
      await this.store.insertRun(run, tx);
    }
    for (const run of changes.updatedRuns.values()) await this.store.updateRun(run, tx);
    for (const [key, tat] of changes.rateLimits) await this.store.saveRateLimit(key, tat, tx);
    for (const [key, batch] of changes.batches)
      await this.store.saveBatch(key, batch.slug, batch.eventIds, tx);
    for (const id of changes.deleteItems) await this.store.deleteQueueItem(id, tx);
    const items = [...changes.addItems.values()].filter((item) => kept(item.runId));
    await this.store.addQueueItems(items, tx);
    for (const id of changes.deletePauses.keys()) await this.store.consumePause(id, tx);
    for (const pause of changes.addPauses) {
      if (kept(pause.runId)) await this.store.addPause(pause, tx);
    }
    for (const entry of changes.timeline) await this.store.addTimeline(entry, tx);
    for (const end of changes.endTimeline)
      await this.store.endTimeline(end.runId, end.stepId, end.op, end, tx);
    return skipped;
  }

  /** Nothing was written: the pauses these changes took out of play are back in play. */
  private restorePauses(changes: Changes): void {
    for (const pause of changes.deletePauses.values()) {
      this.consuming.delete(pause.id);
      this.indexPause(pause);
    }
  }

  /** The committed changes, now in memory. */
  private apply(changes: Changes, skipped: Set<string>): void {
    const kept = (runId: string | null) => !runId || !skipped.has(runId);
    for (const run of changes.newRuns) {
      if (skipped.has(run.runId)) {
        this.runEvents.delete(run.runId);
        this.releaseSingleton(run.runId);
      } else if (run.status === "Running") this.runs.set(run.runId, run);
    }
    for (const run of changes.updatedRuns.values()) {
      if (run.status === "Running") this.runs.set(run.runId, run);
      else {
        this.runs.delete(run.runId);
        this.runEvents.delete(run.runId);
        this.rediscover.delete(run.runId);
        this.releaseSingleton(run.runId);
      }
    }
    for (const id of changes.deleteItems) this.queue.delete(id);
    for (const item of changes.addItems.values()) if (kept(item.runId)) this.queue.put(item);
    for (const id of changes.deletePauses.keys()) this.consuming.delete(id);
    for (const pause of changes.addPauses) if (kept(pause.runId)) this.indexPause(pause);
    if (changes.processed) this.settle(changes.processed);
    for (const callback of changes.afterCommit) callback();
    this.pump();
  }

  /** A discovery that went stale while in flight is followed by a fresh one. */
  private settleDiscovery(changes: Changes): void {
    const item = changes.processed;
    if (!item?.runId || !isDiscovery(item) || !this.rediscover.has(item.runId)) return;
    this.rediscover.delete(item.runId);
    const run = changes.updatedRuns.get(item.runId) ?? this.runs.get(item.runId);
    // A retried discovery (same id, queued again) will see the fresh state anyway.
    if (run?.status === "Running" && !changes.addItems.has(item.id)) {
      changes.add(discoveryItem(item.runId, this.clock.now(), 0));
    }
  }

  private indexPause(pause: Pause): void {
    this.pausesById.set(pause.id, pause);
    for (const [index, key] of [
      [this.pausesByEvent, pause.eventName],
      [this.pausesByRun, pause.runId],
    ] as const) {
      let pauses = index.get(key);
      if (!pauses) {
        pauses = new Map();
        index.set(key, pauses);
      }
      pauses.set(pause.id, pause);
    }
  }

  /** Takes a pause out of play at once (in memory), so a match and a timeout cannot both win. */
  private consumePause(pause: Pause, changes: Changes): void {
    this.pausesById.delete(pause.id);
    this.pausesByEvent.get(pause.eventName)?.delete(pause.id);
    this.pausesByRun.get(pause.runId)?.delete(pause.id);
    if (this.pausesByRun.get(pause.runId)?.size === 0) this.pausesByRun.delete(pause.runId);
    this.consuming.set(pause.id, pause);
    changes.deletePauses.set(pause.id, pause);
    changes.remove(timeoutId(pause.runId, pause.stepId));
  }

  // ---------------------------------------------------------------- the work loop

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.stopped) {
      const now = this.clock.now();
      while (this.inFlight.size < this.maxInFlight) {
        const item = this.queue.popDue(now);
        if (!item) break;
        if (!this.takeSlots(item)) continue;
        this.inFlight.add(item);
        this.process(item)
          .catch((error: unknown) => {
            this.logger.error(`queue item ${item.id} failed: ${(error as Error).stack ?? error}`);
            // Not settled, so the store still has it: memory gets it back, to try again shortly.
            if (this.inFlight.has(item) && !this.queue.has(item.id)) {
              this.queue.put({ ...item, dueAt: this.clock.now() + 1000 });
            }
          })
          .finally(() => {
            this.settle(item);
            this.pump();
          });
      }
      const next = this.queue.peek();
      if (next && !this.clock.virtual && this.inFlight.size < this.maxInFlight) {
        const delay = Math.min(Math.max(next.dueAt - Date.now(), 0), 2 ** 31 - 1);
        this.timer = setTimeout(() => this.pump(), delay);
      }
    }
    this.notifyIdle();
  }

  /**
   * Concurrency: a call of a run with limits takes one slot of each of its keys, or, if one is
   * full, is parked on that key until a slot frees (it holds no place in the heap meanwhile).
   */
  private takeSlots(item: QueueItem): boolean {
    if (item.kind !== "call" || !item.runId) return true;
    const limits = this.runs.get(item.runId)?.concurrency;
    if (!limits?.length) return true;
    const full = this.fullSlot(limits);
    if (full) {
      this.queue.park(item);
      this.waitForSlot(full, item);
      return false;
    }
    for (const limit of limits) this.slots.set(limit.key, (this.slots.get(limit.key) ?? 0) + 1);
    this.slotHolders.set(
      item,
      limits.map((limit) => limit.key),
    );
    return true;
  }

  private fullSlot(limits: { key: string; limit: number }[]): string | undefined {
    return limits.find((limit) => (this.slots.get(limit.key) ?? 0) >= limit.limit)?.key;
  }

  private waitForSlot(key: string, item: QueueItem): void {
    let waiting = this.waitingForSlot.get(key);
    if (!waiting) {
      waiting = [];
      this.waitingForSlot.set(key, waiting);
    }
    // In queue order (due time, then id), so a prioritised call waits ahead of older ones.
    let at = waiting.length;
    while (at > 0 && queueOrder(item, waiting[at - 1] as QueueItem) < 0) at--;
    waiting.splice(at, 0, item);
  }

  /** The item is done with (settled, or failed to be): its slots go to the oldest waiting call. */
  private settle(item: QueueItem): void {
    this.inFlight.delete(item);
    const keys = this.slotHolders.get(item);
    if (!keys) return;
    this.slotHolders.delete(item);
    for (const key of keys) {
      const held = (this.slots.get(key) ?? 1) - 1;
      if (held > 0) this.slots.set(key, held);
      else this.slots.delete(key);
      const waiting = this.waitingForSlot.get(key);
      while (waiting?.length) {
        const next = waiting.shift() as QueueItem;
        if (this.queue.get(next.id) !== next) continue; // its run ended meanwhile
        // With two limits, the other may still be full: then it waits on that one (whose
        // holders are in flight and will wake it), and this slot goes to the next in line.
        const limits = (next.runId && this.runs.get(next.runId)?.concurrency) || [];
        const other = this.fullSlot(limits);
        if (other && other !== key) {
          this.waitForSlot(other, next);
          continue;
        }
        this.queue.unpark(next);
        break;
      }
      if (waiting?.length === 0) this.waitingForSlot.delete(key);
    }
  }

  private async process(item: QueueItem): Promise<void> {
    if (item.kind === "cron") return this.fireCron(item);
    if (item.kind === "batch") return this.fireBatch(item);
    if (item.kind === "debounce") return this.fireDebounce(item);
    const runId = item.runId;
    if (!runId) return this.drop(item);
    if (item.kind === "call") return this.call(runId, item);
    await this.withRunLock(runId, async () => {
      const run = await this.runningRun(item);
      if (!run) return;
      switch (item.kind) {
        case "resume":
          return this.resume(run, item);
        case "timeout":
          return this.timeout(run, item);
        case "cancel":
          return this.finish(run, item, { status: "Cancelled" });
      }
    });
  }

  /** Deletes an item that has nothing left to do. */
  private async drop(item: QueueItem): Promise<void> {
    const changes = new Changes(item);
    changes.remove(item.id);
    await this.commit(changes);
  }

  private async withRunLock<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(runId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => {});
    this.locks.set(runId, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(runId) === settled) this.locks.delete(runId);
    }
  }

  private async loadRun(runId: string): Promise<RunRecord | null> {
    const cached = this.runs.get(runId);
    if (cached) return cached;
    const run = await this.store.getRun(runId);
    if (!run) return null;
    if (run.status === "Running") {
      this.runs.set(runId, run);
      if (!this.runEvents.has(runId)) {
        this.runEvents.set(runId, (await this.store.getEvents(run.eventIds)).map(toWire));
      }
    }
    return run;
  }

  /**
   * The item's run as a working copy, if it is still running (call under the run's lock).
   * Changes go to the copy, which replaces the cached run only once they have committed. An item
   * of a run that has ended is dropped.
   */
  private async runningRun(item: QueueItem): Promise<RunRecord | null> {
    const run = await this.loadRun(item.runId as string);
    if (run?.status === "Running") return { ...run };
    await this.drop(item);
    return null;
  }

  // ---------------------------------------------------------------- calls

  private maxAttempts(fn: FunctionRecord): number {
    const attempts = fn.config.steps?.step?.retries?.attempts;
    return typeof attempts === "number" ? attempts + 1 : DEFAULT_ATTEMPTS;
  }

  private backoff(attempt: number): number {
    return Math.min(this.retry.baseMs * 2 ** attempt, this.retry.maxMs);
  }

  /**
   * One call to the app: the request is built under the run's lock, sent without it, and its
   * answer handled under the lock again, against the run as it is by then.
   */
  private async call(runId: string, item: QueueItem): Promise<void> {
    const prepared = await this.withRunLock(runId, () => this.prepareCall(item));
    if (!prepared) return;
    const startedAt = this.clock.now();
    let response: CallResponse | null = null;
    let failure: unknown = null;
    try {
      response = await this.sdk.call(prepared.url, prepared.payload, prepared.headers);
    } catch (error) {
      failure = error;
    }
    await this.withRunLock(runId, async () => {
      // A run cancelled meanwhile drops the answer.
      const run = await this.runningRun(item);
      if (!run) return;
      if (!response) {
        // The app is down (or answered with a bad signature): the run waits for it, not lost.
        const message = (failure as Error).message;
        if (!(failure instanceof AppUnreachableError)) this.logger.warn(message);
        return this.waitForApp(run, item, message);
      }
      if (!response.fromSdk && response.status >= 500) {
        const message = `app answered ${response.status} without the Inngest SDK: ${preview(response.body)}`;
        return this.waitForApp(run, item, message);
      }
      const version = Number(response.headers.get("x-inngest-req-version"));
      if (version > 0) run.requestVersion = version;
      await this.handleResponse(run, prepared.fn, item, response, startedAt, prepared.maxAttempts);
    });
  }

  private async prepareCall(item: QueueItem): Promise<PreparedCall | null> {
    const run = await this.runningRun(item);
    if (!run) return null;
    const fn = this.functions.get(run.functionSlug);
    if (!fn) {
      // The app may be re-syncing; keep the run waiting rather than failing it.
      await this.reschedule(item, this.clock.now() + UNREACHABLE_MAX_DELAY_MS, {
        lastError: `function ${run.functionSlug} is not registered (sync its app)`,
      });
      return null;
    }
    await this.armTimeouts(run, fn);
    const events =
      this.runEvents.get(run.runId) ?? (await this.store.getEvents(run.eventIds)).map(toWire);
    const maxAttempts = this.maxAttempts(fn);
    const payload = {
      event: events[0] ?? {},
      events,
      steps: Object.fromEntries(run.stack.map((id) => [id, run.steps[id] ?? null])),
      ctx: {
        run_id: run.runId,
        attempt: item.attempt,
        max_attempts: maxAttempts,
        // Never let discovery run a step inline while planned steps of the run are still out: it
        // could run one of them a second time.
        disable_immediate_execution: run.forceStepPlan || this.hasPlannedSteps(run.runId, item),
        use_api: false,
        stack: { stack: run.stack, current: run.stack.length },
      },
      version: run.requestVersion,
    };
    const url = new URL(fn.config.steps.step?.runtime.url ?? run.appUrl);
    url.searchParams.set("fnId", fn.slug);
    url.searchParams.set("stepId", item.stepId ?? "step");
    const headers: Record<string, string> = { "x-run-id": run.runId };
    if (run.requestVersion > 0) headers["x-inngest-req-version"] = String(run.requestVersion);
    return { fn, url: url.toString(), payload, headers, maxAttempts };
  }

  /**
   * `timeouts`: at the run's first call, its start timeout is over (disarmed) and its finish
   * timeout starts; either one, when due, cancels the run. The finish item stays queued until
   * then or until the run ends, which is how a later call knows it is not the first.
   */
  private async armTimeouts(run: RunRecord, fn: FunctionRecord): Promise<void> {
    const option = fn.config.timeouts as { start?: unknown; finish?: unknown } | undefined;
    if (!option) return;
    const start = startTimeoutId(run.runId);
    const finish = finishTimeoutId(run.runId);
    const finishMs = option.finish ? parseDuration(String(option.finish)) : null;
    const armFinish = finishMs !== null && !this.queue.has(finish) && !this.isBusy(finish);
    if (!this.queue.has(start) && !armFinish) return;
    const changes = new Changes();
    if (this.queue.has(start)) changes.remove(start);
    if (armFinish) {
      changes.add({
        id: finish,
        kind: "cancel",
        runId: run.runId,
        stepId: null,
        attempt: 0,
        dueAt: this.clock.now() + finishMs,
        data: { timeout: "finish" },
      });
    }
    await this.commit(changes);
  }

  /** The app did not answer as an SDK: the same call again after a backoff, attempts untouched. */
  private async waitForApp(run: RunRecord, item: QueueItem, message: string): Promise<void> {
    const failures = Number(item.data.unreachable ?? 0);
    if (failures === 0)
      this.logger.warn(`run ${run.runId}: ${message}; retrying until the app answers`);
    const delay = Math.min(this.retry.baseMs * 2 ** failures, UNREACHABLE_MAX_DELAY_MS);
    await this.reschedule(item, this.clock.now() + delay, {
      unreachable: failures + 1,
      lastError: message,
    });
  }

  private async reschedule(item: QueueItem, dueAt: number, data: JsonObject): Promise<void> {
    const changes = new Changes(item);
    changes.add({ ...item, dueAt, data: { ...item.data, ...data } });
    await this.commit(changes);
  }

  /** The same call, one attempt later; the app answered, so its outage count starts over. */
  private retryItem(item: QueueItem, dueAt: number): QueueItem {
    const { unreachable: _, lastError: __, ...data } = item.data;
    return { ...item, attempt: item.attempt + 1, dueAt, data };
  }

  private async handleResponse(
    run: RunRecord,
    fn: FunctionRecord,
    item: QueueItem,
    response: CallResponse,
    startedAt: number,
    maxAttempts: number,
  ): Promise<void> {
    const now = this.clock.now();
    const noRetry = response.headers.get("x-inngest-no-retry") === "true";

    if (response.status === 200) {
      return this.finish(run, item, { status: "Completed", output: response.body ?? null });
    }

    if (response.status === 206) {
      const body = response.body;
      const ops = (Array.isArray(body) ? body : [body]).filter(Boolean) as Op[];
      const complete = ops.find((op) => op.op === "RunComplete");
      if (complete)
        return this.finish(run, item, { status: "Completed", output: complete.data ?? null });

      const ran = ops.length === 1 ? ops[0] : undefined;
      if (ran && (ran.op === "StepRun" || ran.op === "StepError" || ran.op === "StepFailed")) {
        return this.stepResult(run, item, ran, response, startedAt, maxAttempts, noRetry);
      }
      return this.plan(run, item, ops, now);
    }

    // A function-level error: 500 retriable, 400 with no-retry final.
    const error = toError(response.body, `app answered ${response.status}`);
    const changes = new Changes(item);
    changes.timeline.push({
      runId: run.runId,
      stepId: null,
      name: fn.config.name ?? fn.slug,
      op: "FunctionError",
      attempt: item.attempt,
      startedAt,
      endedAt: now,
      output: null,
      error,
    });
    if (!noRetry && item.attempt + 1 < maxAttempts) {
      changes.add(this.retryItem(item, now + this.retryDelay(item.attempt, response)));
      changes.updatedRuns.set(run.runId, run);
      await this.commit(changes);
      return;
    }
    await this.finish(run, item, { status: "Failed", error }, changes);
  }

  /** `Retry-After` (seconds, or a date) when the app gave one, clamped as Go does; else backoff. */
  private retryDelay(attempt: number, response: CallResponse): number {
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds)
        ? seconds * 1000
        : Date.parse(retryAfter) - this.clock.now();
      if (Number.isFinite(ms)) {
        return Math.min(Math.max(ms, RETRY_AFTER_MIN_MS), RETRY_AFTER_MAX_MS);
      }
    }
    return this.backoff(attempt);
  }

  private async stepResult(
    run: RunRecord,
    item: QueueItem,
    op: Op,
    response: CallResponse,
    startedAt: number,
    maxAttempts: number,
    noRetry: boolean,
  ): Promise<void> {
    const now = this.clock.now();
    const changes = new Changes(item);
    const name = op.displayName ?? op.name ?? op.id;
    if (op.op === "StepError" && !noRetry && item.attempt + 1 < maxAttempts) {
      changes.timeline.push({
        runId: run.runId,
        stepId: op.id,
        name,
        op: "StepError",
        attempt: item.attempt,
        startedAt,
        endedAt: now,
        output: null,
        error: op.error ?? null,
      });
      changes.add(this.retryItem(item, now + this.retryDelay(item.attempt, response)));
      changes.updatedRuns.set(run.runId, run);
      await this.commit(changes);
      return;
    }
    changes.remove(item.id);
    this.recordStep(run, op, item.attempt, startedAt, now, changes);
    this.continueAfterStep(run, item, changes, now);
    await this.commit(changes);
  }

  /** Memoizes a step that ran (StepRun) or failed for good (StepFailed, or a final StepError). */
  private recordStep(
    run: RunRecord,
    op: Op,
    attempt: number,
    startedAt: number,
    now: number,
    changes: Changes,
  ): void {
    const succeeded = op.op === "StepRun" || op.op === "Step";
    const error = op.error ?? { name: "Error", message: "Unknown error" };
    changes.timeline.push({
      runId: run.runId,
      stepId: op.id,
      name: op.displayName ?? op.name ?? op.id,
      op: succeeded ? "StepRun" : "StepFailed",
      attempt,
      startedAt,
      endedAt: now,
      output: succeeded ? (op.data ?? null) : null,
      error: succeeded ? null : error,
    });
    this.memoize(
      run,
      op.id,
      succeeded ? { data: op.data === undefined ? null : op.data } : { error },
      changes,
    );
  }

  private memoize(run: RunRecord, stepId: string, value: unknown, changes: Changes): void {
    if (!(stepId in run.steps)) run.stack = [...run.stack, stepId];
    run.steps = { ...run.steps, [stepId]: value };
    changes.updatedRuns.set(run.runId, run);
  }

  /** After a step ends: discovery, unless sibling parallel steps are still to finish. */
  private continueAfterStep(
    run: RunRecord,
    finished: QueueItem,
    changes: Changes,
    now: number,
  ): void {
    if (this.hasPlannedSteps(run.runId, finished, changes)) return;
    if (run.forceStepPlan && run.requestVersion >= 2) run.forceStepPlan = false;
    changes.updatedRuns.set(run.runId, run);
    this.requestDiscovery(run, changes, now);
  }

  /** Queues discovery, or, while one is in flight (with a stale view), its repetition. */
  private requestDiscovery(run: RunRecord, changes: Changes, now: number): void {
    const id = discoveryId(run.runId);
    const busy = [...this.inFlight].some((item) => item.id === id && item !== changes.processed);
    if (busy) changes.afterCommit.push(() => this.rediscover.add(run.runId));
    else changes.add(discoveryItem(run.runId, now, 0));
  }

  /** Planned steps of the run, queued or in flight, other than `except`. */
  private hasPlannedSteps(runId: string, except: QueueItem | null, changes?: Changes): boolean {
    return (
      this.queue
        .ofRun(runId)
        .some((other) => isPlannedStep(other) && !changes?.deleteItems.has(other.id)) ||
      [...this.inFlight].some(
        (other) => other !== except && other.runId === runId && isPlannedStep(other),
      )
    );
  }

  private isBusy(id: string): boolean {
    for (const item of this.inFlight) if (item.id === id) return true;
    return false;
  }

  /** A sleep, wait or invoke that is already under way (the SDK reports it again until it ends). */
  private isWaiting(runId: string, stepId: string): boolean {
    const pauseId = `${runId}:${stepId}`;
    const resume = resumeId(runId, stepId);
    return (
      this.pausesById.has(pauseId) ||
      this.consuming.has(pauseId) ||
      this.queue.has(resume) ||
      this.isBusy(resume)
    );
  }

  private async plan(run: RunRecord, item: QueueItem, ops: Op[], now: number): Promise<void> {
    const changes = new Changes(item);
    changes.remove(item.id);
    if (ops.length > 1) run.forceStepPlan = true;
    changes.updatedRuns.set(run.runId, run);
    if (ops.length === 0) {
      this.logger.warn(`run ${run.runId}: the app answered 206 with no ops; the run waits`);
    }
    let ranSteps = false;
    for (const op of ops) {
      const name = op.displayName ?? op.name ?? op.id;
      if (op.id in run.steps) continue;
      switch (op.op) {
        case "StepPlanned": {
          const id = planId(run.runId, op.id);
          if (this.queue.has(id) || this.isBusy(id)) break; // re-reported sibling
          changes.add({
            id,
            kind: "call",
            runId: run.runId,
            stepId: op.id,
            attempt: 0,
            dueAt: now,
            data: {},
          });
          break;
        }
        case "StepRun":
        case "Step":
        case "StepFailed":
          this.recordStep(run, op, item.attempt, now, now, changes);
          ranSteps = true;
          break;
        case "DiscoveryRequest":
          ranSteps = true;
          break;
        case "Sleep": {
          if (this.isWaiting(run.runId, op.id)) break;
          const until = resolveTime(op.name ?? "", now) ?? now;
          changes.add({
            id: resumeId(run.runId, op.id),
            kind: "resume",
            runId: run.runId,
            stepId: op.id,
            attempt: 0,
            dueAt: until,
            data: { value: null, sleep: true },
          });
          changes.timeline.push({
            runId: run.runId,
            stepId: op.id,
            name,
            op: "Sleep",
            attempt: 0,
            startedAt: now,
            endedAt: null,
            output: { until: new Date(until).toISOString() },
            error: null,
          });
          break;
        }
        case "WaitForEvent": {
          if (this.isWaiting(run.runId, op.id)) break;
          const timeout = String(op.opts?.timeout ?? "");
          const expiresAt = resolveTime(timeout, now) ?? now;
          this.addPause(
            run,
            op.id,
            "wait",
            op.name ?? String(op.opts?.event ?? ""),
            (op.opts?.if as string | undefined) ?? null,
            expiresAt,
            changes,
          );
          changes.timeline.push({
            runId: run.runId,
            stepId: op.id,
            name,
            op: "WaitForEvent",
            attempt: 0,
            startedAt: now,
            endedAt: null,
            output: { event: op.name, if: op.opts?.if ?? null, timeout },
            error: null,
          });
          break;
        }
        case "InvokeFunction": {
          if (this.isWaiting(run.runId, op.id)) break;
          this.invoke(run, op, name, now, changes);
          break;
        }
        default:
          this.logger.warn(`run ${run.runId}: op ${op.op} is not supported; ignoring it`);
      }
    }
    if (ranSteps) this.continueAfterStep(run, item, changes, now);
    await this.commit(changes);
  }

  /** Starts the target run (§10.9) and waits for its `function.finished`, in the same commit. */
  private invoke(run: RunRecord, op: Op, name: string, now: number, changes: Changes): void {
    const target = String(op.opts?.function_id ?? "");
    const payload = (op.opts?.payload as JsonObject | undefined) ?? {};
    const correlationId = `${run.runId}.${op.id}`;
    const expiresAt = resolveTime(String(op.opts?.timeout ?? ""), now) ?? now + YEAR_MS;
    changes.timeline.push({
      runId: run.runId,
      stepId: op.id,
      name,
      op: "InvokeFunction",
      attempt: 0,
      startedAt: now,
      endedAt: null,
      output: { function_id: target },
      error: null,
    });
    if (!this.functions.has(target)) {
      changes.add({
        id: resumeId(run.runId, op.id),
        kind: "resume",
        runId: run.runId,
        stepId: op.id,
        attempt: 0,
        dueAt: now,
        data: {
          invokeResult: {
            error: {
              name: "Error",
              message: `could not invoke ${target}: no such function is registered`,
            },
          },
        },
      });
      return;
    }
    this.addPause(
      run,
      op.id,
      "invoke",
      "inngest/function.finished",
      `async.data.correlation_id == "${correlationId}"`,
      expiresAt,
      changes,
    );
    const invoked = this.makeEvent({
      name: "inngest/function.invoked",
      data: {
        ...((payload.data as JsonObject | undefined) ?? {}),
        _inngest: {
          fn_id: target,
          correlation_id: correlationId,
          expire: expiresAt,
          source_app_id: this.functions.get(run.functionSlug)?.appId ?? null,
          source_fn_id: run.functionSlug,
          source_fn_v: 1,
          name,
        },
      },
      user: (payload.user as JsonObject | undefined) ?? {},
      v: typeof payload.v === "string" ? payload.v : null,
    });
    changes.events.push(invoked);
    this.route(invoked, changes);
  }

  private addPause(
    run: RunRecord,
    stepId: string,
    kind: Pause["kind"],
    eventName: string,
    expression: string | null,
    expiresAt: number,
    changes: Changes,
  ): void {
    const pause: Pause = {
      id: `${run.runId}:${stepId}`,
      runId: run.runId,
      stepId,
      kind,
      eventName,
      expression,
      expiresAt,
      // Cancel-pauses: only events newer than this can match.
      afterEventId: nextUlid(this.clock.now()),
    };
    changes.addPauses.push(pause);
    changes.add({
      id: timeoutId(run.runId, stepId),
      kind: "timeout",
      runId: run.runId,
      stepId,
      attempt: 0,
      dueAt: expiresAt,
      data: { pauseId: pause.id, kind },
    });
  }

  // ---------------------------------------------------------------- resumes, timeouts, ends

  private async resume(run: RunRecord, item: QueueItem): Promise<void> {
    const now = this.clock.now();
    const changes = new Changes(item);
    const stepId = item.stepId as string;
    changes.remove(item.id);
    let value: unknown = item.data.value ?? null;
    if (item.data.invokeResult) {
      const result = item.data.invokeResult as JsonObject;
      value =
        "error" in result && result.error
          ? { error: result.error }
          : { data: result.result ?? null };
    }
    const op = item.data.sleep
      ? "Sleep"
      : item.data.invokeResult
        ? "InvokeFunction"
        : "WaitForEvent";
    changes.endTimeline.push({
      runId: run.runId,
      stepId,
      op,
      endedAt: now,
      output: op === "Sleep" ? null : value,
    });
    this.memoize(run, stepId, value, changes);
    this.requestDiscovery(run, changes, now);
    await this.commit(changes);
  }

  private async timeout(run: RunRecord, item: QueueItem): Promise<void> {
    const now = this.clock.now();
    const pause = this.pausesById.get(String(item.data.pauseId));
    const changes = new Changes(item);
    changes.remove(item.id);
    if (!pause) {
      await this.commit(changes); // the event won the race
      return;
    }
    this.consumePause(pause, changes);
    if (pause.kind === "cancel") {
      await this.commit(changes); // the cancelOn window closed
      return;
    }
    const stepId = item.stepId as string;
    const value =
      pause.kind === "invoke"
        ? {
            error: {
              name: "InngestInvokeTimeoutError",
              message: "Timed out waiting for invoked function to complete",
              error:
                "InngestInvokeTimeoutError: Timed out waiting for invoked function to complete",
            },
          }
        : null;
    changes.endTimeline.push({
      runId: run.runId,
      stepId,
      op: pause.kind === "invoke" ? "InvokeFunction" : "WaitForEvent",
      endedAt: now,
      output: value,
    });
    this.memoize(run, stepId, value, changes);
    this.requestDiscovery(run, changes, now);
    await this.commit(changes);
  }

  /** Cancels a running run (REST API): at once, even while one of its steps is running. */
  async cancel(runId: string): Promise<RunRecord | null> {
    return this.withRunLock(runId, async () => {
      const run = await this.loadRun(runId);
      if (!run) return null;
      if (run.status !== "Running") return run;
      const ending = { ...run };
      await this.finish(ending, null, { status: "Cancelled" });
      return ending;
    });
  }

  private async finish(
    run: RunRecord,
    item: QueueItem | null,
    end: RunEnd,
    changes = new Changes(item),
  ): Promise<void> {
    const now = this.clock.now();
    run.status = end.status;
    run.endedAt = now;
    if (end.status === "Completed") run.output = end.output;
    if (end.status === "Failed") {
      run.error = end.error;
      run.output = end.error;
    }
    changes.updatedRuns.set(run.runId, run);
    // Nothing of the run is left to do: queued work, work in flight (its answer is dropped),
    // and its pauses.
    if (item) changes.remove(item.id);
    for (const queued of this.queue.ofRun(run.runId)) changes.remove(queued.id);
    for (const busy of this.inFlight) {
      if (busy.runId === run.runId && busy !== item) changes.remove(busy.id);
    }
    for (const pause of [...(this.pausesByRun.get(run.runId)?.values() ?? [])]) {
      this.consumePause(pause, changes);
    }
    changes.timeline.push({
      runId: run.runId,
      stepId: null,
      name: end.status,
      op: `Run${end.status}`,
      attempt: 0,
      startedAt: now,
      endedAt: now,
      output: end.status === "Completed" ? end.output : null,
      error: end.status === "Failed" ? end.error : null,
    });
    const emitted = this.endEvents(run, end);
    changes.events.push(...emitted);
    // Routed in the same commit: an invoking parent, an onFailure handler or a function waiting
    // for these events cannot miss them, even if the server stops right after.
    for (const event of emitted) this.route(event, changes);
    await this.commit(changes);
    this.logger.debug(`run ${run.runId} ${run.functionSlug}: ${end.status}`);
  }

  /** `function.failed` / `function.cancelled` (id = run id), and `function.finished` (§10.7, 10.8). */
  private endEvents(run: RunRecord, end: RunEnd): StoredEvent[] {
    const events = this.runEvents.get(run.runId) ?? [];
    const base = {
      function_id: run.functionSlug,
      run_id: run.runId,
      event: events[0] ?? null,
      events,
    };
    const emitted: StoredEvent[] = [];
    if (end.status === "Failed") {
      emitted.push({
        ...this.makeEvent({
          name: "inngest/function.failed",
          data: { ...base, error: end.error, _inngest: { status: "Failed" } },
        }),
        id: run.runId,
      });
    }
    if (end.status === "Cancelled") {
      emitted.push({
        ...this.makeEvent({
          name: "inngest/function.cancelled",
          data: { ...base, _inngest: { status: "Cancelled" } },
        }),
        id: run.runId,
      });
    }
    const invoke = (events[0]?.data._inngest as JsonObject | undefined) ?? undefined;
    emitted.push(
      this.makeEvent({
        name: "inngest/function.finished",
        data: {
          ...base,
          ...(end.status === "Completed"
            ? { result: end.output }
            : {
                error:
                  end.status === "Failed"
                    ? end.error
                    : { name: "Error", message: "function cancelled" },
              }),
          ...(invoke?.correlation_id ? { correlation_id: invoke.correlation_id } : {}),
          _inngest: { status: end.status },
        },
      }),
    );
    return emitted;
  }

  // ---------------------------------------------------------------- cron

  private async fireCron(item: QueueItem): Promise<void> {
    const slug = String(item.data.slug);
    const cron = String(item.data.cron);
    const fn = this.functions.get(slug);
    const changes = new Changes(item);
    changes.remove(item.id);
    if (fn) {
      const scheduledAt = new Date(item.dueAt).toISOString();
      const event = this.makeEvent({
        name: "inngest/scheduled.timer",
        id: `${slug}:${scheduledAt}`,
        ts: item.dueAt,
        data: { cron, scheduledAt, fireAt: scheduledAt },
      });
      changes.events.push(event);
      this.startRun(fn, [event], changes, cron);
      // From now, not from the missed tick: a server that was down fires once, not once per
      // tick it slept through (as Go's scheduler).
      const next = nextCronTick(cron, Math.max(item.dueAt, this.clock.now()));
      if (next !== null) changes.add({ ...item, dueAt: next });
    }
    await this.commit(changes);
  }
}

const discoveryId = (runId: string) => `${runId}:step`;
const planId = (runId: string, stepId: string) => `${runId}:plan:${stepId}`;
const resumeId = (runId: string, stepId: string) => `${runId}:resume:${stepId}`;
const timeoutId = (runId: string, stepId: string) => `${runId}:timeout:${stepId}`;
const startTimeoutId = (runId: string) => `${runId}:timeout-start`;
const finishTimeoutId = (runId: string) => `${runId}:timeout-finish`;
const batchItemId = (key: string, firstEventId: string) => `batch:${key}:${firstEventId}`;

function discoveryItem(runId: string, dueAt: number, attempt: number): QueueItem {
  return { id: discoveryId(runId), kind: "call", runId, stepId: "step", attempt, dueAt, data: {} };
}

function queueOrder(a: QueueItem, b: QueueItem): number {
  return a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function isDiscovery(item: QueueItem): boolean {
  return item.kind === "call" && (item.stepId ?? "step") === "step";
}

function isPlannedStep(item: QueueItem): boolean {
  return item.kind === "call" && !isDiscovery(item);
}

/**
 * The run's concurrency slots: `concurrency` is a number, one `{limit, key, scope}` or two. A
 * limit of 0 means no limit. The key is CEL over the trigger event, evaluated once; a key that
 * fails to evaluate shares the empty-key slot, as a missing value does in Inngest.
 */
export function concurrencyKeys(
  fn: FunctionRecord,
  event: WireEvent,
): { key: string; limit: number }[] {
  const raw = fn.config.concurrency;
  const entries = (
    typeof raw === "number" ? [{ limit: raw }] : Array.isArray(raw) ? raw : raw ? [raw] : []
  ) as { limit?: unknown; key?: unknown; scope?: unknown }[];
  const keys: { key: string; limit: number }[] = [];
  entries.forEach((entry, index) => {
    const limit = Number(entry.limit);
    if (!Number.isFinite(limit) || limit <= 0) return;
    const expression = typeof entry.key === "string" && entry.key ? entry.key : null;
    const value = expression ? (evaluateKey(expression, { event }) ?? "") : "";
    // `fn` scope (the default) is per function; `env`/`account` share the key across functions.
    const scope = entry.scope === "env" || entry.scope === "account" ? entry.scope : "fn";
    const owner = scope === "fn" ? `fn:${fn.slug}:${index}` : scope;
    keys.push({ key: `${owner}:${expression ?? ""}:${value}`, limit });
  });
  return keys;
}

function toWire(event: StoredEvent): WireEvent {
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

/** The next tick after `after` of a 5-field cron, with an optional `TZ=`/`CRON_TZ=` prefix. */
export function nextCronTick(expression: string, after: number): number | null {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expression.trim());
  const timezone = match?.[1] ?? "UTC";
  const pattern = match?.[2] ?? expression.trim();
  try {
    const next = new Cron(pattern, { timezone, paused: true }).nextRun(new Date(after));
    return next ? next.getTime() : null;
  } catch {
    return null;
  }
}

function toError(body: unknown, fallback: string): JsonObject {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const error = body as JsonObject;
    return {
      name: error.name ?? "Error",
      message: error.message ?? error.error ?? fallback,
      ...(error.stack ? { stack: error.stack } : {}),
    };
  }
  return {
    name: "Error",
    message: typeof body === "string" && body ? `${fallback}: ${body.slice(0, 500)}` : fallback,
  };
}

function preview(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return (text ?? "").slice(0, 200);
}
