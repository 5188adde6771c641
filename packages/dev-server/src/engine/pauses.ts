import type { Pause } from "../types";
import type { Changes } from "./changes";
import { timeoutId } from "./items";

/**
 * Pauses: runs waiting for an event. A `wait` is a `step.waitForEvent`, an `invoke` waits for the
 * invoked run's `inngest/function.finished`, a `cancel` is a `cancelOn` window. Each has a timeout
 * item in the queue. Indexed by event name (what an incoming event looks up), by id and by run.
 *
 * A pause is taken out of play the moment a match or its timeout claims it (in memory, before
 * the commit), so the two can never both win; until the commit lands it counts as `consuming`.
 */
export class PauseIndex {
  private readonly byEvent = new Map<string, Map<string, Pause>>();
  private readonly byId = new Map<string, Pause>();
  private readonly byRun = new Map<string, Map<string, Pause>>();
  private readonly consuming = new Map<string, Pause>();

  get(id: string): Pause | undefined {
    return this.byId.get(id);
  }

  /** The pauses an event of this name may resume (a copy: matching changes the index). */
  forEvent(name: string): Pause[] {
    const pauses = this.byEvent.get(name);
    return pauses ? [...pauses.values()] : [];
  }

  ofRun(runId: string): Pause[] {
    const pauses = this.byRun.get(runId);
    return pauses ? [...pauses.values()] : [];
  }

  /** A pause of this id is in play, or claimed and not yet committed. */
  isWaiting(id: string): boolean {
    return this.byId.has(id) || this.consuming.has(id);
  }

  /** A committed pause comes into play (or one restored at start). */
  index(pause: Pause): void {
    this.byId.set(pause.id, pause);
    add(this.byEvent, pause.eventName, pause);
    add(this.byRun, pause.runId, pause);
  }

  /** Takes the pause out of play now; its deletion (and its timeout's) goes with `changes`. */
  consume(pause: Pause, changes: Changes): void {
    this.byId.delete(pause.id);
    remove(this.byEvent, pause.eventName, pause.id);
    remove(this.byRun, pause.runId, pause.id);
    this.consuming.set(pause.id, pause);
    changes.deletePauses.set(pause.id, pause);
    changes.remove(timeoutId(pause.runId, pause.stepId));
  }

  /** Its removal is committed. */
  consumed(id: string): void {
    this.consuming.delete(id);
  }

  /** The commit that would have removed it failed: it is back in play. */
  restore(pause: Pause): void {
    this.consuming.delete(pause.id);
    this.index(pause);
  }

  clear(): void {
    this.byEvent.clear();
    this.byId.clear();
    this.byRun.clear();
    this.consuming.clear();
  }
}

function add(index: Map<string, Map<string, Pause>>, key: string, pause: Pause): void {
  let pauses = index.get(key);
  if (!pauses) {
    pauses = new Map();
    index.set(key, pauses);
  }
  pauses.set(pause.id, pause);
}

function remove(index: Map<string, Map<string, Pause>>, key: string, id: string): void {
  const pauses = index.get(key);
  pauses?.delete(id);
  if (pauses?.size === 0) index.delete(key);
}

/**
 * Schedules a pause of `runId` at `stepId` with its timeout item; in play once `changes` commit.
 * `afterEventId` is the newest possible event id now: a cancel-pause only matches events newer
 * than the pause (waits go by arrival instead, since senders' ids come from their own clocks).
 */
export function schedulePause(
  changes: Changes,
  pause: Omit<Pause, "id" | "afterEventId">,
  afterEventId: string,
): Pause {
  const scheduled: Pause = { ...pause, id: `${pause.runId}:${pause.stepId}`, afterEventId };
  changes.addPauses.push(scheduled);
  changes.add({
    id: timeoutId(pause.runId, pause.stepId),
    kind: "timeout",
    runId: pause.runId,
    stepId: pause.stepId,
    attempt: 0,
    dueAt: pause.expiresAt,
    data: { pauseId: scheduled.id, kind: pause.kind },
  });
  return scheduled;
}
