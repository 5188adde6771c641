import type {
  ActiveRun,
  JsonObject,
  Pause,
  QueueItem,
  RunRecord,
  StepRecord,
  StoredEvent,
  TimelineEntry,
} from "../types";

/**
 * One unit of work: every write that belongs together (a step's result, the queue item that
 * produced it, the next item, timeline entries, events it emits), made by the engine's handlers
 * synchronously, persisted by the store in one transaction, and only then applied in memory. So a
 * restart on the same storage resumes every run where it stood, and no memoized step runs again.
 */
export type NewTimelineEntry = Omit<TimelineEntry, "seq">;

export interface TimelineEnd {
  runId: string;
  stepId: string;
  op: string;
  endedAt: number;
  output?: unknown;
  error?: JsonObject | null;
}

/** What the store writes of a unit of work (the engine's bookkeeping is left out). */
export interface ChangeSet {
  readonly events: readonly StoredEvent[];
  readonly newRuns: readonly RunRecord[];
  /** A new run is only created if its idempotency key is free: run id → key. */
  readonly idempotencyKeys: ReadonlyMap<string, string>;
  /** Runs whose row changed (status, end, version...): the whole row, never their steps. */
  readonly updatedRuns: ReadonlyMap<string, RunRecord>;
  /** Steps memoized: appended, one record each. */
  readonly newSteps: readonly StepRecord[];
  /** GCRA states (rate limits, throttles) to save, by key. */
  readonly gcra: ReadonlyMap<string, number>;
  /** Batch buffers to save (their event ids), or to delete (null), by key. */
  readonly batches: ReadonlyMap<string, { slug: string; eventIds: string[] | null }>;
  readonly addItems: ReadonlyMap<string, QueueItem>;
  readonly deleteItems: ReadonlySet<string>;
  readonly addPauses: readonly Pause[];
  readonly deletePauses: ReadonlyMap<string, Pause>;
  readonly timeline: readonly NewTimelineEntry[];
  readonly endTimeline: readonly TimelineEnd[];
}

export class Changes implements ChangeSet {
  events: StoredEvent[] = [];
  newRuns: RunRecord[] = [];
  idempotencyKeys = new Map<string, string>();
  updatedRuns = new Map<string, RunRecord>();
  newSteps: StepRecord[] = [];
  gcra = new Map<string, number>();
  batches = new Map<string, { slug: string; eventIds: string[] | null }>();
  addItems = new Map<string, QueueItem>();
  deleteItems = new Set<string>();
  addPauses: Pause[] = [];
  deletePauses = new Map<string, Pause>();
  timeline: NewTimelineEntry[] = [];
  endTimeline: TimelineEnd[] = [];
  /** What to do once the transaction has committed. */
  afterCommit: (() => void)[] = [];
  /** Trigger events of the new runs (kept in memory with the run once it is committed). */
  readonly runEvents = new Map<string, ActiveRun["events"]>();

  /** `processed`: the queue item being worked on; once these changes commit, it is settled. */
  constructor(readonly processed: QueueItem | null = null) {}

  add(item: QueueItem): void {
    this.deleteItems.delete(item.id);
    this.addItems.set(item.id, item);
  }

  remove(id: string): void {
    this.addItems.delete(id);
    this.deleteItems.add(id);
  }

  /** Saves the run's row as it is in `run` (a working copy). */
  updateRun(run: RunRecord): void {
    this.updatedRuns.set(run.runId, run);
  }

  /**
   * Memoizes a step of `run`: appended to its stack unless it is there already (then only its
   * value is replaced, as the SDK would read it). Never rewrites the run's other steps.
   */
  memoize(run: ActiveRun, stepId: string, value: unknown): void {
    const pending = this.newSteps.find(
      (step) => step.runId === run.runId && step.stepId === stepId,
    );
    if (pending) {
      pending.value = value;
      return;
    }
    const known = run.steps.has(stepId);
    const position = known
      ? run.stack.indexOf(stepId)
      : run.stack.length + this.newSteps.filter((step) => step.runId === run.runId).length;
    this.newSteps.push({ runId: run.runId, stepId, position, value });
  }

  /** True when the step is memoized, in memory or by these changes. */
  hasStep(run: ActiveRun, stepId: string): boolean {
    return (
      run.steps.has(stepId) ||
      this.newSteps.some((step) => step.runId === run.runId && step.stepId === stepId)
    );
  }
}
