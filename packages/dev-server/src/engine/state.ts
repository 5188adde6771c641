import type { Clock } from "../clock";
import { BatchBuffers } from "../flow-control/batching";
import { ConcurrencySlotTable } from "../flow-control/concurrency";
import type { GcraStates } from "../flow-control/gcra";
import { Singletons } from "../flow-control/singleton";
import type { ActiveRun, FunctionRecord, QueueItem } from "../types";
import type { Changes } from "./changes";
import type { Dispatch } from "./executor";
import { isPlannedStep, resumeId } from "./items";
import { PauseIndex } from "./pauses";
import { DueQueue } from "./queue";

/** Where the engine's parts report what they do. */
export interface Logger {
  /** Routine detail (each run's end): shown with --verbose. */
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Everything the engine holds in memory, shared by its parts: the registered functions, the runs
 * in progress, the queue, the pauses and the flow-control states. The store has all of it too;
 * this is what the engine reads to decide, synchronously, and what a commit's apply updates.
 */
export class EngineState {
  readonly functions = new Map<string, FunctionRecord>();
  readonly runs = new Map<string, ActiveRun>();
  readonly queue = new DueQueue();
  /** Items popped from the queue and not settled yet (by object: an id can be queued again). */
  readonly inFlight = new Set<QueueItem>();
  readonly pauses = new PauseIndex();
  /** Rate limits' and throttles' GCRA states, by key. */
  readonly gcra: GcraStates = new Map();
  readonly singletons = new Singletons();
  readonly batches = new BatchBuffers();
  readonly slots = new ConcurrencySlotTable();
  /** Calls in flight that may checkpoint, by their `qi_id` (see `Executor.checkpoint`). */
  readonly dispatches = new Map<string, Dispatch>();
  /** Runs whose in-flight discovery went stale (their state changed meanwhile): one more follows. */
  readonly rediscover = new Set<string>();
  /**
   * Apps (serve URLs) synced since this process started. Functions of other apps, registered in
   * an earlier session, start no runs, and their runs' calls wait, until their app syncs again.
   */
  readonly syncedApps = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly clock: Clock,
    readonly logger: Logger,
  ) {}

  /** Forgets every run and piece of scheduled work; keeps the functions. */
  clearRuns(): void {
    this.runs.clear();
    this.queue.clear();
    this.pauses.clear();
    this.gcra.clear();
    this.singletons.clear();
    this.batches.clear();
    this.slots.clear();
    this.rediscover.clear();
  }

  /**
   * Runs `work` under the run's lock: changes to one run's state are made one at a time, each on
   * the state the previous one committed. Calls to the app are made outside it.
   */
  async withRunLock<T>(runId: string, work: () => Promise<T>): Promise<T> {
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

  /** The run if it is in progress, as a working copy (see `ActiveRun`). */
  activeRun(runId: string): ActiveRun | null {
    const run = this.runs.get(runId);
    return run ? { ...run } : null;
  }

  /** Whether `fn`'s app has synced since this process started (see `syncedApps`). */
  isLive(fn: FunctionRecord): boolean {
    return this.syncedApps.has(fn.appUrl);
  }

  isBusy(id: string): boolean {
    for (const item of this.inFlight) if (item.id === id) return true;
    return false;
  }

  /** Planned steps of the run, queued or in flight, other than `except`. */
  hasPlannedSteps(runId: string, except: QueueItem | null, changes?: Changes): boolean {
    return (
      this.queue
        .ofRun(runId)
        .some((other) => isPlannedStep(other) && !changes?.deleteItems.has(other.id)) ||
      [...this.inFlight].some(
        (other) => other !== except && other.runId === runId && isPlannedStep(other),
      )
    );
  }

  /** A sleep, wait or invoke already under way (the SDK reports it again until it ends). */
  isWaiting(runId: string, stepId: string): boolean {
    const resume = resumeId(runId, stepId);
    return (
      this.pauses.isWaiting(`${runId}:${stepId}`) || this.queue.has(resume) || this.isBusy(resume)
    );
  }
}
