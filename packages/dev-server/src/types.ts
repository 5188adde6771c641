/**
 * The dev server's domain: what it stores and what the engine works on. Wire shapes (what the HTTP
 * API answers) live with the routes; the SDK's own shapes live in `functions/config.ts` (what an app
 * registers) and `engine/ops.ts` (what a call answers).
 */
import type { FunctionConfig } from "./functions/config";
import type { FunctionOptions } from "./functions/options";

export type JsonObject = Record<string, unknown>;

/** An event as stored: the internal ULID is what the API hands out; `id` is the sender's own. */
export interface StoredEvent {
  internalId: string;
  id: string | null;
  name: string;
  data: JsonObject;
  user: JsonObject;
  ts: number;
  v: string | null;
  receivedAt: number;
}

/** The event as the SDK receives it in a call request (and as CEL expressions see it). */
export interface WireEvent {
  id: string;
  name: string;
  data: JsonObject;
  user: JsonObject;
  ts: number;
  v?: string;
}

export interface AppRecord {
  /** The serve URL the app was synced from: the key. */
  url: string;
  appId: string | null;
  framework: string | null;
  sdk: string | null;
  functionCount: number;
  syncedAt: number | null;
  /** Why the last sync failed, with what the app answered; null after a good sync. */
  error: string | null;
}

/** A registered function: the config as the app sent it, and its options parsed once, at sync. */
export interface FunctionRecord {
  slug: string;
  /**
   * Its internal id, a UUID, as Inngest's: what REST v1 answers as a run's `function_id` and a
   * function's `internal_id` (`functions/internal-id.ts`: derived from the slug, so stable).
   */
  internalId: string;
  appUrl: string;
  appId: string;
  name: string;
  config: FunctionConfig;
  options: FunctionOptions;
}

export type RunStatus = "Queued" | "Running" | "Completed" | "Failed" | "Cancelled" | "Skipped";

/** A run as stored: one row, whatever its number of steps (those are records of their own). */
export interface RunRecord {
  runId: string;
  functionSlug: string;
  appUrl: string;
  /** Internal id of the triggering event (the first of a batch). */
  eventId: string;
  eventIds: string[];
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  output: unknown;
  error: JsonObject | null;
  cron: string | null;
  /**
   * Go's `ForceStepPlan`: set once a call answered with several ops (the run went parallel).
   * While set, every call asks the SDK to plan steps instead of running one inline.
   */
  forceStepPlan: boolean;
  /** The SDK's execution version (`x-inngest-req-version`), echoed back on later calls. */
  requestVersion: number;
  /**
   * The run's concurrency slots (evaluated keys, with their limits), fixed when it is scheduled:
   * each call of the run holds one slot of each while it executes.
   */
  concurrency?: ConcurrencySlot[];
}

export interface ConcurrencySlot {
  key: string;
  limit: number;
}

/** One memoized step: appended once when the step ends, never rewritten. */
export interface StepRecord {
  runId: string;
  /** The SDK's hashed step id. */
  stepId: string;
  /** Its place in the run's memoization stack (completion order), from 0. */
  position: number;
  /** What the SDK gets back for it: `{data}`, `{error}`, an event, or null. */
  value: unknown;
}

/**
 * A run in progress, as the engine holds it in memory: the row, its trigger events, and its
 * memoized steps in completion order (the SDK's stack). Never mutated in place outside a commit's
 * apply: handlers work on a shallow copy and describe their writes as changes.
 */
export interface ActiveRun extends RunRecord {
  events: WireEvent[];
  stack: readonly string[];
  steps: ReadonlyMap<string, unknown>;
}

/** A run as loaded at start: the row and its memoized steps. */
export interface StoredActiveRun {
  run: RunRecord;
  steps: StepRecord[];
}

/**
 * A unit of scheduled work; durable, so a restart picks up where the server stopped. The kind
 * says what to do when it comes due, and carries what that needs.
 */
export type QueueItem =
  | CallItem
  | ResumeItem
  | TimeoutItem
  | CancelItem
  | CronItem
  | BatchItem
  | DebounceItem;

interface ItemBase {
  id: string;
  runId: string | null;
  stepId: string | null;
  attempt: number;
  dueAt: number;
}

/** A request to the app: discovery (`stepId` "step"), or one planned step (its hashed id). */
export interface CallItem extends ItemBase {
  kind: "call";
  runId: string;
  stepId: string;
  /** While the app does not answer as an SDK: how many times in a row, and why. */
  data: { unreachable?: number; lastError?: string };
}

/** A sleep ended, a waited event arrived, or an invoked run finished. */
export interface ResumeItem extends ItemBase {
  kind: "resume";
  runId: string;
  stepId: string;
  data:
    | { sleep: true; value: null }
    | { value: WireEvent; eventId: string }
    | { invokeResult: { result?: unknown; error?: unknown } };
}

/** A wait, invoke or cancelOn window expired. */
export interface TimeoutItem extends ItemBase {
  kind: "timeout";
  runId: string;
  stepId: string;
  data: { pauseId: string; kind: Pause["kind"] };
}

/** Cancels the run: a cancelOn match, a singleton replacement, or a start/finish timeout. */
export interface CancelItem extends ItemBase {
  kind: "cancel";
  runId: string;
  data: { timeout?: "start" | "finish" } | { value: WireEvent; eventId: string };
}

/** A cron trigger's next tick. */
export interface CronItem extends ItemBase {
  kind: "cron";
  runId: null;
  data: { slug: string; cron: string };
}

/** A batch buffer's timeout. */
export interface BatchItem extends ItemBase {
  kind: "batch";
  runId: null;
  data: { key: string };
}

/** A debounce period's end; the item holds the latest event (it is the debounce's whole state). */
export interface DebounceItem extends ItemBase {
  kind: "debounce";
  runId: null;
  data: { slug: string; firstAt: number; event: StoredEvent };
}

export type QueueKind = QueueItem["kind"];

export interface Pause {
  id: string;
  runId: string;
  stepId: string;
  kind: "wait" | "cancel" | "invoke";
  eventName: string;
  /** CEL, with the trigger event's values already interpolated. */
  expression: string | null;
  expiresAt: number;
  /** Cancel-pauses: only events with a newer ULID can match (waits go by arrival instead). */
  afterEventId: string;
}

export interface TimelineEntry {
  runId: string;
  seq: number;
  stepId: string | null;
  name: string;
  op: string;
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  output: unknown;
  error: JsonObject | null;
}
