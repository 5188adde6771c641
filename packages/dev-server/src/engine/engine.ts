import type { Clock } from "../clock";
import { singletonKey } from "../flow-control/singleton";
import { functionInternalId } from "../functions/internal-id";
import { parseFunctionOptions } from "../functions/options";
import type { SdkClient } from "../sdk-client";
import { StorageUnavailableError, type Store, type StoredFunction } from "../store/store";
import type { ActiveRun, FunctionRecord, QueueItem, RunRecord, StoredEvent } from "../types";
import { Changes } from "./changes";
import { Committer } from "./commit";
import { CronScheduler } from "./cron";
import { type EventInput, makeEvent, toWire } from "./events";
import {
  type CheckpointInput,
  type CheckpointOutcome,
  Executor,
  notSyncedMessage,
  type RetryPolicy,
} from "./executor";
import { Runner } from "./runner";
import { EngineState, type Logger } from "./state";

export interface EngineOptions {
  store: Store;
  clock: Clock;
  sdk: SdkClient;
  retry: RetryPolicy;
  logger: Logger;
  /** Queue items worked on at once (calls to apps included), across all runs. */
  maxInFlight?: number;
  /** Async checkpointing (see `Executor.checkpoint`); off: one step per call. */
  checkpointing?: boolean;
}

/**
 * The engine: the dev server's core, behind the HTTP routes. It holds the state in memory
 * (`EngineState`), works the queue (the pump below), and wires the parts that decide: the runner
 * (events → runs), the executor (calls to apps and their answers), cron, and the committer (state
 * changes → store → memory). Everything the HTTP side asks of the core goes through here.
 */
export class Engine {
  private readonly store: Store;
  private readonly state: EngineState;
  private readonly committer: Committer;
  private readonly runner: Runner;
  private readonly executor: Executor;
  private readonly cron: CronScheduler;
  private readonly maxInFlight: number;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.state = new EngineState(options.clock, options.logger);
    this.committer = new Committer(this.store, this.state, (changes) => this.applied(changes));
    this.runner = new Runner(this.state);
    this.executor = new Executor(
      this.state,
      this.committer,
      this.runner,
      options.sdk,
      options.retry,
      options.checkpointing ?? false,
    );
    this.cron = new CronScheduler(this.state, this.runner);
    this.maxInFlight = options.maxInFlight ?? 64;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Loads functions, runs in progress, the queue, pauses and flow-control state; starts working. */
  async start(): Promise<void> {
    const { state, store } = this;
    for (const fn of await store.listFunctions()) state.functions.set(fn.slug, withOptions(fn));
    for (const { run, steps } of await store.listActiveRuns()) {
      const events = (await store.getEvents(run.eventIds)).map(toWire);
      const ordered = [...steps].sort((a, b) => a.position - b.position);
      state.runs.set(run.runId, {
        ...run,
        events,
        stack: ordered.map((step) => step.stepId),
        steps: new Map(ordered.map((step) => [step.stepId, step.value])),
      });
      const fn = state.functions.get(run.functionSlug);
      const key = fn && singletonKey(fn.slug, fn.options.singleton, events[0]);
      if (key) state.singletons.hold(key, run.runId);
    }
    for (const item of await store.loadQueue()) state.queue.put(item);
    for (const [key, tat] of await store.loadGcraStates()) state.gcra.set(key, tat);
    for (const batch of await store.loadBatches()) {
      const events = await store.getEvents(batch.eventIds);
      state.batches.restore(batch.key, { slug: batch.functionSlug, events });
    }
    for (const pause of await store.loadPauses()) state.pauses.index(pause);
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
    this.state.clearRuns();
    await this.committer.commit(this.cron.schedule());
  }

  /** Resolves once every change set queued so far is committed (or has failed). */
  drain(): Promise<void> {
    return this.committer.drain();
  }

  /** Resolves when nothing is due and nothing is in flight (once stopped: nothing in flight). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    if (this.state.inFlight.size > 0) return false;
    if (this.stopped) return true;
    const next = this.state.queue.peek();
    return !next || next.dueAt > this.state.clock.now();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Virtual clock: moves to `to` and runs everything that comes due, in time order. */
  async advanceTo(to: number): Promise<void> {
    const clock = this.state.clock as Clock & { set?(to: number): void };
    if (!clock.set) throw new Error("the clock is real: start the server in test mode");
    // Step through due times one by one, so work that a due item schedules in between runs at
    // its own time, in order, as it would have in real time.
    for (;;) {
      await this.idle();
      const next = this.state.queue.peek();
      if (!next || next.dueAt > to) break;
      clock.set(Math.max(next.dueAt, clock.now()));
      this.pump();
    }
    clock.set(to);
    this.pump();
    await this.idle();
  }

  // ---------------------------------------------------------------- functions

  functionList(): FunctionRecord[] {
    return [...this.state.functions.values()];
  }

  getFunction(slug: string): FunctionRecord | undefined {
    return this.state.functions.get(slug);
  }

  /**
   * Replaces an app's functions (after a sync): options parsed here, cron triggers re-armed. The
   * app is live from now on: its functions start runs, and calls of its runs that waited for it
   * (runs of an earlier session) are due at once.
   */
  async setAppFunctions(appUrl: string, functions: StoredFunction[]): Promise<void> {
    const { state } = this;
    const registry = state.functions;
    for (const [slug, fn] of registry) if (fn.appUrl === appUrl) registry.delete(slug);
    for (const fn of functions) registry.set(fn.slug, withOptions(fn));
    const wasLive = state.syncedApps.has(appUrl);
    state.syncedApps.add(appUrl);
    await this.committer.commit(this.cron.schedule());
    if (!wasLive) this.wakeCallsOf(appUrl);
  }

  /** Whether the app at `url` has synced since this process started. */
  isSynced(url: string): boolean {
    return this.state.syncedApps.has(url);
  }

  private wakeCallsOf(appUrl: string): void {
    const { state } = this;
    const waiting = notSyncedMessage(appUrl);
    const now = state.clock.now();
    for (const item of [...state.queue.values()]) {
      if (item.kind === "call" && item.data.lastError === waiting && item.dueAt > now) {
        state.queue.put({ ...item, dueAt: now });
      }
    }
    this.pump();
  }

  // ---------------------------------------------------------------- events and runs

  /** A stored event, as received from a sender now (ids and timestamps filled in). */
  makeEvent(input: EventInput): StoredEvent {
    return makeEvent(input, this.state.clock.now());
  }

  /**
   * Stores events and schedules what they start, in one transaction: when this resolves, the
   * events are durable and every run they trigger is queued. Routing is synchronous and commits
   * keep their order, so concurrent sends need no lock.
   */
  ingest(events: StoredEvent[]): Promise<void> {
    const changes = new Changes();
    changes.events.push(...events);
    for (const event of events) this.runner.route(event, changes);
    return this.committer.commit(changes);
  }

  /**
   * Starts a new run of `fn` with stored trigger events (the dev UI's Rerun). Unlike routing, no
   * flow control applies and the sender's event id is not an idempotency key: asking for a rerun
   * is asking for exactly one more run.
   */
  async rerun(fn: FunctionRecord, events: StoredEvent[], cron: string | null): Promise<RunRecord> {
    if (events.length === 0) throw new Error("a rerun needs the trigger events of the run");
    const changes = new Changes();
    const run = this.runner.startRun(fn, events, changes, cron);
    changes.idempotencyKeys.delete(run.runId);
    await this.committer.commit(changes);
    return run;
  }

  /** Cancels a run (REST API): at once, even while one of its steps is running. */
  async cancel(runId: string): Promise<RunRecord | null> {
    return this.state.withRunLock(runId, async () => {
      const run = this.state.activeRun(runId);
      if (!run) return this.store.getRun(runId);
      await this.committer.commit(this.executor.end(run, null, { status: "Cancelled" }));
      return run;
    });
  }

  /** Steps checkpointed by the SDK during a call of the run (`POST /v1/checkpoint/:runId/async`). */
  checkpoint(input: CheckpointInput): Promise<CheckpointOutcome> {
    return this.executor.checkpoint(input);
  }

  // ---------------------------------------------------------------- the work loop

  /** Starts every due item it may (up to `maxInFlight`), and sets a timer for the next one. */
  private pump(): void {
    const { state } = this;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.stopped) {
      const now = state.clock.now();
      while (state.inFlight.size < this.maxInFlight) {
        const item = state.queue.popDue(now);
        if (!item) break;
        if (!this.takeSlots(item)) continue;
        state.inFlight.add(item);
        this.process(item)
          .catch((error: unknown) => {
            // The storage out of reach is expected to pass: said in a line, not with a stack.
            if (error instanceof StorageUnavailableError)
              state.logger.warn(`queue item ${item.id}: ${error.message}; tried again in 1 s`);
            else
              state.logger.error(
                `queue item ${item.id} failed: ${(error as Error).stack ?? error}`,
              );
            // Not settled, so the store still has it: memory gets it back, to try again shortly.
            if (state.inFlight.has(item) && !state.queue.has(item.id)) {
              state.queue.put({ ...item, dueAt: state.clock.now() + 1000 });
            }
          })
          .finally(() => {
            this.settle(item);
            this.pump();
          });
      }
      const next = state.queue.peek();
      if (next && !state.clock.virtual && state.inFlight.size < this.maxInFlight) {
        const delay = Math.min(Math.max(next.dueAt - Date.now(), 0), 2 ** 31 - 1);
        this.timer = setTimeout(() => this.pump(), delay);
      }
    }
    this.notifyIdle();
  }

  private async process(item: QueueItem): Promise<void> {
    switch (item.kind) {
      case "call":
        return this.executor.call(item);
      case "cron":
        return this.committer.commit(this.cron.fire(item));
      case "batch": {
        const changes = new Changes(item);
        this.runner.fireBatch(item, changes);
        return this.committer.commit(changes);
      }
      case "debounce": {
        const changes = new Changes(item);
        this.runner.fireDebounce(item, changes);
        return this.committer.commit(changes);
      }
    }
    const runId = item.runId;
    await this.state.withRunLock(runId, async () => {
      const run: ActiveRun | null = this.state.activeRun(runId);
      if (!run) return this.executor.drop(item);
      if (item.kind === "resume") return this.committer.commit(this.executor.resume(run, item));
      if (item.kind === "timeout") return this.committer.commit(this.executor.timeout(run, item));
      return this.committer.commit(this.executor.end(run, item, { status: "Cancelled" }));
    });
  }

  /**
   * Concurrency: a call of a run with limits takes one slot of each of its keys, or, if one is
   * full, is parked on that key until a slot frees (it holds no place in the heap meanwhile).
   */
  private takeSlots(item: QueueItem): boolean {
    if (item.kind !== "call") return true;
    const slots = this.state.runs.get(item.runId)?.concurrency;
    if (!slots?.length) return true;
    const full = this.state.slots.take(item, slots);
    if (full === null) return true;
    this.state.queue.park(item);
    this.state.slots.wait(full, item);
    return false;
  }

  /** The item is done with (settled, or failed to be): its slots go to the next waiting calls. */
  private settle(item: QueueItem): void {
    const { state } = this;
    state.inFlight.delete(item);
    const woken = state.slots.release(
      item,
      (waiting) => state.queue.get(waiting.id) === waiting,
      (waiting) => (waiting.runId && state.runs.get(waiting.runId)?.concurrency) || [],
    );
    for (const next of woken) state.queue.unpark(next);
  }

  /** A commit has been applied: its item is settled, its callbacks run, new work may be due. */
  private applied(changes: Changes): void {
    if (changes.processed) this.settle(changes.processed);
    for (const callback of changes.afterCommit) callback();
    this.pump();
  }
}

function withOptions(fn: StoredFunction): FunctionRecord {
  return {
    ...fn,
    internalId: functionInternalId(fn.slug),
    options: parseFunctionOptions(fn.config),
  };
}
