import { parseDuration } from "../durations";
import type { FunctionConfig } from "./config";

/**
 * A function's options, typed, with Inngest's defaults applied: made once from the config the app
 * registered (after `validation.ts` accepted it), and the only way the engine reads options.
 *
 * Keys (`key`, `if`, `run`, `idempotency`) are CEL expressions over the trigger event, kept as
 * text; `null` means the option has none (one shared bucket).
 */
export interface FunctionOptions {
  /** Attempts of each call: the SDK's `retries` + 1; 5 when unset, as in Go (4 retries). */
  maxAttempts: number;
  eventTriggers: EventTrigger[];
  cronTriggers: CronTrigger[];
  concurrency: ConcurrencyOption[];
  rateLimit: RateLimitOption | null;
  throttle: ThrottleOption | null;
  debounce: DebounceOption | null;
  batch: BatchOption | null;
  priority: PriorityOption | null;
  singleton: SingletonOption | null;
  /** CEL whose value replaces the sender's event id as the run's idempotency key. */
  idempotency: string | null;
  timeouts: TimeoutsOption | null;
  cancelOn: CancelOnOption[];
}

export interface EventTrigger {
  event: string;
  /** The trigger's `if`. */
  expression: string | null;
}

export interface CronTrigger {
  /** Its place among the function's triggers (part of the tick's queue id). */
  index: number;
  cron: string;
}

export interface ConcurrencyOption {
  limit: number;
  key: string | null;
  /** `fn` (the default): per function; `env` and `account`: the key is shared across functions. */
  scope: "fn" | "env" | "account";
  /** Its place in the function's list (part of the slot key of `fn`-scoped limits). */
  index: number;
}

export interface RateLimitOption {
  limit: number;
  periodMs: number;
  /** As the function wrote it, for messages. */
  period: string;
  key: string | null;
}

export interface ThrottleOption {
  limit: number;
  periodMs: number;
  /** Runs that may start at once beyond `limit`. */
  burst: number;
  key: string | null;
}

export interface DebounceOption {
  periodMs: number;
  /** The longest a run may be pushed back from the first event; null: no bound. */
  timeoutMs: number | null;
  key: string | null;
}

export interface BatchOption {
  maxSize: number;
  timeoutMs: number;
  key: string | null;
  /** Only events for which this holds are batched; the others start runs of their own. */
  if: string | null;
}

export interface PriorityOption {
  /** CEL giving seconds to move the run's first call ahead (positive) or behind (negative). */
  run: string;
}

export interface SingletonOption {
  key: string | null;
  mode: "skip" | "cancel";
}

export interface TimeoutsOption {
  /** From scheduling to the first call. */
  startMs: number | null;
  /** From the first call to the end of the run. */
  finishMs: number | null;
}

export interface CancelOnOption {
  event: string;
  if: string | null;
  /** A duration or an RFC 3339 date; null: the window stays open as long as the run. */
  timeout: string | null;
}

/** Go's default when a function sets no `retries`: 4 retries, 5 attempts. */
export const DEFAULT_ATTEMPTS = 5;
/** A batch's timeout when the function gives none. */
const DEFAULT_BATCH_TIMEOUT_MS = 60_000;

export function parseFunctionOptions(config: FunctionConfig): FunctionOptions {
  const attempts = config.steps?.step?.retries?.attempts;
  return {
    maxAttempts: typeof attempts === "number" ? attempts + 1 : DEFAULT_ATTEMPTS,
    eventTriggers: config.triggers.flatMap((trigger) =>
      trigger.event === undefined
        ? []
        : [{ event: trigger.event, expression: text(trigger.expression) }],
    ),
    cronTriggers: config.triggers.flatMap((trigger, index) =>
      trigger.cron ? [{ index, cron: trigger.cron }] : [],
    ),
    concurrency: concurrencyOf(config.concurrency),
    rateLimit: rateLimitOf(field(config, "rateLimit")),
    throttle: throttleOf(field(config, "throttle")),
    debounce: debounceOf(field(config, "debounce")),
    batch: batchOf(field(config, "batchEvents")),
    priority: priorityOf(field(config, "priority")),
    singleton: singletonOf(field(config, "singleton")),
    idempotency: text(config.idempotency),
    timeouts: timeoutsOf(field(config, "timeouts")),
    cancelOn: cancelOf(config.cancel),
  };
}

type Fields = Record<string, unknown>;

function field(config: FunctionConfig, name: string): Fields | null {
  const value = config[name];
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : null;
}

/** A non-empty string, else null. */
function text(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

function durationOf(value: unknown): number | null {
  return value === undefined || value === null || value === ""
    ? null
    : parseDuration(String(value));
}

/** `concurrency` is a number, one `{limit, key, scope}`, or a list of them; limit 0 is no limit. */
function concurrencyOf(raw: unknown): ConcurrencyOption[] {
  const entries =
    typeof raw === "number" ? [{ limit: raw }] : Array.isArray(raw) ? raw : raw ? [raw] : [];
  return entries.flatMap((entry: unknown, index) => {
    const fields = (typeof entry === "number" ? { limit: entry } : entry) as Fields | null;
    const limit = Number(fields?.limit);
    if (!fields || !Number.isFinite(limit) || limit <= 0) return [];
    const scope = fields.scope === "env" || fields.scope === "account" ? fields.scope : "fn";
    return [{ limit, key: text(fields.key), scope, index }];
  });
}

function rateLimitOf(raw: Fields | null): RateLimitOption | null {
  if (!raw) return null;
  const limit = Number(raw.limit);
  const periodMs = durationOf(raw.period);
  if (!(limit > 0) || !periodMs) return null;
  return { limit, periodMs, period: String(raw.period), key: text(raw.key) };
}

function throttleOf(raw: Fields | null): ThrottleOption | null {
  if (!raw) return null;
  const periodMs = durationOf(raw.period);
  if (!periodMs) return null;
  return {
    // Go takes a limit of 0 as 1; `burst` is how many start at once beyond `limit` (default 0).
    limit: Math.max(1, Number(raw.limit) || 1),
    periodMs,
    burst: Math.max(0, Number(raw.burst) || 0),
    key: text(raw.key),
  };
}

function debounceOf(raw: Fields | null): DebounceOption | null {
  if (!raw) return null;
  return {
    periodMs: durationOf(raw.period) ?? 0,
    timeoutMs: durationOf(raw.timeout),
    key: text(raw.key),
  };
}

function batchOf(raw: Fields | null): BatchOption | null {
  if (!raw) return null;
  return {
    maxSize: Math.max(1, Number(raw.maxSize) || 1),
    timeoutMs: durationOf(raw.timeout) ?? DEFAULT_BATCH_TIMEOUT_MS,
    key: text(raw.key),
    if: text(raw.if),
  };
}

function priorityOf(raw: Fields | null): PriorityOption | null {
  const run = text(raw?.run);
  return run ? { run } : null;
}

function singletonOf(raw: Fields | null): SingletonOption | null {
  if (!raw) return null;
  return { key: text(raw.key), mode: raw.mode === "cancel" ? "cancel" : "skip" };
}

function timeoutsOf(raw: Fields | null): TimeoutsOption | null {
  if (!raw) return null;
  return { startMs: durationOf(raw.start), finishMs: durationOf(raw.finish) };
}

function cancelOf(raw: unknown): CancelOnOption[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry: unknown) => {
    const fields = entry as Fields | null;
    const event = text(fields?.event);
    if (!fields || !event) return [];
    return [{ event, if: text(fields.if), timeout: text(fields.timeout) }];
  });
}
