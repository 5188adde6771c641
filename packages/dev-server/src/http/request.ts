import type { Context, Hono } from "hono";
import type { Logger } from "../engine/state";
import { isUlid } from "../event-ids";
import { StorageUnavailableError } from "../store/store";
import type { JsonObject } from "../types";
import { invalidUtf8Offset } from "./utf8";
import type { ErrorJson } from "./wire";

/**
 * Reading a request: its body (with a size limit), its query and path parameters. What is wrong
 * throws an `HttpError`, which the server's error handler answers as `{error, status}` with that
 * status; the message names the field at fault and what it got.
 */

export type ErrorStatus = 400 | 401 | 404 | 413;

export class HttpError extends Error {
  constructor(
    readonly status: ErrorStatus,
    message: string,
  ) {
    super(message);
  }
}

/** HttpErrors as their status with `{error, status}`; anything else is logged and a 500. */
export function answerErrors(app: Hono, logger: Logger): void {
  app.onError((error, c) => {
    if (error instanceof HttpError)
      return c.json<ErrorJson>({ error: error.message, status: error.status }, error.status);
    if (error instanceof StorageUnavailableError) {
      // Nothing of the request was kept: the sender may try again (the SDK does).
      logger.warn(`${c.req.method} ${c.req.path}: 503, ${error.message}`);
      return c.json<ErrorJson>(
        { error: `storage unavailable: ${error.message}`, status: 503 },
        503,
      );
    }
    logger.error(`${c.req.method} ${c.req.path}: ${(error as Error).stack ?? error}`);
    return c.json<ErrorJson>({ error: "internal error", status: 500 }, 500);
  });
  app.notFound((c) =>
    c.json<ErrorJson>({ error: `no route for ${c.req.method} ${c.req.path}`, status: 404 }, 404),
  );
}

/** The body as text; a 413 when it is over `limit` bytes (by its Content-Length, or its length). */
export async function readText(request: Request, limit: number): Promise<string> {
  const length = Number(request.headers.get("content-length"));
  if (length > limit)
    throw new HttpError(413, `request body is ${length} bytes, over the ${limit} byte limit`);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > limit)
    throw new HttpError(413, `request body is over the ${limit} byte limit`);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // Refused, not stored with replacement characters: what was sent is not what would be kept.
    const offset = invalidUtf8Offset(bytes);
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, "0");
    throw new HttpError(
      400,
      `the body is not valid UTF-8: the sequence at byte offset ${offset} (0x${byte}) is invalid`,
    );
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON object body; an empty body is `{}`. */
export async function readObject(c: Context): Promise<JsonObject> {
  return parseObject(await c.req.text());
}

/** A body's text as a JSON object; an empty body is `{}`. */
export function parseObject(text: string): JsonObject {
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
  if (!isObject(body))
    throw new HttpError(400, `the body must be a JSON object, got ${typeName(body)}`);
  return body;
}

/** `?limit=`: a whole number of 1 or more, capped at `max`; `fallback` when absent. */
export function limitQuery(c: Context, fallback: number, max: number): number {
  const text = c.req.query("limit");
  if (!text) return fallback;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1)
    throw new HttpError(400, `limit must be a whole number of 1 or more, got "${text}"`);
  return Math.min(limit, max);
}

/** A ULID in the query (a cursor), upper-cased; undefined when absent. */
export function ulidQuery(c: Context, name: string): string | undefined {
  const text = c.req.query(name);
  if (!text) return undefined;
  if (!isUlid(text))
    throw new HttpError(400, `${name} must be a ULID (an internal id), got "${text}"`);
  return text.toUpperCase();
}

/** The `:id` path parameter, a ULID, upper-cased. */
export function ulidParam(c: Context, what: "event" | "run"): string {
  const id = c.req.param("id") ?? "";
  if (!isUlid(id)) throw new HttpError(400, `${what} id must be a ULID, got "${id}"`);
  return id.toUpperCase();
}

const RUN_STATUSES = ["Queued", "Running", "Completed", "Failed", "Cancelled", "Skipped"];

/** `?status=`: one of the run statuses; undefined when absent. */
export function statusQuery(c: Context): string | undefined {
  const status = c.req.query("status") || undefined;
  if (status && !RUN_STATUSES.includes(status))
    throw new HttpError(400, `status must be one of ${RUN_STATUSES.join(", ")}, got "${status}"`);
  return status;
}

/** A date in the query (RFC 3339), as epoch ms; undefined when absent. */
export function dateQuery(c: Context, name: string): number | undefined {
  const text = c.req.query(name);
  if (!text) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new HttpError(400, `${name} must be an RFC 3339 date such as 2026-01-01T00:00:00Z`);
  return at;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "null", "an array", "a number", ... for messages that say what was sent instead. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** As `typeName`, with a string's first 40 characters: `a string ("...")`. */
export function typeNameShowingStrings(value: unknown): string {
  if (typeof value === "string") return `a string (${JSON.stringify(value.slice(0, 40))})`;
  return typeName(value);
}
