import { Cron } from "croner";
import { monotonicFactory } from "ulid";
import type { Clock } from "./clock";
import { resolveTime } from "./durations";
import { matches } from "./expressions";
import { DueQueue } from "./queue";
import { AppUnreachableError, type CallResponse, type SdkClient } from "./sdk-client";
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
  /** Calls to apps in flight at once, across all runs. */
  maxInFlight?: number;
}

/** Go's default when a function sets no `retries`: 4 retries, 5 attempts. */
const DEFAULT_ATTEMPTS = 5;
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const UNREACHABLE_MAX_DELAY_MS = 30_000;
const YEAR_MS = 365 * 24 * 3600_000;

type Op = {
  id: string;
  op: string;
  name?: string;
  displayName?: string;
  opts?: JsonObject;
  data?: unknown;
  error?: JsonObject;
};

const nextUlid = monotonicFactory();

/** Writes that belong together, persisted in one transaction, then applied to memory. */
class Changes {
  events: StoredEvent[] = [];
  newRuns: RunRecord[] = [];
  updatedRuns = new Map<string, RunRecord>();
  addItems = new Map<string, QueueItem>();
  deleteItems = new Set<string>();
  addPauses: Pause[] = [];
  deletePauses = new Set<string>();
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

  add(item: QueueItem) {
    this.deleteItems.delete(item.id);
    this.addItems.set(item.id, item);
  }

  remove(id: string) {
    this.addItems.delete(id);
    this.deleteItems.add(id);
  }
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
  private readonly inFlight = new Set<string>();
  private readonly pausesByEvent = new Map<string, Map<string, Pause>>();
  private readonly pausesById = new Map<string, Pause>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly runEvents = new Map<string, WireEvent[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** Serialises event ingestion, so runs and pauses see events in their id order. */
  private ingestChain: Promise<unknown> = Promise.resolve();

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
    for (const item of await this.store.loadQueue()) this.queue.put(item);
    for (const pause of await this.store.loadPauses()) {
      this.indexPause(pause);
      await this.loadRun(pause.runId); // its trigger event, for the pause's expression
    }
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Forgets all runs, events and queued work (test mode's reset); keeps apps and functions. */
  async reset(): Promise<void> {
    await this.idle();
    await this.store.reset();
    this.queue.clear();
    this.pausesByEvent.clear();
    this.pausesById.clear();
    this.runs.clear();
    this.runEvents.clear();
    await this.scheduleAllCrons();
  }

  /** Resolves when nothing is due and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    const next = this.queue.peek();
    return this.inFlight.size === 0 && (!next || next.dueAt > this.clock.now());
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
    for (const fn of this.functions.values()) {
      fn.config.triggers.forEach((trigger, index) => {
        if (!trigger.cron) return;
        const id = `cron:${fn.slug}:${index}:${trigger.cron}`;
        wanted.add(id);
        if (this.queue.has(id)) return;
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
    const work = this.ingestChain.then(async () => {
      const changes = new Changes();
      changes.events.push(...events);
      for (const event of events) this.route(event, changes);
      await this.commit(changes);
    });
    this.ingestChain = work.catch(() => {});
    return work;
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
    // Waiting runs first: a pause only sees events newer than itself.
    const pauses = this.pausesByEvent.get(event.name);
    if (pauses) {
      for (const pause of [...pauses.values()]) {
        if (event.internalId <= pause.afterEventId) continue;
        const trigger = this.runEvents.get(pause.runId)?.[0];
        if (pause.expression && !matches(pause.expression, { event: trigger ?? {}, async: wire }))
          continue;
        this.consumePause(pause, changes);
        changes.add({
          id: `${pause.runId}:resume:${pause.stepId}`,
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
      this.startRun(fn, [event], changes, null);
    }
  }

  private startRun(
    fn: FunctionRecord,
    events: StoredEvent[],
    changes: Changes,
    cron: string | null,
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
    // A sender's own event id seen again within 24 h starts no second run of the function.
    const idempotencyKey = first.id ? `${fn.slug}:${first.id}` : null;
    (run as RunRecord & { idempotencyKey?: string | null }).idempotencyKey = idempotencyKey;
    changes.newRuns.push(run);
    this.runEvents.set(run.runId, events.map(toWire));
    changes.add(discoveryItem(run.runId, now, 0));
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

  private async commit(changes: Changes): Promise<void> {
    const skipped = new Set<string>();
    await this.store.transaction(async (tx) => {
      await this.store.insertEvents(changes.events, tx);
      for (const run of changes.newRuns) {
        const key = (run as RunRecord & { idempotencyKey?: string | null }).idempotencyKey;
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
      for (const id of changes.deleteItems) await this.store.deleteQueueItem(id, tx);
      const items = [...changes.addItems.values()].filter(
        (item) => !item.runId || !skipped.has(item.runId),
      );
      await this.store.addQueueItems(items, tx);
      for (const id of changes.deletePauses) await this.store.consumePause(id, tx);
      for (const pause of changes.addPauses) await this.store.addPause(pause, tx);
      for (const entry of changes.timeline) await this.store.addTimeline(entry, tx);
      for (const end of changes.endTimeline)
        await this.store.endTimeline(end.runId, end.stepId, end.op, end, tx);
    });
    // Now in memory.
    for (const run of changes.newRuns) {
      if (skipped.has(run.runId)) {
        this.runEvents.delete(run.runId);
        continue;
      }
      this.runs.set(run.runId, run);
    }
    for (const run of changes.updatedRuns.values()) {
      if (run.status === "Running") this.runs.set(run.runId, run);
      else {
        this.runs.delete(run.runId);
        this.runEvents.delete(run.runId);
      }
    }
    for (const id of changes.deleteItems) this.queue.delete(id);
    for (const item of changes.addItems.values()) {
      if (!item.runId || !skipped.has(item.runId)) this.queue.put(item);
    }
    for (const pause of changes.addPauses) this.indexPause(pause);
    for (const callback of changes.afterCommit) callback();
    this.pump();
  }

  private indexPause(pause: Pause): void {
    this.pausesById.set(pause.id, pause);
    let byEvent = this.pausesByEvent.get(pause.eventName);
    if (!byEvent) {
      byEvent = new Map();
      this.pausesByEvent.set(pause.eventName, byEvent);
    }
    byEvent.set(pause.id, pause);
  }

  /** Takes a pause out of play at once (in memory), so a match and a timeout cannot both win. */
  private consumePause(pause: Pause, changes: Changes): void {
    this.pausesById.delete(pause.id);
    this.pausesByEvent.get(pause.eventName)?.delete(pause.id);
    changes.deletePauses.add(pause.id);
    changes.remove(`${pause.runId}:timeout:${pause.stepId}`);
  }

  // ---------------------------------------------------------------- the work loop

  private pump(): void {
    if (this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = this.clock.now();
    while (this.inFlight.size < this.maxInFlight) {
      const item = this.queue.popDue(now);
      if (!item) break;
      this.inFlight.add(item.id);
      this.process(item)
        .catch((error: unknown) => {
          this.logger.error(`queue item ${item.id} failed: ${(error as Error).stack ?? error}`);
          // Put it back: the store still has it; try again shortly.
          if (!this.queue.has(item.id)) this.queue.put({ ...item, dueAt: this.clock.now() + 1000 });
        })
        .finally(() => {
          this.inFlight.delete(item.id);
          this.pump();
        });
    }
    const next = this.queue.peek();
    if (next && !this.clock.virtual && this.inFlight.size < this.maxInFlight) {
      const delay = Math.min(Math.max(next.dueAt - Date.now(), 0), 2 ** 31 - 1);
      this.timer = setTimeout(() => this.pump(), delay);
    }
    if (this.isIdle() && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async process(item: QueueItem): Promise<void> {
    if (item.kind === "cron") return this.fireCron(item);
    if (!item.runId) return;
    await this.withRunLock(item.runId, async () => {
      const run = await this.loadRun(item.runId as string);
      if (run?.status !== "Running") {
        await this.store.deleteQueueItem(item.id);
        return;
      }
      switch (item.kind) {
        case "call":
          return this.call(run, item);
        case "resume":
          return this.resume(run, item);
        case "timeout":
          return this.timeout(run, item);
        case "cancel":
          return this.finish(run, item, { status: "Cancelled" });
      }
    });
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

  // ---------------------------------------------------------------- calls

  private maxAttempts(fn: FunctionRecord): number {
    const attempts = fn.config.steps?.step?.retries?.attempts;
    return typeof attempts === "number" ? attempts + 1 : DEFAULT_ATTEMPTS;
  }

  private backoff(attempt: number): number {
    return Math.min(this.retry.baseMs * 2 ** attempt, this.retry.maxMs);
  }

  private async call(run: RunRecord, item: QueueItem): Promise<void> {
    const fn = this.functions.get(run.functionSlug);
    if (!fn) {
      // The app may be re-syncing; keep the run waiting rather than failing it.
      await this.reschedule(item, this.clock.now() + UNREACHABLE_MAX_DELAY_MS, {
        lastError: `function ${run.functionSlug} is not registered (sync its app)`,
      });
      return;
    }
    const events =
      this.runEvents.get(run.runId) ?? (await this.store.getEvents(run.eventIds)).map(toWire);
    const stepId = item.stepId ?? "step";
    const maxAttempts = this.maxAttempts(fn);
    const payload = {
      event: events[0] ?? {},
      events,
      steps: Object.fromEntries(run.stack.map((id) => [id, run.steps[id] ?? null])),
      ctx: {
        run_id: run.runId,
        attempt: item.attempt,
        max_attempts: maxAttempts,
        disable_immediate_execution: run.forceStepPlan,
        use_api: false,
        stack: { stack: run.stack, current: run.stack.length },
      },
      version: run.requestVersion,
    };
    const url = new URL(fn.config.steps.step?.runtime.url ?? run.appUrl);
    url.searchParams.set("fnId", fn.slug);
    url.searchParams.set("stepId", stepId);
    const startedAt = this.clock.now();
    let response: CallResponse;
    try {
      response = await this.sdk.call(url.toString(), payload, {
        "x-run-id": run.runId,
        ...(run.requestVersion > 0 ? { "x-inngest-req-version": String(run.requestVersion) } : {}),
      });
    } catch (error) {
      // The app is down (or answered with a bad signature): the run waits for it, not lost.
      const failures = Number(item.data.unreachable ?? 0);
      const delay = Math.min(this.retry.baseMs * 2 ** failures, UNREACHABLE_MAX_DELAY_MS);
      const message = (error as Error).message;
      if (failures === 0)
        this.logger.warn(`run ${run.runId}: ${message}; retrying until the app answers`);
      await this.reschedule(item, this.clock.now() + delay, {
        unreachable: failures + 1,
        lastError: message,
      });
      if (!(error instanceof AppUnreachableError)) this.logger.warn(message);
      return;
    }
    if (!response.fromSdk && response.status >= 500) {
      const failures = Number(item.data.unreachable ?? 0);
      await this.reschedule(
        item,
        this.clock.now() + Math.min(this.retry.baseMs * 2 ** failures, UNREACHABLE_MAX_DELAY_MS),
        {
          unreachable: failures + 1,
          lastError: `app answered ${response.status} without the Inngest SDK: ${preview(response.body)}`,
        },
      );
      return;
    }
    const version = Number(response.headers.get("x-inngest-req-version"));
    if (version > 0) run.requestVersion = version;
    await this.handleResponse(run, fn, item, response, startedAt, maxAttempts);
  }

  private async reschedule(item: QueueItem, dueAt: number, data: JsonObject): Promise<void> {
    const changes = new Changes();
    changes.add({ ...item, dueAt, data: { ...item.data, ...data } });
    await this.commit(changes);
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
    const changes = new Changes();
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
      changes.add({
        ...item,
        attempt: item.attempt + 1,
        dueAt: now + this.retryDelay(item.attempt, response),
      });
      await this.commit(changes);
      return;
    }
    await this.finish(run, item, { status: "Failed", error }, changes);
  }

  private retryDelay(attempt: number, response: CallResponse): number {
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
      if (Number.isFinite(ms)) return Math.min(Math.max(ms, 1000), 24 * 3600_000);
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
    const changes = new Changes();
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
      changes.add({
        ...item,
        attempt: item.attempt + 1,
        dueAt: now + this.retryDelay(item.attempt, response),
      });
      await this.commit(changes);
      return;
    }
    const value =
      op.op === "StepRun"
        ? { data: op.data === undefined ? null : op.data }
        : { error: op.error ?? { name: "Error", message: "Unknown error" } };
    changes.timeline.push({
      runId: run.runId,
      stepId: op.id,
      name,
      op: op.op === "StepRun" ? "StepRun" : "StepFailed",
      attempt: item.attempt,
      startedAt,
      endedAt: now,
      output: op.op === "StepRun" ? (op.data ?? null) : null,
      error: op.op === "StepRun" ? null : (op.error ?? null),
    });
    this.memoize(run, op.id, value, changes);
    changes.remove(item.id);
    this.continueAfterStep(run, item.id, changes, now);
    await this.commit(changes);
  }

  private memoize(run: RunRecord, stepId: string, value: unknown, changes: Changes): void {
    if (!(stepId in run.steps)) run.stack = [...run.stack, stepId];
    run.steps = { ...run.steps, [stepId]: value };
    changes.updatedRuns.set(run.runId, run);
  }

  /** After a step ends: discovery, unless sibling parallel steps are still to finish. */
  private continueAfterStep(
    run: RunRecord,
    finishedItemId: string,
    changes: Changes,
    now: number,
  ): void {
    const prefix = `${run.runId}:plan:`;
    const pendingSiblings = [
      ...this.queue.values(),
      ...[...this.inFlight].map((id) => ({ id })),
    ].some(
      (other) =>
        other.id.startsWith(prefix) &&
        other.id !== finishedItemId &&
        !changes.deleteItems.has(other.id),
    );
    if (pendingSiblings) return;
    if (run.forceStepPlan && run.requestVersion >= 2) run.forceStepPlan = false;
    changes.updatedRuns.set(run.runId, run);
    changes.add(discoveryItem(run.runId, now, 0));
  }

  private async plan(run: RunRecord, item: QueueItem, ops: Op[], now: number): Promise<void> {
    const changes = new Changes();
    changes.remove(item.id);
    if (ops.length > 1) run.forceStepPlan = true;
    changes.updatedRuns.set(run.runId, run);
    for (const op of ops) {
      const name = op.displayName ?? op.name ?? op.id;
      if (op.id in run.steps) continue;
      switch (op.op) {
        case "StepPlanned": {
          const id = `${run.runId}:plan:${op.id}`;
          if (this.queue.has(id) || this.inFlight.has(id)) break; // re-reported sibling
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
        case "Sleep": {
          const until = resolveTime(op.name ?? "", now) ?? now;
          changes.add({
            id: `${run.runId}:resume:${op.id}`,
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
          const target = String(op.opts?.function_id ?? "");
          const payload = (op.opts?.payload as JsonObject | undefined) ?? {};
          const correlationId = `${run.runId}.${op.id}`;
          const expiresAt = resolveTime(String(op.opts?.timeout ?? ""), now) ?? now + YEAR_MS;
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
                source_fn_id: run.functionSlug,
                name,
              },
            },
          });
          changes.events.push(invoked);
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
          changes.afterCommit.push(() => void this.ingestStored([invoked]));
          if (!this.functions.has(target)) {
            changes.add({
              id: `${run.runId}:resume:${op.id}`,
              kind: "resume",
              runId: run.runId,
              stepId: op.id,
              attempt: 0,
              dueAt: now,
              data: {
                invokeResult: {
                  error: { name: "Error", message: `function ${target} is not registered` },
                },
              },
            });
          }
          break;
        }
        default:
          this.logger.warn(`run ${run.runId}: op ${op.op} is not supported; ignoring it`);
      }
    }
    await this.commit(changes);
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
      // Only events received from now on can match.
      afterEventId: nextUlid(this.clock.now()),
    };
    changes.addPauses.push(pause);
    changes.add({
      id: `${run.runId}:timeout:${stepId}`,
      kind: "timeout",
      runId: run.runId,
      stepId,
      attempt: 0,
      dueAt: expiresAt,
      data: { pauseId: pause.id, kind },
    });
  }

  /** Routes events created by the executor itself (invocations): stored, then routed. */
  private async ingestStored(events: StoredEvent[]): Promise<void> {
    const work = this.ingestChain.then(async () => {
      const changes = new Changes();
      for (const event of events) this.route(event, changes);
      await this.commit(changes);
    });
    this.ingestChain = work.catch(() => {});
    await work;
  }

  // ---------------------------------------------------------------- resumes, timeouts, ends

  private async resume(run: RunRecord, item: QueueItem): Promise<void> {
    const now = this.clock.now();
    const changes = new Changes();
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
    changes.add(discoveryItem(run.runId, now, 0));
    await this.commit(changes);
  }

  private async timeout(run: RunRecord, item: QueueItem): Promise<void> {
    const now = this.clock.now();
    const pause = this.pausesById.get(String(item.data.pauseId));
    const changes = new Changes();
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
      output: null,
    });
    this.memoize(run, stepId, value, changes);
    changes.add(discoveryItem(run.runId, now, 0));
    await this.commit(changes);
  }

  /** Cancels a running run (REST API, cancelOn). */
  async cancel(runId: string): Promise<RunRecord | null> {
    return this.withRunLock(runId, async () => {
      const run = await this.loadRun(runId);
      if (!run) return null;
      if (run.status !== "Running") return run;
      await this.finish(run, null, { status: "Cancelled" });
      return run;
    });
  }

  private async finish(
    run: RunRecord,
    item: QueueItem | null,
    end:
      | { status: "Completed"; output: unknown }
      | { status: "Failed"; error: JsonObject }
      | { status: "Cancelled" },
    changes = new Changes(),
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
    if (item) changes.remove(item.id);
    for (const queued of this.queue.values())
      if (queued.runId === run.runId) changes.remove(queued.id);
    for (const pause of this.pausesById.values())
      if (pause.runId === run.runId) this.consumePause(pause, changes);
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
                  end.status === "Failed" ? end.error : { name: "Error", message: "run cancelled" },
              }),
          ...(invoke?.correlation_id ? { correlation_id: invoke.correlation_id } : {}),
          _inngest: { status: end.status },
        },
      }),
    );
    changes.events.push(...emitted);
    changes.afterCommit.push(() => void this.ingestStored(emitted));
    await this.commit(changes);
    this.logger.debug(`run ${run.runId} ${run.functionSlug}: ${end.status}`);
  }

  // ---------------------------------------------------------------- cron

  private async fireCron(item: QueueItem): Promise<void> {
    const slug = String(item.data.slug);
    const cron = String(item.data.cron);
    const fn = this.functions.get(slug);
    const changes = new Changes();
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
      const next = nextCronTick(cron, item.dueAt);
      if (next !== null) changes.add({ ...item, dueAt: next });
    }
    await this.commit(changes);
  }
}

function discoveryItem(runId: string, dueAt: number, attempt: number): QueueItem {
  return { id: `${runId}:step`, kind: "call", runId, stepId: "step", attempt, dueAt, data: {} };
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
