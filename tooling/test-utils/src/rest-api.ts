/**
 * The Inngest server's REST API v1 and event API, as Inngest answers them and the local dev server
 * (packages/dev-server) too: the one place their shapes are written down for the tests. Every REST
 * answer is `{ data, metadata }` but an app's functions (a bare array); the client unwraps `data`.
 * Inngest's servers answer a failed GET with HTTP 200 and `{ error, status }` as the body (their
 * response cache drops the status): `RestErrorJson`.
 */

/** A run's status. The Go server's names; the dev server reports a run not yet called "Scheduled". */
export type RunStatus =
  | "Scheduled"
  | "Running"
  | "Completed"
  | "Failed"
  | "Cancelled"
  | "Skipped"
  // Another server may report more; comparing with any string stays allowed.
  | (string & {});

/** `GET /v1/runs/:id`, an item of `GET /v1/events/:id/runs` and of `GET /v1/runs`. */
export interface RunJson {
  run_id: string;
  run_started_at?: string;
  /**
   * The function's internal id, a UUID (as on Inngest): its slug is the `id` of the function with
   * this `internal_id` in `GET /v1/apps/:appId/functions`.
   */
  function_id: string;
  function_version?: number;
  event_id: string;
  /** Set for a run of a batch of events. */
  batch_id?: string;
  /** Set for a run started by a cron tick. */
  cron?: string;
  status: RunStatus;
  ended_at: string | null;
  output: unknown;
}

/** What a failed step or run reports as its error. */
export interface StepError {
  name?: string;
  message?: string;
  stack?: string;
  [field: string]: unknown;
}

/** An entry of `GET /v1/runs/:id/timeline`: one step attempt, sleep, wait or invoke, in order. */
export interface TimelineStep {
  seq: number;
  step_id: string | null;
  name: string;
  op: string;
  attempt: number;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  output: unknown;
  error: StepError | null;
}

/** `GET /v1/runs/:id/timeline`. */
export interface TimelineJson {
  run: RunJson;
  steps: TimelineStep[];
}

/** `GET /v1/events/:id`, an item of `GET /v1/events`. */
export interface EventJson {
  /** The server's id of the stored event (what `/v1/events/:id` takes). */
  internal_id: string;
  /** The sender's id (empty when the sender gave none). */
  id: string;
  name: string;
  data: Record<string, unknown>;
  user?: unknown;
  ts: number;
  v?: string;
  received_at: string;
}

/** An item of `GET /v1/runs/:id/jobs` (the dev server's own: the run's queued work). */
export interface JobJson {
  id: string;
  kind: string;
  stepId: string | null;
  attempt: number;
  dueAt: number;
  data: Record<string, unknown>;
}

/**
 * An item of `GET /v1/apps/:appId/functions`, which answers a bare JSON array of them (no
 * `{data}`), `[]` for an app the server does not know. Go's `cqrs.Function`.
 */
export interface AppFunctionJson {
  /** The UUID runs name the function by (their `function_id`). */
  internal_id: string;
  env_id?: string;
  /** The app's internal id (a UUID), not the SDK's app id. */
  app_id: string;
  /** The slug: `<app id>-<function id>`. */
  id: string;
  name: string;
  config: Record<string, unknown>;
  created_at?: string;
  archived_at?: string;
}

/** A failed request as an Inngest server answers it (on a GET, with HTTP status 200). */
export interface RestErrorJson {
  error: string;
  status: number;
  code?: string;
  data?: unknown;
}

/** An event as the event API (`POST /e/:key`) takes it. */
export interface OutgoingEvent {
  name: string;
  data?: Record<string, unknown>;
  /** The sender's id: a repeat within 24 h starts no new runs. */
  id?: string;
  ts?: number;
}

/** The event API's answer: the ids of the stored events, in order. */
export interface SendEventsJson {
  ids: string[];
  status: number;
}

/** `GET /test/clock` (test mode only). */
export interface TestClockJson {
  virtual: boolean;
  now: string;
}
