import { randomBytes } from "node:crypto";
import type { Clock } from "../clock";
import {
  AnswerRefusedError,
  AppUnreachableError,
  type CallResponse,
  type SdkClient,
} from "../sdk-client";
import type {
  ActiveRun,
  CallItem,
  FunctionRecord,
  JsonObject,
  QueueItem,
  ResumeItem,
  TimeoutItem,
} from "../types";
import { Changes } from "./changes";
import type { Committer } from "./commit";
import { discoveryId, discoveryItem, finishTimeoutId, planItem, startTimeoutId } from "./items";
import { type Op, parseOps } from "./ops";
import { endRun, type RunEnd } from "./run-end";
import type { Runner } from "./runner";
import type { EngineState } from "./state";
import { scheduleSleep, scheduleWait, startInvoke } from "./waits";

export interface RetryPolicy {
  /** Delay after the first failed attempt; it doubles with each further attempt. */
  baseMs: number;
  /** Upper bound of the delay. */
  maxMs: number;
}

const UNREACHABLE_MAX_DELAY_MS = 30_000;
/** Go clamps a `Retry-After` to this range. */
const RETRY_AFTER_MIN_MS = 1000;
const RETRY_AFTER_MAX_MS = 24 * 3600_000;

/**
 * The id the server gives a function in `ctx.fn_id` (the SDK sends it back in checkpoints): its
 * internal id, a UUID, as Inngest sends it. One accessor, so that what identifies a function to
 * the SDK is decided here only.
 */
export function fnIdOf(fn: FunctionRecord): string {
  return fn.internalId;
}

/**
 * A call in flight that may checkpoint (async checkpointing): what `ctx.qi_id` names. A
 * checkpoint is taken only while its call is out; the call's answer closes it.
 */
export interface Dispatch {
  qiId: string;
  runId: string;
  item: CallItem;
  fnId: string;
  /** When the next step reported started, for the timeline: the call's start, then each step's end. */
  stepStartedAt: number;
  /** Steps memoized by this call's checkpoints (its answer may list them again). */
  checkpointed: Set<string>;
}

/** A checkpoint as the SDK posts it (validated by the route), for one run. */
export interface CheckpointInput {
  runId: string;
  fnId: string;
  qiId: string;
  steps: Op[];
}

/** What a checkpoint did: taken, or refused because it is not from the run's call in flight. */
export type CheckpointOutcome = { ok: true; memoized: number } | { ok: false; stale: string };

/** Makes `qi_id`s unique to this process: a call dispatched by an earlier one is stale. */
const PROCESS_NONCE = randomBytes(4).toString("hex");
let dispatchSeq = 0;

/** A call ready to send: built from the run's in-memory state, without the lock. */
interface PreparedCall {
  url: string;
  payload: JsonObject;
  headers: Record<string, string>;
  maxAttempts: number;
}

/**
 * The executor: drives a run by calling its app, one request at a time. For one queued call it
 * builds the request from the run's state, sends it without holding the run's lock (so parallel
 * steps really run at once, and a cancel takes effect even while a step runs), then takes the
 * lock once to apply the answer to the run as it is by then: memoize a step, plan the next
 * calls, schedule a sleep, a wait or an invoke, retry, or end the run. It also applies the step
 * ends that come from the queue rather than from a call: a sleep's end, a waited event, a timeout.
 *
 * A run has at most one discovery in flight: when its state changes while one is out, the
 * discovery is repeated once it is back (`EngineState.rediscover`), since its view was stale.
 */
export class Executor {
  constructor(
    private readonly state: EngineState,
    private readonly committer: Committer,
    private readonly runner: Runner,
    private readonly sdk: SdkClient,
    public retry: RetryPolicy,
    /** Async checkpointing: calls carry `ctx.fn_id` and `ctx.qi_id`, so the SDK may checkpoint. */
    private readonly checkpointing = false,
  ) {}

  private get clock(): Clock {
    return this.state.clock;
  }

  async call(item: CallItem): Promise<void> {
    const run = this.state.runs.get(item.runId);
    if (!run) return this.drop(item);
    const fn = this.state.functions.get(run.functionSlug);
    if (!fn) {
      // The app may be re-syncing: the run waits rather than fails.
      return this.reschedule(item, this.clock.now() + UNREACHABLE_MAX_DELAY_MS, {
        lastError: `function ${run.functionSlug} is not registered (sync its app)`,
      });
    }
    if (!this.state.isLive(fn)) {
      // An unfinished run of an earlier session: it resumes when its app syncs (see `Engine`).
      return this.reschedule(item, this.clock.now() + UNREACHABLE_MAX_DELAY_MS, {
        lastError: notSyncedMessage(fn.appUrl),
      });
    }
    const timeouts = this.armTimeouts(run, fn);
    const startedAt = this.clock.now();
    const dispatch = this.checkpointing ? this.openDispatch(fn, item, startedAt) : null;
    try {
      const prepared = this.prepare(run, fn, item, dispatch);
      let response: CallResponse | null = null;
      let failure: unknown = null;
      try {
        response = await this.sdk.call(prepared.url, prepared.payload, prepared.headers);
      } catch (error) {
        failure = error;
      }
      await timeouts;
      await this.applyResponse(item, fn, response, failure, prepared, dispatch, startedAt);
    } finally {
      if (dispatch) this.state.dispatches.delete(dispatch.qiId);
    }
  }

  /** Under the run's lock: what the call's answer (or its failure) does to the run. */
  private applyResponse(
    item: CallItem,
    fn: FunctionRecord,
    response: CallResponse | null,
    failure: unknown,
    prepared: PreparedCall,
    dispatch: Dispatch | null,
    startedAt: number,
  ): Promise<void> {
    return this.state.withRunLock(item.runId, async () => {
      // The call is over: a checkpoint naming it from now on is stale.
      if (dispatch) this.state.dispatches.delete(dispatch.qiId);
      // A run that ended meanwhile (cancelled, timed out) drops the answer.
      const current = this.state.activeRun(item.runId);
      if (!current) return this.drop(item);
      if (failure instanceof AnswerRefusedError) {
        // Secure mode: an answer that is unsigned, tampered or stale is not the app's word. None
        // of it is used; the call failed, and is retried like any failed call, or fails the run.
        return this.committer.commit(
          this.failedCall(
            current,
            fn,
            item,
            prepared.maxAttempts,
            dispatch?.stepStartedAt ?? startedAt,
            {
              name: "AnswerRefusedError",
              message: failure.message,
            },
          ),
        );
      }
      if (!response) {
        // The app is down (or refused our signature): the run waits for it, not lost.
        const message = (failure as Error).message;
        if (!(failure instanceof AppUnreachableError)) this.state.logger.warn(message);
        return this.waitForApp(current, item, message);
      }
      if (!response.fromSdk && response.status >= 500) {
        const body = preview(response.body);
        return this.waitForApp(
          current,
          item,
          `app answered ${response.status} without the Inngest SDK: ${body}`,
        );
      }
      await this.committer.commit(
        this.applyAnswer(current, fn, item, response, prepared.maxAttempts, dispatch, startedAt),
      );
    });
  }

  /** Registers the call as the one in flight for its run and queue item; its id is `ctx.qi_id`. */
  private openDispatch(fn: FunctionRecord, item: CallItem, startedAt: number): Dispatch {
    dispatchSeq += 1;
    const dispatch: Dispatch = {
      qiId: `${item.id}@${PROCESS_NONCE}.${dispatchSeq}`,
      runId: item.runId,
      item,
      fnId: fnIdOf(fn),
      stepStartedAt: startedAt,
      checkpointed: new Set(),
    };
    this.state.dispatches.set(dispatch.qiId, dispatch);
    return dispatch;
  }

  /**
   * A checkpoint (`POST /v1/checkpoint/:runId/async`): steps the SDK ran during the call in
   * flight, memoized as its classic answers would be (a step record and a timeline entry each,
   * durable before this resolves), under the run's lock. Anything that is not the run's call in
   * flight (an ended run, a call already answered, one from before a restart) is stale: the SDK
   * stops running steps when told so.
   */
  checkpoint(input: CheckpointInput): Promise<CheckpointOutcome> {
    return this.state.withRunLock(input.runId, async (): Promise<CheckpointOutcome> => {
      const run = this.state.activeRun(input.runId);
      if (!run) return { ok: false, stale: `run ${input.runId} is not running` };
      const dispatch = this.state.dispatches.get(input.qiId);
      if (!dispatch || dispatch.runId !== input.runId)
        return {
          ok: false,
          stale: `qi_id "${input.qiId}" is not a call of run ${input.runId} in flight`,
        };
      if (dispatch.fnId !== input.fnId)
        return {
          ok: false,
          stale: `fn_id "${input.fnId}" is not the function of the call in flight ("${dispatch.fnId}")`,
        };
      const changes = new Changes();
      let memoized = 0;
      for (const op of input.steps) {
        // A step sent again (a retried checkpoint) is memoized once.
        if (op.op !== "StepRun" || changes.hasStep(run, op.id)) continue;
        this.memoizeStep(run, op, dispatch.item.attempt, dispatch.stepStartedAt, changes);
        dispatch.checkpointed.add(op.id);
        memoized += 1;
      }
      if (memoized > 0) await this.committer.commit(changes);
      dispatch.stepStartedAt = this.clock.now();
      return { ok: true, memoized };
    });
  }

  /** The request, from the run's memoized steps in completion order (the SDK's stack). */
  private prepare(
    run: ActiveRun,
    fn: FunctionRecord,
    item: CallItem,
    dispatch: Dispatch | null,
  ): PreparedCall {
    const maxAttempts = fn.options.maxAttempts;
    const stack = [...run.stack];
    const payload = {
      event: run.events[0] ?? {},
      events: run.events,
      steps: Object.fromEntries(stack.map((id) => [id, run.steps.get(id) ?? null])),
      ctx: {
        run_id: run.runId,
        attempt: item.attempt,
        max_attempts: maxAttempts,
        // Never let discovery run a step inline while planned steps of the run are still out: it
        // could run one of them a second time.
        disable_immediate_execution:
          run.forceStepPlan || this.state.hasPlannedSteps(run.runId, item),
        use_api: false,
        stack: { stack, current: stack.length },
        // With these, the SDK may run several steps in this call, checkpointing each.
        ...(dispatch ? { fn_id: dispatch.fnId, qi_id: dispatch.qiId } : {}),
      },
      version: run.requestVersion,
    };
    const url = new URL(fn.config.steps.step?.runtime.url ?? run.appUrl);
    url.searchParams.set("fnId", fn.slug);
    url.searchParams.set("stepId", item.stepId);
    const headers: Record<string, string> = { "x-run-id": run.runId };
    if (run.requestVersion > 0) headers["x-inngest-req-version"] = String(run.requestVersion);
    return { url: url.toString(), payload, headers, maxAttempts };
  }

  /**
   * `timeouts`: at the run's first call, its start timeout is over (disarmed) and its finish
   * timeout starts; either one, when due, cancels the run. The finish item stays queued until
   * then or until the run ends, which is how a later call knows it is not the first. Committed
   * beside the call, not before it.
   */
  private armTimeouts(run: ActiveRun, fn: FunctionRecord): Promise<void> | null {
    const finishMs = fn.options.timeouts?.finishMs ?? null;
    const start = startTimeoutId(run.runId);
    const finish = finishTimeoutId(run.runId);
    const armFinish =
      finishMs !== null && !this.state.queue.has(finish) && !this.state.isBusy(finish);
    if (!this.state.queue.has(start) && !armFinish) return null;
    const changes = new Changes();
    if (this.state.queue.has(start)) {
      changes.remove(start);
      // Out of play at once: it must not fire while the first call is out.
      this.state.queue.delete(start);
    }
    if (armFinish && finishMs !== null) {
      changes.add({
        id: finish,
        kind: "cancel",
        runId: run.runId,
        stepId: null,
        attempt: 0,
        dueAt: this.clock.now() + finishMs,
        data: { timeout: "finish" },
      });
    }
    return this.committer.commit(changes);
  }

  /** What the answer does to the run (a working copy), as changes to commit. */
  private applyAnswer(
    run: ActiveRun,
    fn: FunctionRecord,
    item: CallItem,
    response: CallResponse,
    maxAttempts: number,
    dispatch: Dispatch | null,
    callStartedAt: number,
  ): Changes {
    const now = this.clock.now();
    // After checkpointed steps, what the answer reports started when the last of them ended.
    const startedAt = dispatch?.stepStartedAt ?? callStartedAt;
    const changes = new Changes(item);
    const version = Number(response.headers.get("x-inngest-req-version"));
    if (version > 0 && version !== run.requestVersion) {
      run.requestVersion = version;
      changes.updateRun(run);
    }
    const noRetry = response.headers.get("x-inngest-no-retry") === "true";
    const canRetry = !noRetry && item.attempt + 1 < maxAttempts;

    if (response.status === 200) {
      return this.end(run, item, { status: "Completed", output: response.body ?? null }, changes);
    }
    const ops = response.status === 206 ? parseOps(response.body) : [];
    const unusable = response.status === 206 ? unusableAnswer(response.body, ops) : null;
    if (response.status === 206 && !unusable) {
      const complete = ops.find((op) => op.op === "RunComplete");
      if (complete) {
        // Checkpointing's completion; steps the SDK could not checkpoint may come before it.
        for (const op of ops)
          if (op.op === "StepRun" && !changes.hasStep(run, op.id))
            this.memoizeStep(run, op, item.attempt, startedAt, changes);
        return this.end(run, item, { status: "Completed", output: complete.data }, changes);
      }
      const [only] = ops;
      if (ops.length === 1 && only && (only.op === "StepError" || only.op === "StepFailed")) {
        if (only.op === "StepError" && canRetry) {
          changes.timeline.push({
            runId: run.runId,
            stepId: only.id,
            name: only.label,
            op: "StepError",
            attempt: item.attempt,
            startedAt,
            endedAt: now,
            output: null,
            error: only.error,
          });
          changes.add(this.retryItem(item, now + this.retryDelay(item.attempt, response)));
          return changes;
        }
      }
      this.applyOps(run, item, ops, startedAt, changes, dispatch);
      return changes;
    }

    // A function-level error: 500 retriable, 400 with no-retry final; a 206 without a usable op
    // is retried as one too.
    const error = unusable
      ? { name: "Error", message: unusable }
      : toError(response.body, `app answered ${response.status}`);
    return this.failedCall(run, fn, item, maxAttempts, startedAt, error, changes, {
      canRetry,
      retryDelay: this.retryDelay(item.attempt, response),
    });
  }

  /**
   * A call that failed as a whole: a `FunctionError` in the timeline, then the same call one
   * attempt later, or, with no attempt left, the run ends `Failed` with the error.
   */
  private failedCall(
    run: ActiveRun,
    fn: FunctionRecord,
    item: CallItem,
    maxAttempts: number,
    startedAt: number,
    error: JsonObject,
    changes = new Changes(item),
    retry = {
      canRetry: item.attempt + 1 < maxAttempts,
      retryDelay: Math.min(this.retry.baseMs * 2 ** item.attempt, this.retry.maxMs),
    },
  ): Changes {
    const now = this.clock.now();
    changes.timeline.push({
      runId: run.runId,
      stepId: null,
      name: fn.config.name ?? fn.slug,
      op: "FunctionError",
      attempt: item.attempt,
      startedAt,
      endedAt: now,
      output: null,
      error,
    });
    if (retry.canRetry) {
      changes.add(this.retryItem(item, now + retry.retryDelay));
      return changes;
    }
    return this.end(run, item, { status: "Failed", error }, changes);
  }

  /**
   * The ops of one answer, each by its handler. A step that ran (or failed for good) is
   * memoized; once nothing planned of the run is left, discovery follows.
   */
  private applyOps(
    run: ActiveRun,
    item: CallItem,
    ops: Op[],
    startedAt: number,
    changes: Changes,
    dispatch: Dispatch | null,
  ) {
    const now = this.clock.now();
    changes.remove(item.id);
    // Several ops mean parallel steps; several StepRuns alone are steps a checkpointing SDK ran
    // one after the other and could not checkpoint (it answers them instead).
    const parallel = ops.length > 1 && !ops.every((op) => op.op === "StepRun");
    if (parallel && !run.forceStepPlan) {
      run.forceStepPlan = true;
      changes.updateRun(run);
    }
    if (ops.length === 0) {
      this.state.logger.warn(`run ${run.runId}: the app answered 206 with no ops; the run waits`);
    }
    let stepEnded = false;
    for (const op of ops) {
      // Steps memoized already are skipped, but a step's own answer is always taken: the SDK ran it.
      const ranThisCall =
        ops.length === 1 &&
        (op.op === "StepRun" || op.op === "StepFailed" || op.op === "StepError") &&
        !dispatch?.checkpointed.has(op.id);
      if (!ranThisCall && changes.hasStep(run, op.id)) {
        // A step this call checkpointed, answered again (its checkpoint's answer was lost): it
        // is memoized once, and the run goes on after it.
        if (dispatch?.checkpointed.has(op.id)) stepEnded = true;
        continue;
      }
      switch (op.op) {
        case "StepPlanned": {
          const planned = planItem(run.runId, op.id, now);
          if (!this.state.queue.has(planned.id) && !this.state.isBusy(planned.id))
            changes.add(planned);
          break;
        }
        case "StepRun":
        case "StepError": // a final one: no retry was possible
        case "StepFailed": {
          this.memoizeStep(run, op, item.attempt, ops.length === 1 ? startedAt : now, changes);
          stepEnded = true;
          break;
        }
        case "DiscoveryRequest":
          stepEnded = true;
          break;
        case "Sleep":
          if (!this.state.isWaiting(run.runId, op.id)) scheduleSleep(this.state, run, op, changes);
          break;
        case "WaitForEvent":
          if (!this.state.isWaiting(run.runId, op.id)) scheduleWait(this.state, run, op, changes);
          break;
        case "InvokeFunction":
          if (!this.state.isWaiting(run.runId, op.id))
            startInvoke(this.state, this.runner, run, op, changes);
          break;
        case "RunComplete": // handled before
          break;
        case "Unsupported":
          this.state.logger.warn(`run ${run.runId}: op ${op.name} is not supported; ignoring it`);
          break;
      }
    }
    if (stepEnded) this.continueAfterStep(run, item, changes);
  }

  /** Memoizes a step that ran (`{data}`) or failed for good (`{error}`), with its timeline entry. */
  private memoizeStep(
    run: ActiveRun,
    op: Extract<Op, { op: "StepRun" | "StepError" | "StepFailed" }>,
    attempt: number,
    startedAt: number,
    changes: Changes,
  ): void {
    const succeeded = op.op === "StepRun";
    changes.timeline.push({
      runId: run.runId,
      stepId: op.id,
      name: op.label,
      op: succeeded ? "StepRun" : "StepFailed",
      attempt,
      startedAt,
      endedAt: this.clock.now(),
      output: succeeded ? op.data : null,
      error: succeeded ? null : op.error,
    });
    changes.memoize(run, op.id, succeeded ? { data: op.data } : { error: op.error });
  }

  /** A sleep ended, a waited event came, or an invoked run finished: memoized, then discovery. */
  resume(run: ActiveRun, item: ResumeItem): Changes {
    const changes = new Changes(item);
    changes.remove(item.id);
    const data = item.data;
    let value: unknown;
    let op: string;
    if ("sleep" in data) {
      value = null;
      op = "Sleep";
    } else if ("invokeResult" in data) {
      const result = data.invokeResult;
      value =
        "error" in result && result.error
          ? { error: result.error }
          : { data: result.result ?? null };
      op = "InvokeFunction";
    } else {
      value = data.value;
      op = "WaitForEvent";
    }
    changes.endTimeline.push({
      runId: run.runId,
      stepId: item.stepId,
      op,
      endedAt: this.clock.now(),
      output: op === "Sleep" ? null : value,
    });
    changes.memoize(run, item.stepId, value);
    this.requestDiscovery(run, changes);
    return changes;
  }

  /** A wait or invoke expired (null, or the invoke timeout error); a cancelOn window closed. */
  timeout(run: ActiveRun, item: TimeoutItem): Changes {
    const changes = new Changes(item);
    changes.remove(item.id);
    const pause = this.state.pauses.get(item.data.pauseId);
    if (!pause) return changes; // the event won the race
    this.state.pauses.consume(pause, changes);
    if (pause.kind === "cancel") return changes;
    const value =
      pause.kind === "invoke"
        ? {
            error: {
              name: "InngestInvokeTimeoutError",
              message: "Timed out waiting for invoked function to complete",
              error:
                "InngestInvokeTimeoutError: Timed out waiting for invoked function to complete",
            },
          }
        : null;
    changes.endTimeline.push({
      runId: run.runId,
      stepId: item.stepId,
      op: pause.kind === "invoke" ? "InvokeFunction" : "WaitForEvent",
      endedAt: this.clock.now(),
      output: value,
    });
    changes.memoize(run, item.stepId, value);
    this.requestDiscovery(run, changes);
    return changes;
  }

  /** Ends the run; see `endRun`. */
  end(run: ActiveRun, item: QueueItem | null, end: RunEnd, changes?: Changes): Changes {
    const ended = endRun(this.state, this.runner, run, item, end, changes);
    ended.afterCommit.push(() =>
      this.state.logger.debug(`run ${run.runId} ${run.functionSlug}: ${end.status}`),
    );
    return ended;
  }

  /** After a step ends: discovery, unless sibling parallel steps are still to finish. */
  private continueAfterStep(run: ActiveRun, finished: QueueItem, changes: Changes): void {
    if (this.state.hasPlannedSteps(run.runId, finished, changes)) return;
    // Go resets ForceStepPlan once the parallel steps are all done, for SDKs of version 2 on.
    if (run.forceStepPlan && run.requestVersion >= 2) {
      run.forceStepPlan = false;
      changes.updateRun(run);
    }
    this.requestDiscovery(run, changes);
  }

  /** Queues discovery, or, while one is in flight (with a stale view), its repetition. */
  private requestDiscovery(run: ActiveRun, changes: Changes): void {
    const id = discoveryId(run.runId);
    const busy = [...this.state.inFlight].some(
      (item) => item.id === id && item !== changes.processed,
    );
    if (busy) changes.afterCommit.push(() => this.state.rediscover.add(run.runId));
    else changes.add(discoveryItem(run.runId, this.clock.now()));
  }

  /** The app did not answer as an SDK: the same call again after a backoff, attempts untouched. */
  private async waitForApp(run: ActiveRun, item: CallItem, message: string): Promise<void> {
    const failures = item.data.unreachable ?? 0;
    const now = this.clock.now();
    const changes = new Changes(item);
    if (failures === 0) {
      this.state.logger.warn(`run ${run.runId}: ${message}; retrying until the app answers`);
      // In the run's timeline too, once per call that waits (not at every retry of it).
      changes.timeline.push({
        runId: run.runId,
        stepId: null,
        name: run.functionSlug,
        op: "FunctionError",
        attempt: item.attempt,
        startedAt: now,
        endedAt: now,
        output: null,
        error: { name: "AppUnreachable", message: `${message}; retrying until the app answers` },
      });
    }
    const delay = Math.min(this.retry.baseMs * 2 ** failures, UNREACHABLE_MAX_DELAY_MS);
    changes.add({
      ...item,
      dueAt: now + delay,
      data: { ...item.data, unreachable: failures + 1, lastError: message },
    });
    await this.committer.commit(changes);
  }

  private async reschedule(item: CallItem, dueAt: number, data: CallItem["data"]): Promise<void> {
    const changes = new Changes(item);
    changes.add({ ...item, dueAt, data: { ...item.data, ...data } });
    await this.committer.commit(changes);
  }

  /** Deletes an item that has nothing left to do (its run ended). */
  async drop(item: QueueItem): Promise<void> {
    const changes = new Changes(item);
    changes.remove(item.id);
    await this.committer.commit(changes);
  }

  /** The same call, one attempt later; the app answered, so its outage count starts over. */
  private retryItem(item: CallItem, dueAt: number): CallItem {
    return { ...item, attempt: item.attempt + 1, dueAt, data: {} };
  }

  /** `Retry-After` (seconds, or a date) when the app gave one, clamped as Go does; else backoff. */
  private retryDelay(attempt: number, response: CallResponse): number {
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds)
        ? seconds * 1000
        : Date.parse(retryAfter) - this.clock.now();
      if (Number.isFinite(ms))
        return Math.min(Math.max(ms, RETRY_AFTER_MIN_MS), RETRY_AFTER_MAX_MS);
    }
    return Math.min(this.retry.baseMs * 2 ** attempt, this.retry.maxMs);
  }
}

/** Why a call waits for its app's sync; also how the engine finds those calls when it syncs. */
export function notSyncedMessage(appUrl: string): string {
  return `its app ${appUrl} has not synced since the dev server started; the run resumes when it does`;
}

function toError(body: unknown, fallback: string): JsonObject {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const error = body as JsonObject;
    return {
      name: error.name ?? "Error",
      message: error.message ?? error.error ?? fallback,
      ...(error.stack ? { stack: error.stack } : {}),
    };
  }
  return {
    name: "Error",
    message: typeof body === "string" && body ? `${fallback}: ${body.slice(0, 500)}` : fallback,
  };
}

/**
 * Why a 206 answer cannot be acted on, or null: its body is not JSON ops (a cut or garbled answer),
 * or every op in it is one this server does not know. Either would leave the run with nothing
 * queued, waiting forever; as Inngest does, it is an error of the call, retried.
 */
function unusableAnswer(body: unknown, ops: Op[]): string | null {
  if (typeof body !== "object" || body === null)
    return `the app answered 206 with a body that is not JSON ops: ${preview(body)}`;
  const unknown = ops.filter((op) => op.op === "Unsupported");
  if (ops.length > 0 && unknown.length === ops.length)
    return `the app answered 206 with unknown ops only: ${unknown.map((op) => op.name).join(", ")}`;
  return null;
}

function preview(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return (text ?? "").slice(0, 200);
}
