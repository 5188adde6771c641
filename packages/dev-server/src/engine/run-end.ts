import type { ActiveRun, JsonObject, QueueItem, StoredEvent } from "../types";
import { Changes } from "./changes";
import { makeEvent } from "./events";
import type { Runner } from "./runner";
import type { EngineState } from "./state";

export type RunEnd =
  | { status: "Completed"; output: unknown }
  | { status: "Failed"; error: JsonObject }
  | { status: "Cancelled" };

/**
 * Ends a run (`run` is a working copy): its status and output, the removal of everything it
 * still had scheduled (queued work, work in flight, whose answer is then dropped, and its pauses),
 * and the events its end emits, routed in the same changes: an invoking parent, an onFailure
 * handler or a function waiting for them cannot miss them, even if the server stops right after.
 */
export function endRun(
  state: EngineState,
  runner: Runner,
  run: ActiveRun,
  item: QueueItem | null,
  end: RunEnd,
  changes = new Changes(item),
): Changes {
  const now = state.clock.now();
  run.status = end.status;
  run.endedAt = now;
  if (end.status === "Completed") run.output = end.output;
  if (end.status === "Failed") {
    run.error = end.error;
    run.output = end.error;
  }
  changes.updateRun(run);
  if (item) changes.remove(item.id);
  for (const queued of state.queue.ofRun(run.runId)) changes.remove(queued.id);
  for (const busy of state.inFlight) {
    if (busy.runId === run.runId && busy !== item) changes.remove(busy.id);
  }
  for (const pause of state.pauses.ofRun(run.runId)) state.pauses.consume(pause, changes);
  changes.timeline.push({
    runId: run.runId,
    stepId: null,
    name: end.status,
    op: `Run${end.status}`,
    attempt: 0,
    startedAt: now,
    endedAt: now,
    output: end.status === "Completed" ? end.output : null,
    error: end.status === "Failed" ? end.error : null,
  });
  const emitted = endEvents(run, end, now);
  changes.events.push(...emitted);
  for (const event of emitted) runner.route(event, changes);
  return changes;
}

/**
 * `inngest/function.failed` or `inngest/function.cancelled` (their id is the run id, so each is
 * emitted once), and `inngest/function.finished` with the result or error and, for an invoked
 * run, the invoker's correlation id.
 */
function endEvents(run: ActiveRun, end: RunEnd, now: number): StoredEvent[] {
  const events = run.events;
  const base = {
    function_id: run.functionSlug,
    run_id: run.runId,
    event: events[0] ?? null,
    events,
  };
  const emitted: StoredEvent[] = [];
  if (end.status === "Failed") {
    emitted.push({
      ...makeEvent(
        {
          name: "inngest/function.failed",
          data: { ...base, error: end.error, _inngest: { status: "Failed" } },
        },
        now,
      ),
      id: run.runId,
    });
  }
  if (end.status === "Cancelled") {
    emitted.push({
      ...makeEvent(
        {
          name: "inngest/function.cancelled",
          data: { ...base, _inngest: { status: "Cancelled" } },
        },
        now,
      ),
      id: run.runId,
    });
  }
  const invoke = events[0]?.data._inngest as JsonObject | undefined;
  emitted.push(
    makeEvent(
      {
        name: "inngest/function.finished",
        data: {
          ...base,
          ...(end.status === "Completed"
            ? { result: end.output }
            : {
                error:
                  end.status === "Failed"
                    ? end.error
                    : { name: "Error", message: "function cancelled" },
              }),
          ...(invoke?.correlation_id ? { correlation_id: invoke.correlation_id } : {}),
          _inngest: { status: end.status },
        },
      },
      now,
    ),
  );
  return emitted;
}
