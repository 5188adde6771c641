import type { JsonObject } from "../types";

/**
 * What an SDK call answers with a 206: a list of ops ("opcodes"), each telling the server what
 * the function did or wants next. Parsed once, here, into a union the executor switches on.
 *
 * - `StepRun` (`Step` in old SDKs): a step ran; its `data` is memoized as `{data}`.
 * - `StepError`: a step threw and may be retried: the same call again, one attempt later.
 * - `StepFailed`: a step threw for good; memoized as `{error}` (the function sees it thrown).
 * - `StepPlanned`: a step was found but not run: the server calls again with its id.
 * - `Sleep`: the duration (or an RFC 3339 date) is in `name`; memoized as null when it ends.
 * - `WaitForEvent`: the event name is in `name`, `opts.timeout` and `opts.if` (CEL) say how long
 *   and which event; memoized as the matching event, or null on timeout.
 * - `InvokeFunction`: start `opts.function_id` with `opts.payload`; memoized as `{data}` of its
 *   result or `{error}`.
 * - `RunComplete`: the function returned `data` (sent instead of a 200 in some modes).
 * - `DiscoveryRequest`: call again (discovery) to go on.
 */
export type Op =
  | StepRanOp
  | StepErrorOp
  | StepPlannedOp
  | SleepOp
  | WaitForEventOp
  | InvokeOp
  | RunCompleteOp
  | DiscoveryRequestOp
  | UnsupportedOp;

interface OpBase {
  /** The hashed step id. */
  id: string;
  /** What the timeline shows: the user's name for the step. */
  label: string;
}

export interface StepRanOp extends OpBase {
  op: "StepRun";
  data: unknown;
}

export interface StepErrorOp extends OpBase {
  op: "StepError" | "StepFailed";
  error: JsonObject;
}

export interface StepPlannedOp extends OpBase {
  op: "StepPlanned";
}

export interface SleepOp extends OpBase {
  op: "Sleep";
  /** A duration ("1h30m") or an RFC 3339 date. */
  until: string;
}

export interface WaitForEventOp extends OpBase {
  op: "WaitForEvent";
  event: string;
  if: string | null;
  timeout: string;
}

export interface InvokeOp extends OpBase {
  op: "InvokeFunction";
  functionId: string;
  payload: { data?: JsonObject; user?: JsonObject; v?: string };
  timeout: string;
}

export interface RunCompleteOp extends OpBase {
  op: "RunComplete";
  data: unknown;
}

export interface DiscoveryRequestOp extends OpBase {
  op: "DiscoveryRequest";
}

/** An op this server does not carry out (AI gateway, fetch, signals, defer...). */
export interface UnsupportedOp extends OpBase {
  op: "Unsupported";
  name: string;
}

const UNKNOWN_ERROR = { name: "Error", message: "Unknown error" };

/** The ops of a 206 body (one op or an array of them); entries that are not ops are left out. */
export function parseOps(body: unknown): Op[] {
  const list = Array.isArray(body) ? body : [body];
  return list.flatMap((raw) => (isObject(raw) ? [parseOp(raw)] : []));
}

function parseOp(raw: JsonObject): Op {
  const id = String(raw.id ?? "");
  const name = typeof raw.name === "string" ? raw.name : undefined;
  const label = str(raw.displayName) ?? name ?? id;
  const opts = isObject(raw.opts) ? raw.opts : {};
  switch (raw.op) {
    case "StepRun":
    case "Step":
      return { op: "StepRun", id, label, data: raw.data === undefined ? null : raw.data };
    case "StepError":
    case "StepFailed":
      return {
        op: raw.op,
        id,
        label,
        error: isObject(raw.error) ? raw.error : UNKNOWN_ERROR,
      };
    case "StepPlanned":
      return { op: "StepPlanned", id, label };
    case "Sleep":
      return { op: "Sleep", id, label, until: name ?? "" };
    case "WaitForEvent":
      return {
        op: "WaitForEvent",
        id,
        label,
        // The TS SDK puts the event's name in `name`; `opts.event` is Go's fallback.
        event: name ?? String(opts.event ?? ""),
        if: str(opts.if) ?? null,
        timeout: String(opts.timeout ?? ""),
      };
    case "InvokeFunction": {
      const payload = isObject(opts.payload) ? opts.payload : {};
      return {
        op: "InvokeFunction",
        id,
        label,
        functionId: String(opts.function_id ?? ""),
        payload: {
          ...(isObject(payload.data) ? { data: payload.data } : {}),
          ...(isObject(payload.user) ? { user: payload.user } : {}),
          ...(typeof payload.v === "string" ? { v: payload.v } : {}),
        },
        timeout: String(opts.timeout ?? ""),
      };
    }
    case "RunComplete":
      return { op: "RunComplete", id, label, data: raw.data ?? null };
    case "DiscoveryRequest":
      return { op: "DiscoveryRequest", id, label };
    default:
      return { op: "Unsupported", id, label, name: String(raw.op) };
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
