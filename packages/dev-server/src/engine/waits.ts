import { resolveTime } from "../durations";
import type { ActiveRun } from "../types";
import type { Changes } from "./changes";
import { makeEvent, nextUlid } from "./events";
import { resumeId } from "./items";
import type { InvokeOp, SleepOp, WaitForEventOp } from "./ops";
import { schedulePause } from "./pauses";
import type { Runner } from "./runner";
import type { EngineState } from "./state";

/**
 * The ops that make a run wait: `Sleep` (a resume item at the end), `WaitForEvent` (a pause, see
 * `pauses.ts`), `InvokeFunction` (the target's run, and a pause for its end). Each starts here;
 * the queue item or the event that ends it comes back to `Executor.resume` / `Executor.timeout`.
 */

/** How long an invoke without a timeout waits: as long as any run (a year). */
const YEAR_MS = 365 * 24 * 3600_000;

export function scheduleSleep(state: EngineState, run: ActiveRun, op: SleepOp, changes: Changes) {
  const now = state.clock.now();
  const until = resolveTime(op.until, now) ?? now;
  changes.add({
    id: resumeId(run.runId, op.id),
    kind: "resume",
    runId: run.runId,
    stepId: op.id,
    attempt: 0,
    dueAt: until,
    data: { value: null, sleep: true },
  });
  changes.timeline.push({
    runId: run.runId,
    stepId: op.id,
    name: op.label,
    op: "Sleep",
    attempt: 0,
    startedAt: now,
    endedAt: null,
    output: { until: new Date(until).toISOString() },
    error: null,
  });
}

export function scheduleWait(
  state: EngineState,
  run: ActiveRun,
  op: WaitForEventOp,
  changes: Changes,
) {
  const now = state.clock.now();
  const expiresAt = resolveTime(op.timeout, now) ?? now;
  schedulePause(
    changes,
    {
      runId: run.runId,
      stepId: op.id,
      kind: "wait",
      eventName: op.event,
      expression: op.if,
      expiresAt,
    },
    nextUlid(now),
  );
  changes.timeline.push({
    runId: run.runId,
    stepId: op.id,
    name: op.label,
    op: "WaitForEvent",
    attempt: 0,
    startedAt: now,
    endedAt: null,
    output: { event: op.event, if: op.if, timeout: op.timeout },
    error: null,
  });
}

/**
 * Starts the target run and waits for its `inngest/function.finished` (matched by correlation
 * id), in the same changes: the target's end cannot be missed. An unknown target resumes the
 * step at once with an error.
 */
export function startInvoke(
  state: EngineState,
  runner: Runner,
  run: ActiveRun,
  op: InvokeOp,
  changes: Changes,
) {
  const now = state.clock.now();
  const target = op.functionId;
  const correlationId = `${run.runId}.${op.id}`;
  const expiresAt = resolveTime(op.timeout, now) ?? now + YEAR_MS;
  changes.timeline.push({
    runId: run.runId,
    stepId: op.id,
    name: op.label,
    op: "InvokeFunction",
    attempt: 0,
    startedAt: now,
    endedAt: null,
    output: { function_id: target },
    error: null,
  });
  const targetFn = state.functions.get(target);
  if (!targetFn || !state.isLive(targetFn)) {
    const message = targetFn
      ? `could not invoke ${target}: its app (${targetFn.appUrl}) has not synced since the dev server started`
      : `could not invoke ${target}: no such function is registered`;
    changes.add({
      id: resumeId(run.runId, op.id),
      kind: "resume",
      runId: run.runId,
      stepId: op.id,
      attempt: 0,
      dueAt: now,
      data: { invokeResult: { error: { name: "Error", message } } },
    });
    return;
  }
  schedulePause(
    changes,
    {
      runId: run.runId,
      stepId: op.id,
      kind: "invoke",
      eventName: "inngest/function.finished",
      expression: `async.data.correlation_id == "${correlationId}"`,
      expiresAt,
    },
    nextUlid(now),
  );
  const invoked = makeEvent(
    {
      name: "inngest/function.invoked",
      data: {
        ...(op.payload.data ?? {}),
        _inngest: {
          fn_id: target,
          correlation_id: correlationId,
          expire: expiresAt,
          source_app_id: state.functions.get(run.functionSlug)?.appId ?? null,
          source_fn_id: run.functionSlug,
          source_fn_v: 1,
          name: op.label,
        },
      },
      user: op.payload.user ?? {},
      v: op.payload.v ?? null,
    },
    now,
  );
  changes.events.push(invoked);
  runner.route(invoked, changes);
}
