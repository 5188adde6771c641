import { resolveTime } from "../durations";
import { matches } from "../expressions";
import { concurrencySlots } from "../flow-control/concurrency";
import { decideDebounce } from "../flow-control/debounce";
import { idempotencyKey } from "../flow-control/idempotency";
import { priorityOffsetMs } from "../flow-control/priority";
import { decideRateLimit } from "../flow-control/rate-limit";
import { singletonKey } from "../flow-control/singleton";
import { decideThrottle } from "../flow-control/throttle";
import type {
  BatchItem,
  DebounceItem,
  FunctionRecord,
  JsonObject,
  RunRecord,
  StoredEvent,
  WireEvent,
} from "../types";
import type { Changes } from "./changes";
import { eventNameMatches, nextUlid, toWire } from "./events";
import { batchItemId, discoveryItem, resumeId, singletonCancelId, startTimeoutId } from "./items";
import { schedulePause } from "./pauses";
import type { EngineState } from "./state";

/** How long a cancelOn window without a timeout stays open: as long as any run (a year). */
const YEAR_MS = 365 * 24 * 3600_000;

/**
 * The runner: turns events into runs. For each event it resumes the waiting runs whose pause it
 * matches, routes an invocation to its target, and starts a run of every function it triggers
 * (name and `if`), through the function's flow control: batching, debounce, rate limit,
 * singleton, throttle and priority, in that order. All synchronously, into the event's changes:
 * two events routed one after the other see each other's effects, so no lock is needed.
 */
export class Runner {
  constructor(private readonly state: EngineState) {}

  route(event: StoredEvent, changes: Changes): void {
    const wire = toWire(event);
    this.resumePauses(event, wire, changes);

    // Invocations go straight to their target, whatever its triggers.
    if (event.name === "inngest/function.invoked") {
      const target = (event.data._inngest as JsonObject | undefined)?.fn_id;
      if (typeof target === "string") {
        const fn = this.state.functions.get(target);
        if (fn && this.state.isLive(fn)) this.startRun(fn, [event], changes, null);
        return;
      }
    }

    for (const fn of this.state.functions.values()) {
      // An app from an earlier session that has not synced since: it may not be running at all.
      if (!this.state.isLive(fn)) continue;
      const triggered = fn.options.eventTriggers.some(
        (trigger) =>
          eventNameMatches(trigger.event, event.name) &&
          (!trigger.expression || matches(trigger.expression, { event: wire })),
      );
      if (triggered) this.trigger(fn, event, wire, changes);
    }
  }

  /**
   * Waiting runs first. A pause is in play from its commit on, so it only sees events that arrive
   * after it (no look-back). A cancel-pause also needs an event newer than the pause, as in Go.
   */
  private resumePauses(event: StoredEvent, wire: WireEvent, changes: Changes): void {
    for (const pause of this.state.pauses.forEvent(event.name)) {
      if (pause.kind === "cancel" && event.internalId <= pause.afterEventId) continue;
      const trigger = this.state.runs.get(pause.runId)?.events[0];
      if (pause.expression && !matches(pause.expression, { event: trigger ?? {}, async: wire }))
        continue;
      this.state.pauses.consume(pause, changes);
      const base = {
        id: resumeId(pause.runId, pause.stepId),
        runId: pause.runId,
        stepId: pause.stepId,
        attempt: 0,
        dueAt: this.state.clock.now(),
      };
      if (pause.kind === "cancel") {
        changes.add({ ...base, kind: "cancel", data: { value: wire, eventId: event.internalId } });
      } else if (pause.kind === "invoke") {
        changes.add({ ...base, kind: "resume", data: { invokeResult: wire.data } });
      } else {
        changes.add({ ...base, kind: "resume", data: { value: wire, eventId: event.internalId } });
      }
    }
  }

  /** An event triggered `fn`: flow control decides whether, when and how its run starts. */
  private trigger(fn: FunctionRecord, event: StoredEvent, wire: WireEvent, changes: Changes) {
    const { state } = this;
    const now = state.clock.now();
    const { options } = fn;
    if (options.batch) {
      const batched = state.batches.add(fn.slug, options.batch, event, wire);
      if (batched.action !== "unbatched") {
        if (batched.opened) {
          changes.add({
            id: batchItemId(batched.key, event.internalId),
            kind: "batch",
            runId: null,
            stepId: null,
            attempt: 0,
            dueAt: now + options.batch.timeoutMs,
            data: { key: batched.key },
          });
        }
        if (batched.action === "full") this.closeBatch(batched.key, fn, batched.events, changes);
        else changes.batches.set(batched.key, { slug: fn.slug, eventIds: batched.eventIds });
        return;
      }
    }
    if (options.debounce) {
      const pendingFirstAt = (id: string) => {
        const pending = changes.addItems.get(id) ?? state.queue.get(id);
        return pending?.kind === "debounce" ? pending.data.firstAt : undefined;
      };
      const decision = decideDebounce(fn.slug, options.debounce, wire, pendingFirstAt, now);
      changes.add({
        id: decision.itemId,
        kind: "debounce",
        runId: null,
        stepId: null,
        attempt: 0,
        dueAt: decision.dueAt,
        data: { slug: fn.slug, firstAt: decision.firstAt, event },
      });
      return;
    }
    if (options.rateLimit) {
      const limited = decideRateLimit(fn.slug, options.rateLimit, wire, state.gcra, now);
      if (!limited.allowed) {
        this.skipRun(fn, event, limited.reason, changes);
        return;
      }
      state.gcra.set(limited.key, limited.tat);
      changes.gcra.set(limited.key, limited.tat);
    }
    const singleton = singletonKey(fn.slug, options.singleton, wire);
    if (singleton && options.singleton) {
      const decision = state.singletons.decide(singleton, options.singleton.mode);
      if (decision.action === "skip") {
        const reason = `singleton: run ${decision.holder} of key ${singleton} is running`;
        this.skipRun(fn, event, reason, changes);
        return;
      }
      if (decision.action === "replace") {
        changes.add({
          id: singletonCancelId(decision.holder),
          kind: "cancel",
          runId: decision.holder,
          stepId: null,
          attempt: 0,
          dueAt: now,
          data: {},
        });
      }
    }
    let startAt = now;
    if (options.throttle) {
      const throttled = decideThrottle(fn.slug, options.throttle, wire, state.gcra, now);
      state.gcra.set(throttled.key, throttled.tat);
      changes.gcra.set(throttled.key, throttled.tat);
      startAt = throttled.startAt;
    }
    startAt -= priorityOffsetMs(options.priority, wire);
    const run = this.startRun(fn, [event], changes, null, startAt);
    if (singleton) state.singletons.hold(singleton, run.runId);
  }

  /** A batch buffer's timeout came: its events start one run, unless it filled up meanwhile. */
  fireBatch(item: BatchItem, changes: Changes): void {
    changes.remove(item.id);
    const key = item.data.key;
    // A buffer that filled up meanwhile already ran; a newer one has a timer of its own.
    const first = this.state.batches.firstEventId(key);
    if (!first || batchItemId(key, first) !== item.id) return;
    const buffer = this.state.batches.take(key);
    const fn = buffer && this.state.functions.get(buffer.slug);
    if (buffer && fn) this.closeBatch(key, fn, buffer.events, changes);
    else changes.batches.set(key, { slug: buffer?.slug ?? "", eventIds: null });
  }

  private closeBatch(key: string, fn: FunctionRecord, events: StoredEvent[], changes: Changes) {
    changes.batches.set(key, { slug: fn.slug, eventIds: null });
    const first = events[0];
    if (first) changes.remove(batchItemId(key, first.internalId));
    if (events.length > 0) this.startRun(fn, events, changes, null);
  }

  /** A debounce period ended: one run with the last event. */
  fireDebounce(item: DebounceItem, changes: Changes): void {
    changes.remove(item.id);
    const fn = this.state.functions.get(item.data.slug);
    if (fn) this.startRun(fn, [item.data.event], changes, null);
  }

  /** A run that flow control dropped: recorded as Skipped (with why), so the event shows it. */
  private skipRun(fn: FunctionRecord, event: StoredEvent, reason: string, changes: Changes) {
    const now = this.state.clock.now();
    const run = newRun(fn, [event], now, null, "Skipped");
    run.endedAt = now;
    changes.newRuns.push(run);
    changes.timeline.push({
      runId: run.runId,
      stepId: null,
      name: "Skipped",
      op: "RunSkipped",
      attempt: 0,
      startedAt: now,
      endedAt: now,
      output: { reason },
      error: null,
    });
    this.state.logger.debug(`event ${event.internalId}: ${fn.slug} skipped (${reason})`);
  }

  /**
   * Creates a run of `fn` and queues its first call at `firstCallAt`, with its start timeout and
   * cancelOn windows. No flow control here: callers have applied it (a rerun asks for none).
   */
  startRun(
    fn: FunctionRecord,
    events: StoredEvent[],
    changes: Changes,
    cron: string | null,
    firstCallAt = this.state.clock.now(),
  ): RunRecord {
    const now = this.state.clock.now();
    const run = newRun(fn, events, now, cron, "Running");
    const first = events[0] as StoredEvent;
    const firstWire = toWire(first);
    const slots = concurrencySlots(fn, firstWire);
    if (slots.length > 0) run.concurrency = slots;
    const key = idempotencyKey(fn, first, firstWire, cron);
    if (key) changes.idempotencyKeys.set(run.runId, key);
    changes.newRuns.push(run);
    changes.runEvents.set(run.runId, events.map(toWire));
    changes.add(discoveryItem(run.runId, firstCallAt));
    const startMs = fn.options.timeouts?.startMs ?? null;
    if (startMs !== null) {
      // Counted from scheduling: time spent delayed by throttle or waiting for a slot included.
      changes.add({
        id: startTimeoutId(run.runId),
        kind: "cancel",
        runId: run.runId,
        stepId: null,
        attempt: 0,
        dueAt: now + startMs,
        data: { timeout: "start" },
      });
    }
    fn.options.cancelOn.forEach((cancel, index) => {
      const expiresAt = (cancel.timeout && resolveTime(cancel.timeout, now)) || now + YEAR_MS;
      schedulePause(
        changes,
        {
          runId: run.runId,
          stepId: `cancel-${index}`,
          kind: "cancel",
          eventName: cancel.event,
          expression: cancel.if,
          expiresAt,
        },
        nextUlid(now),
      );
    });
    return run;
  }
}

function newRun(
  fn: FunctionRecord,
  events: StoredEvent[],
  now: number,
  cron: string | null,
  status: RunRecord["status"],
): RunRecord {
  const first = events[0] as StoredEvent;
  return {
    runId: nextUlid(now),
    functionSlug: fn.slug,
    appUrl: fn.appUrl,
    eventId: first.internalId,
    eventIds: events.map((event) => event.internalId),
    status,
    startedAt: now,
    endedAt: null,
    output: null,
    error: null,
    cron,
    forceStepPlan: false,
    requestVersion: -1,
  };
}
