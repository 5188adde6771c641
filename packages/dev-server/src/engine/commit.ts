import { StorageUnavailableError, type Store } from "../store/store";
import type { ActiveRun, StepRecord } from "../types";
import type { Changes } from "./changes";
import { discoveryItem, isDiscovery } from "./items";
import type { EngineState } from "./state";

/** Change sets written in one group-commit transaction, at most. */
const MAX_GROUP_COMMIT = 256;

interface PendingCommit {
  changes: Changes;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Persists units of work, then applies them in memory. Group commit: change sets that arrive
 * while a transaction is running are written together in the next one, in arrival order, so the
 * cost of a transaction is shared by everything that is ready (concurrent sends, parallel runs).
 * One failing set does not fail the others it was grouped with: they are retried one by one
 * (unless the storage is unavailable: then all fail, and nothing of them was written).
 */
export class Committer {
  private readonly pending: PendingCommit[] = [];
  private flushing = false;

  constructor(
    private readonly store: Store,
    private readonly state: EngineState,
    /** Called after each set is applied (the engine settles its item and looks for work). */
    private readonly onApplied: (changes: Changes) => void,
  ) {}

  /** Resolves once `changes` are durable and in memory. */
  commit(changes: Changes): Promise<void> {
    this.followStaleDiscovery(changes);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ changes, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Resolves once every change set queued so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_GROUP_COMMIT);
        let skipped: Set<string>[] | undefined;
        try {
          skipped = await this.store.commit(
            batch.map((entry) => entry.changes),
            this.state.clock.now(),
          );
        } catch (error) {
          // The storage out of reach fails them all at once: trying each alone would only wait
          // on it again, one after the other (a minute for a full group while PostgreSQL is down).
          if (batch.length === 1 || error instanceof StorageUnavailableError) {
            for (const entry of batch) this.fail(entry, error);
            continue;
          }
        }
        if (skipped) {
          batch.forEach((entry, index) => {
            this.succeed(entry, skipped[index] as Set<string>);
          });
          continue;
        }
        for (const entry of batch) {
          try {
            const [alone] = await this.store.commit([entry.changes], this.state.clock.now());
            this.succeed(entry, alone as Set<string>);
          } catch (error) {
            this.fail(entry, error);
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private succeed(entry: PendingCommit, skipped: Set<string>): void {
    this.apply(entry.changes, skipped);
    entry.resolve();
  }

  /** Nothing was written: the pauses these changes took out of play are back in play. */
  private fail(entry: PendingCommit, error: unknown): void {
    for (const pause of entry.changes.deletePauses.values()) this.state.pauses.restore(pause);
    entry.reject(error);
  }

  /** The committed changes, now in memory. `skipped`: new runs whose idempotency key was held. */
  private apply(changes: Changes, skipped: Set<string>): void {
    const { state } = this;
    const kept = (runId: string | null) => !runId || !skipped.has(runId);
    for (const run of changes.newRuns) {
      if (skipped.has(run.runId)) state.singletons.release(run.runId);
      else if (run.status === "Running") {
        state.runs.set(run.runId, {
          ...run,
          events: changes.runEvents.get(run.runId) ?? [],
          stack: [],
          steps: new Map(),
        });
      }
    }
    for (const run of changes.updatedRuns.values()) {
      const current = state.runs.get(run.runId);
      if (run.status === "Running") {
        if (current) state.runs.set(run.runId, { ...run, ...memoOf(current) });
      } else {
        state.runs.delete(run.runId);
        state.rediscover.delete(run.runId);
        state.singletons.release(run.runId);
      }
    }
    for (const step of changes.newSteps) {
      const run = state.runs.get(step.runId);
      if (run) appendStep(run, step);
    }
    for (const id of changes.deleteItems) state.queue.delete(id);
    for (const item of changes.addItems.values()) if (kept(item.runId)) state.queue.put(item);
    for (const id of changes.deletePauses.keys()) state.pauses.consumed(id);
    for (const pause of changes.addPauses) if (kept(pause.runId)) state.pauses.index(pause);
    this.onApplied(changes);
  }

  /**
   * A discovery whose run changed while it was out saw a stale state: when its own changes are
   * committed, another discovery follows (see `Executor.requestDiscovery`).
   */
  private followStaleDiscovery(changes: Changes): void {
    const item = changes.processed;
    if (!item?.runId || !isDiscovery(item) || !this.state.rediscover.has(item.runId)) return;
    this.state.rediscover.delete(item.runId);
    const run = changes.updatedRuns.get(item.runId) ?? this.state.runs.get(item.runId);
    // A retried discovery (same id, queued again) will see the fresh state anyway.
    if (run?.status === "Running" && !changes.addItems.has(item.id)) {
      changes.add(discoveryItem(item.runId, this.state.clock.now()));
    }
  }
}

function memoOf(run: ActiveRun): Pick<ActiveRun, "events" | "stack" | "steps"> {
  return { events: run.events, stack: run.stack, steps: run.steps };
}

/** The only place a run's memoized steps change: after the step's record has committed. */
function appendStep(run: ActiveRun, step: StepRecord): void {
  const steps = run.steps as Map<string, unknown>;
  if (!steps.has(step.stepId)) (run.stack as string[]).push(step.stepId);
  steps.set(step.stepId, step.value);
}
