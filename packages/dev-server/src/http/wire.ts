import type { FunctionConfig } from "../functions/config";
import type {
  AppRecord,
  FunctionRecord,
  JsonObject,
  QueueItem,
  RunRecord,
  RunStatus,
  StoredEvent,
  TimelineEntry,
} from "../types";

/**
 * Every JSON shape the server answers, as types, with the functions that make them from the
 * store's records. The dev UI imports these types (type-only: nothing here runs in the browser),
 * so this module imports nothing but types. Field order in the converters is the order on the
 * wire; a field left `undefined` is left out of the JSON.
 */

export type { RunStatus };

/** An instant as the API gives it: ISO 8601 in UTC, e.g. `2026-01-01T00:00:00.000Z`. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A failed request, whatever the route (`/e/` answers its own shape, `EventSendJson`). */
export interface ErrorJson {
  error: string;
  status: number;
}

// -------------------------------------------------------------------- REST API v1 (/v1/)

/** The envelope every `/v1/` answer comes in. */
export interface V1Answer<T> {
  data: T;
  metadata: { fetched_at: string; cached_until: null };
}

export function v1Answer<T>(data: T): V1Answer<T> {
  return { data, metadata: { fetched_at: new Date().toISOString(), cached_until: null } };
}

/** An event: `internal_id` is the server's ULID, `id` the sender's own (or ""). */
export interface EventJson {
  internal_id: string;
  id: string;
  name: string;
  data: JsonObject;
  user: JsonObject;
  ts: number;
  v: string;
  received_at: string;
}

export function eventJson(event: StoredEvent): EventJson {
  return {
    internal_id: event.internalId,
    id: event.id ?? "",
    name: event.name,
    data: event.data,
    user: event.user,
    ts: event.ts,
    v: event.v ?? "",
    received_at: iso(event.receivedAt),
  };
}

/**
 * A run in Go's shape: `function_id` is the function's internal id (a UUID, as on Inngest; the
 * slug is in `GET /v1/apps/:app/functions`), and a run waiting for its first call is "Scheduled".
 */
export interface RunJson {
  run_id: string;
  run_started_at: string;
  function_id: string;
  function_version: 1;
  event_id: string;
  /** Only on a batch's run (more than one event): the run's id. */
  batch_id?: string;
  /** Only on a cron run: its schedule. */
  cron?: string;
  status: Exclude<RunStatus, "Queued"> | "Scheduled";
  ended_at: string | null;
  output: unknown;
}

/** `functionId`: the internal id of the run's function (`functions/internal-id.ts`). */
export function runJson(run: RunRecord, functionId: string): RunJson {
  return {
    run_id: run.runId,
    run_started_at: iso(run.startedAt),
    function_id: functionId,
    function_version: 1,
    event_id: run.eventId,
    ...(run.eventIds.length > 1 ? { batch_id: run.runId } : {}),
    ...(run.cron ? { cron: run.cron } : {}),
    // Go's statuses: a run waiting for its first call is "Scheduled".
    status: run.status === "Queued" ? "Scheduled" : run.status,
    ended_at: iso(run.endedAt),
    output: run.output ?? null,
  };
}

/** One entry of `/v1/runs/:id/timeline`: a call's step, one attempt. */
export interface TimelineStepJson {
  seq: number;
  step_id: string | null;
  name: string;
  op: string;
  attempt: number;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  /** Left out while the step has none. */
  output?: unknown;
  error: JsonObject | null;
}

export function timelineStepJson(entry: TimelineEntry): TimelineStepJson {
  return {
    seq: entry.seq,
    step_id: entry.stepId,
    name: entry.name,
    op: entry.op,
    attempt: entry.attempt,
    started_at: iso(entry.startedAt),
    ended_at: iso(entry.endedAt),
    duration_ms: entry.endedAt === null ? null : entry.endedAt - entry.startedAt,
    output: entry.output,
    error: entry.error,
  };
}

export interface TimelineJson {
  run: RunJson;
  steps: TimelineStepJson[];
}

/** `/v1/runs/:id/jobs`: the run's queue items as stored. */
export type JobJson = QueueItem;

/**
 * An item of `GET /v1/apps/:appName/functions`, which answers a bare array of them (no `{data}`):
 * Go's `cqrs.Function`, field for field. `config` is the function's config as the SDK registered
 * it (Go stores its own parsed form); `created_at` is when its app last synced (this server keeps
 * no first-registration time); `archived_at` is Go's zero time, as for every function listed.
 */
export interface AppFunctionJson {
  internal_id: string;
  env_id: string;
  app_id: string;
  /** The slug, `<app id>-<function id>`. */
  id: string;
  name: string;
  config: FunctionConfig;
  created_at: string;
  archived_at: string;
}

/** Go's `uuid.Nil`, the dev server's environment. */
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";
/** Go's zero `time.Time`, as it encodes it. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** `appInternalId`: the app's UUID; `createdAt`: its last sync. */
export function appFunctionJson(
  fn: FunctionRecord,
  appInternalId: string,
  createdAt: number | null,
): AppFunctionJson {
  return {
    internal_id: fn.internalId,
    env_id: NIL_UUID,
    app_id: appInternalId,
    id: fn.slug,
    name: fn.name,
    config: fn.config,
    created_at: createdAt === null ? ZERO_TIME : iso(createdAt),
    archived_at: ZERO_TIME,
  };
}

// -------------------------------------------------------------------- apps and functions (/api/)

export interface AppJson {
  url: string;
  app_id: string | null;
  framework: string | null;
  sdk: string | null;
  function_count: number;
  synced_at: string | null;
  /** Why the last sync failed; null after a good one. */
  error: string | null;
}

export function appJson(record: AppRecord): AppJson {
  return {
    url: record.url,
    app_id: record.appId,
    framework: record.framework,
    sdk: record.sdk,
    function_count: record.functionCount,
    synced_at: iso(record.syncedAt),
    error: record.error,
  };
}

/** `GET /api/apps`: each app with the slugs of its functions. */
export interface AppListJson extends AppJson {
  functions: string[];
  /**
   * False for an app known from an earlier session that has not synced since this server
   * started: its functions start no runs, and its unfinished runs wait, until it syncs again.
   */
  synced_since_start: boolean;
}

/** `GET /api/functions`. */
export interface FunctionJson {
  slug: string;
  name: string;
  app_url: string;
  app_id: string;
  config: FunctionConfig;
}

export function functionJson(fn: FunctionRecord): FunctionJson {
  return { slug: fn.slug, name: fn.name, app_url: fn.appUrl, app_id: fn.appId, config: fn.config };
}

/** `POST /api/apps/sync`: one per app. */
export interface SyncOutcomeJson {
  url: string;
  ok: boolean;
  app?: AppJson;
  error?: string;
}

/** From a sync's outcome as `app-sync.ts` keeps it. */
export function outcomeJson(outcome: {
  url: string;
  ok: boolean;
  app?: AppRecord | undefined;
  error?: string | undefined;
}): SyncOutcomeJson {
  return {
    url: outcome.url,
    ok: outcome.ok,
    ...(outcome.app ? { app: appJson(outcome.app) } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

// -------------------------------------------------------------------- intake and sync

/** `POST /e/:key`: the SDK throws on any `error` field, so only failures have one. */
export interface EventSendJson {
  ids: string[];
  status: number;
  error?: string;
}

/** `POST /fn/register`: `status` is what the SDK answers the sync's PUT with. */
export type RegisterJson =
  | { ok: true; modified: boolean; app_id: string | null; status: 200 }
  | { status: 400 | 401 | 413; error: string };

// -------------------------------------------------------------------- /dev and /test/

/** `GET /dev`, in the Go dev server's shape (its UI and tools read it). */
export interface DevInfoJson {
  version: string;
  startOpts: {
    sdkURLs: string[];
    autodiscover: false;
    poll: boolean;
    /** Seconds. */
    pollInterval: number;
    testMode: boolean;
    serverKind: string;
  };
  functions: FunctionConfig[];
  handlers: {
    url: string;
    sdk: string | null;
    framework: string | null;
    app_id: string | null;
    functions: FunctionConfig[];
    synced_at: string | null;
    error: string | null;
  }[];
  isSingleNodeService: false;
  isMissingSigningKey: false;
  isMissingEventKeys: false;
  features: Record<string, never>;
}

/** `GET /test/clock`. */
export interface TestClockJson {
  virtual: boolean;
  now: string;
}

// -------------------------------------------------------------------- dev UI (/api/ui/)

/** A row of the events page, with how many runs the event started. */
export interface UiEventRow {
  internal_id: string;
  name: string;
  data: JsonObject;
  received_at: string;
  run_count: number;
}

/** An event on the UI's pages: as in `/v1/`, without `v`. */
export type UiEvent = Omit<EventJson, "v">;

export function uiEventJson(event: StoredEvent): UiEvent {
  const { v: _, ...rest } = eventJson(event);
  return rest;
}

/** A run in a list, with its function's name and how long it took. */
export interface UiRunSummary {
  run_id: string;
  function_id: string;
  function_name: string;
  app_id: string | null;
  app_url: string;
  status: RunStatus;
  event_id: string;
  /** Only in `GET /api/ui/runs`: the trigger event's name ("" when it is gone). */
  event_name?: string;
  cron: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
}

/** `fn` is the run's function, if it is still registered. */
export function runSummaryJson(
  run: RunRecord,
  fn: FunctionRecord | undefined,
  eventName?: string | undefined,
): UiRunSummary {
  return {
    run_id: run.runId,
    function_id: run.functionSlug,
    function_name: fn?.name ?? run.functionSlug,
    app_id: fn?.appId ?? null,
    app_url: run.appUrl,
    status: run.status,
    event_id: run.eventId,
    ...(eventName !== undefined ? { event_name: eventName } : {}),
    cron: run.cron,
    started_at: iso(run.startedAt),
    ended_at: iso(run.endedAt),
    duration_ms: run.endedAt === null ? null : run.endedAt - run.startedAt,
  };
}

/** A function whose trigger comes close to an event that started nothing. */
export interface TriggerSuggestion {
  function_id: string;
  function_name: string;
  app_id: string;
  trigger: string;
  /** Edits from the event's name to the trigger (0: the name matches). */
  distance: number;
  /** Why a trigger whose name matches started nothing, when it can be told. */
  note?: string;
}

/** `GET /api/ui/events/:id`. */
export interface UiEventDetail {
  event: UiEvent;
  runs: UiRunSummary[];
  /** Only when the event started no run; closest first. */
  suggestions: TriggerSuggestion[];
}

/** A step's error as the SDK serializes it (an Error's name, message and stack), or the server's. */
export interface StepErrorJson {
  name?: string;
  message?: string;
  stack?: string;
  [field: string]: unknown;
}

/** One attempt of one step on the run page. */
export interface UiStep {
  seq: number;
  step_id: string | null;
  name: string;
  op: string;
  attempt: number;
  started_at: string;
  ended_at: string | null;
  output: unknown;
  error: StepErrorJson | null;
}

export function uiStepJson(entry: TimelineEntry): UiStep {
  return {
    seq: entry.seq,
    step_id: entry.stepId,
    name: entry.name,
    op: entry.op,
    attempt: entry.attempt,
    started_at: iso(entry.startedAt),
    ended_at: iso(entry.endedAt),
    output: entry.output ?? null,
    error: entry.error as StepErrorJson | null,
  };
}

/** What is queued for a run: e.g. a retry's next attempt and when it is due. */
export interface UiJob {
  kind: string;
  step_id: string | null;
  attempt: number;
  due_at: string;
}

export function uiJobJson(job: QueueItem): UiJob {
  return { kind: job.kind, step_id: job.stepId, attempt: job.attempt, due_at: iso(job.dueAt) };
}

/** `GET /api/ui/runs/:id`: everything the run page shows, in one call. */
export interface UiRunDetail {
  run: UiRunSummary & { output: unknown; error: JsonObject | null };
  events: UiEvent[];
  steps: UiStep[];
  jobs: UiJob[];
  /** The server's clock (virtual in test mode), for "due in" and running durations. */
  now: string;
}

/** `GET /api/ui/runs`: like `/v1/`, `data` is the list; `now` is the server's clock. */
export interface UiRunList {
  data: UiRunSummary[];
  now: string;
}

/** `POST /api/ui/events`. */
export interface UiSent {
  event_id: string;
}

/** `POST /api/ui/events/:id/replay`. */
export interface UiReplayed {
  event_id: string;
  run_ids: string[];
}

/** `POST /api/ui/functions/:slug/invoke`. */
export interface UiInvoked {
  event_id: string;
  run_id: string | null;
}

/** `POST /api/ui/runs/:id/rerun`. */
export interface UiRerun {
  run_id: string;
}
