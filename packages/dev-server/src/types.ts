/** The dev server's domain: what it stores and what the executor works on. */

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

/** The event as the SDK receives it in a call request. */
export interface WireEvent {
  id: string;
  name: string;
  data: JsonObject;
  user: JsonObject;
  ts: number;
  v?: string;
}

export interface FunctionTrigger {
  event?: string;
  expression?: string;
  cron?: string;
  jitter?: string;
}

/** A function as the SDK registers it (§5.4 of the protocol notes); unknown fields are kept. */
export interface FunctionConfig {
  id: string;
  name?: string;
  triggers: FunctionTrigger[];
  steps: Record<
    string,
    {
      id: string;
      name: string;
      runtime: { type: string; url: string };
      retries?: { attempts?: number };
    }
  >;
  cancel?: { event: string; if?: string; timeout?: string }[];
  [option: string]: unknown;
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

export interface FunctionRecord {
  slug: string;
  appUrl: string;
  appId: string;
  name: string;
  config: FunctionConfig;
}

export type RunStatus = "Queued" | "Running" | "Completed" | "Failed" | "Cancelled" | "Skipped";

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
  /** Completed step ids in completion order: the SDK's memoization stack. */
  stack: string[];
  /** Memoized step values by hashed id, as the SDK wants them back. */
  steps: Record<string, unknown>;
  /** Set after a response with several ops: later calls plan steps instead of running them inline. */
  forceStepPlan: boolean;
  requestVersion: number;
  /**
   * The run's concurrency slots (evaluated keys, with their limits), fixed when it is scheduled:
   * each call of the run holds one slot of each while it executes.
   */
  concurrency?: { key: string; limit: number }[];
}

/**
 * call: a request to the app (discovery, or one planned step); resume: a sleep ended or a waited
 * event arrived; timeout: a wait or invoke expired; cancel: a cancelOn event matched; cron: a tick;
 * batch: a batch's timeout; debounce: a debounce period ended.
 */
export type QueueKind = "call" | "resume" | "timeout" | "cancel" | "cron" | "batch" | "debounce";

/** A unit of scheduled work; durable, so a restart picks up where the server stopped. */
export interface QueueItem {
  id: string;
  kind: QueueKind;
  runId: string | null;
  /** `step` for discovery, or the hashed id of the planned step to run. */
  stepId: string | null;
  attempt: number;
  dueAt: number;
  data: JsonObject;
}

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
