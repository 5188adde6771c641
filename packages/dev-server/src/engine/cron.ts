import { Cron } from "croner";
import type { CronItem } from "../types";
import { Changes } from "./changes";
import { makeEvent } from "./events";
import { cronItemId } from "./items";
import type { Runner } from "./runner";
import type { EngineState } from "./state";

/**
 * Cron triggers: one queue item per function and cron trigger holds its next tick. A tick starts
 * a run with an `inngest/scheduled.timer` event (its id makes a tick's run happen once) and queues
 * the next tick. Ticks missed while the server was down fire once, not once per missed tick.
 */
export class CronScheduler {
  constructor(
    private readonly state: EngineState,
    private readonly runner: Runner,
  ) {}

  /** After a sync or a reset: a tick queued for every cron trigger, none for the ones gone. */
  schedule(): Changes {
    const { state } = this;
    const changes = new Changes();
    const wanted = new Set<string>();
    const firing = new Set([...state.inFlight].map((item) => item.id));
    for (const fn of state.functions.values()) {
      for (const trigger of fn.options.cronTriggers) {
        const id = cronItemId(fn.slug, trigger.index, trigger.cron);
        wanted.add(id);
        if (state.queue.has(id) || firing.has(id)) continue;
        const dueAt = nextCronTick(trigger.cron, state.clock.now());
        if (dueAt === null) continue;
        changes.add({
          id,
          kind: "cron",
          runId: null,
          stepId: null,
          attempt: 0,
          dueAt,
          data: { slug: fn.slug, cron: trigger.cron },
        });
      }
    }
    for (const item of state.queue.values()) {
      if (item.kind === "cron" && !wanted.has(item.id)) changes.remove(item.id);
    }
    return changes;
  }

  fire(item: CronItem): Changes {
    const { slug, cron } = item.data;
    const fn = this.state.functions.get(slug);
    const changes = new Changes(item);
    changes.remove(item.id);
    if (!fn) return changes;
    if (!this.state.isLive(fn)) {
      // Its app has not synced since the server started: no run, the next tick stays armed.
      const next = nextCronTick(cron, Math.max(item.dueAt, this.state.clock.now()));
      if (next !== null) changes.add({ ...item, dueAt: next });
      return changes;
    }
    const scheduledAt = new Date(item.dueAt).toISOString();
    const event = makeEvent(
      {
        name: "inngest/scheduled.timer",
        id: `${slug}:${scheduledAt}`,
        ts: item.dueAt,
        data: { cron, scheduledAt, fireAt: scheduledAt },
      },
      this.state.clock.now(),
    );
    changes.events.push(event);
    this.runner.startRun(fn, [event], changes, cron);
    // From now, not from the missed tick (as Go's scheduler).
    const next = nextCronTick(cron, Math.max(item.dueAt, this.state.clock.now()));
    if (next !== null) changes.add({ ...item, dueAt: next });
    return changes;
  }
}

/** The next tick after `after` of a 5-field cron, with an optional `TZ=`/`CRON_TZ=` prefix (UTC). */
export function nextCronTick(expression: string, after: number): number | null {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expression.trim());
  const timezone = match?.[1] ?? "UTC";
  const pattern = match?.[2] ?? expression.trim();
  try {
    const next = new Cron(pattern, { timezone, paused: true }).nextRun(new Date(after));
    return next ? next.getTime() : null;
  } catch {
    return null;
  }
}
