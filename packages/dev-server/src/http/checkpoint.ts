import type { Hono } from "hono";
import type { Engine } from "../engine/engine";
import type { CheckpointInput } from "../engine/executor";
import { type Op, parseOps } from "../engine/ops";
import { hashedSigningKey } from "../signing";
import { HttpError, isObject, readText, typeName, ulidParam } from "./request";

/**
 * Async checkpointing: `POST /v1/checkpoint/:runId/async`. While the server's call to an app is
 * out, the SDK runs step after step and posts each one here as it ends; the server memoizes it
 * at once (durably, before answering 200), so the call can go on to the next step instead of
 * answering. A checkpoint that is not from the run's call in flight gets a 409: the SDK stops.
 */

/** Several steps of up to 4 MB each may come in one checkpoint. */
const MAX_CHECKPOINT_BYTES = 32 * 1024 * 1024;

/** Ops a checkpoint may carry that memoize nothing here (the SDK announces, or defers). */
const IGNORED_OPS = new Set(["StepPlanned", "DeferAdd", "DeferAbort"]);

export function registerCheckpointApi(
  app: Hono,
  deps: { engine: Engine; signingKey: string | undefined },
): void {
  const expectedAuth = deps.signingKey ? `Bearer ${hashedSigningKey(deps.signingKey)}` : null;

  app.post("/v1/checkpoint/:id/async", async (c) => {
    if (expectedAuth && c.req.header("authorization") !== expectedAuth)
      throw new HttpError(
        401,
        "authorization: a checkpoint must carry the hash of the server's signing key as Bearer token",
      );
    const runId = ulidParam(c, "run");
    const text = await readText(c.req.raw, MAX_CHECKPOINT_BYTES);
    const body = parseCheckpoint(runId, text);
    const outcome = await deps.engine.checkpoint(body);
    if (!outcome.ok) return c.json({ error: outcome.stale, status: 409 }, 409);
    return c.json({ run_id: runId, memoized: outcome.memoized });
  });
}

/** The body, checked whole before anything is written; a 400 names the field at fault. */
export function parseCheckpoint(runId: string, text: string): CheckpointInput {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
  if (!isObject(body))
    throw new HttpError(400, `the body must be a JSON object, got ${typeName(body)}`);
  const requiredString = (field: string): string => {
    const value = body[field];
    if (typeof value !== "string" || value === "")
      throw new HttpError(400, `${field} must be a non-empty string, got ${typeName(value)}`);
    return value;
  };
  const bodyRunId = requiredString("run_id");
  if (bodyRunId.toUpperCase() !== runId)
    throw new HttpError(400, `run_id "${bodyRunId}" is not the run of the path (${runId})`);
  const fnId = requiredString("fn_id");
  const qiId = requiredString("qi_id");
  for (const field of ["generation_id", "request_started_at", "ts"]) {
    const value = body[field];
    if (value !== undefined && value !== null && typeof value !== "number")
      throw new HttpError(400, `${field} must be a number, got ${typeName(value)}`);
  }
  if (
    body.request_id !== undefined &&
    body.request_id !== null &&
    typeof body.request_id !== "string"
  )
    throw new HttpError(400, `request_id must be a string, got ${typeName(body.request_id)}`);
  const raw = body.steps;
  if (!Array.isArray(raw)) throw new HttpError(400, `steps must be an array, got ${typeName(raw)}`);
  const steps: Op[] = [];
  raw.forEach((step: unknown, index) => {
    const at = `steps[${index}]`;
    if (!isObject(step))
      throw new HttpError(400, `${at} must be an op object, got ${typeName(step)}`);
    if (typeof step.id !== "string" || step.id === "")
      throw new HttpError(400, `${at}.id must be a non-empty string, got ${typeName(step.id)}`);
    if (typeof step.op !== "string")
      throw new HttpError(400, `${at}.op must be a string, got ${typeName(step.op)}`);
    if (IGNORED_OPS.has(step.op)) return;
    if (step.op !== "StepRun" && step.op !== "Step")
      throw new HttpError(
        400,
        `${at}.op "${step.op}" cannot be checkpointed: only steps that ran (StepRun) can`,
      );
    steps.push(...parseOps(step));
  });
  return { runId, fnId, qiId, steps };
}
