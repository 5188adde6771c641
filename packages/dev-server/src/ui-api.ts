import type { Context, Hono } from "hono";
import type { Clock } from "./clock";
import type { Engine } from "./engine/engine";
import { eventNameMatches } from "./engine/events";
import { isUlid } from "./event-ids";
import type { Store } from "./store/store";
import type { FunctionRecord, JsonObject, RunRecord, StoredEvent, TimelineEntry } from "./types";

/**
 * What the dev UI needs beyond the REST API v1 and /api: lists shaped for its pages (events with
 * their run counts, runs with their function and duration), one call per page for an event or a
 * run with everything on it, and its actions: send, invoke, replay, rerun. Under /api/ui/, in the
 * `{data}` shape of the rest; bad input is a 400 whose message names the field.
 */

export interface UiApiDeps {
  store: Store;
  executor: Engine;
  clock: Clock;
  /** Stores a send body (the JSON text of one event or an array) as /e/ does; returns the ids. */
  send(text: string): Promise<string[]>;
  /** The server's HTTP error, so that its error handler answers it as JSON with this status. */
  fail(status: 400 | 404, message: string): Error;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** How many closest triggers an event that started nothing shows. */
const MAX_SUGGESTIONS = 6;

export function registerUiApi(app: Hono, deps: UiApiDeps): void {
  const { store, executor, clock, fail } = deps;

  const limitOf = (c: Context) => {
    const text = c.req.query("limit");
    if (!text) return DEFAULT_LIMIT;
    const limit = Number(text);
    if (!Number.isInteger(limit) || limit < 1)
      throw fail(400, `limit must be a whole number of 1 or more, got "${text}"`);
    return Math.min(limit, MAX_LIMIT);
  };

  const idOf = (c: Context, what: "event" | "run") => {
    const id = c.req.param("id") ?? "";
    if (!isUlid(id)) throw fail(400, `${what} id must be a ULID, got "${id}"`);
    return id.toUpperCase();
  };

  const bodyOf = async (c: Context): Promise<JsonObject> => {
    const text = await c.req.text();
    if (text.trim() === "") return {};
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw fail(400, `malformed JSON: ${(error as Error).message}`);
    }
    if (!isObject(body)) throw fail(400, `the body must be a JSON object, got ${typeName(body)}`);
    return body;
  };

  const functionInfo = (slug: string) => {
    const fn = executor.getFunction(slug);
    return { function_name: fn?.name ?? slug, app_id: fn?.appId ?? null };
  };

  const runSummary = (run: RunRecord, eventName?: string | undefined) => ({
    run_id: run.runId,
    function_id: run.functionSlug,
    ...functionInfo(run.functionSlug),
    app_url: run.appUrl,
    status: run.status,
    event_id: run.eventId,
    ...(eventName !== undefined ? { event_name: eventName } : {}),
    cron: run.cron,
    started_at: iso(run.startedAt),
    ended_at: run.endedAt === null ? null : iso(run.endedAt),
    duration_ms: run.endedAt === null ? null : run.endedAt - run.startedAt,
  });

  // ------------------------------------------------------------------ events

  app.get("/api/ui/events", async (c) => {
    const summaries = await store.listEventSummaries({
      // A substring, case-insensitive: what a filter box is expected to do.
      nameContains: c.req.query("name")?.trim() || undefined,
      // The server's own events (function.finished, ...) are noise unless asked for.
      includeInternal: c.req.query("internal") === "1",
      limit: limitOf(c),
    });
    return c.json({
      data: summaries.map((summary) => ({
        internal_id: summary.internalId,
        name: summary.name,
        data: summary.data,
        received_at: iso(summary.receivedAt),
        run_count: summary.runCount,
      })),
    });
  });

  app.get("/api/ui/events/:id", async (c) => {
    const id = idOf(c, "event");
    const event = await store.getEvent(id);
    if (!event) throw fail(404, `event ${id} not found`);
    const runs = await store.listRunsByEvent(id);
    return c.json({
      data: {
        event: eventJson(event),
        runs: runs.map((run) => runSummary(run)),
        // Only asked when it matters: nothing started, so the likely cause is the name.
        suggestions:
          runs.length === 0 ? closestTriggers(event.name, executor.functionList(), event) : [],
      },
    });
  });

  app.post("/api/ui/events", async (c) => {
    const body = await bodyOf(c);
    const [eventId] = await deps.send(JSON.stringify(body));
    return c.json({ data: { event_id: eventId } });
  });

  /** The same name, data and user again, as a new event (a new id, so it is not deduplicated). */
  app.post("/api/ui/events/:id/replay", async (c) => {
    const id = idOf(c, "event");
    const event = await store.getEvent(id);
    if (!event) throw fail(404, `event ${id} not found`);
    if (event.name.startsWith("inngest/"))
      throw fail(400, `event ${id} is the server's own (${event.name}): it cannot be replayed`);
    const replay = executor.makeEvent({
      name: event.name,
      data: event.data,
      user: event.user,
      v: event.v,
    });
    await executor.ingest([replay]);
    const runs = await store.listRunsByEvent(replay.internalId);
    return c.json({
      data: { event_id: replay.internalId, run_ids: runs.map((run) => run.runId) },
    });
  });

  // ------------------------------------------------------------------ functions

  /** As Inngest does: an `inngest/function.invoked` event aimed at the one function. */
  app.post("/api/ui/functions/:slug/invoke", async (c) => {
    const slug = c.req.param("slug");
    const fn = executor.getFunction(slug);
    if (!fn) throw fail(404, `function ${slug} is not registered`);
    const body = await bodyOf(c);
    const data = body.data ?? {};
    if (!isObject(data)) throw fail(400, `"data" must be an object, got ${typeName(data)}`);
    if (body.user !== undefined && !isObject(body.user))
      throw fail(400, `"user" must be an object, got ${typeName(body.user)}`);
    const { _inngest: _, ...payload } = data;
    const event = executor.makeEvent({
      name: "inngest/function.invoked",
      data: { ...payload, _inngest: { fn_id: fn.slug, source: "dev-ui" } },
      user: (body.user as JsonObject | undefined) ?? {},
    });
    await executor.ingest([event]);
    const [run] = await store.listRunsByEvent(event.internalId);
    return c.json({ data: { event_id: event.internalId, run_id: run?.runId ?? null } });
  });

  // ------------------------------------------------------------------ runs

  app.get("/api/ui/runs", async (c) => {
    const status = c.req.query("status") || undefined;
    const statuses = ["Queued", "Running", "Completed", "Failed", "Cancelled", "Skipped"];
    if (status && !statuses.includes(status))
      throw fail(400, `status must be one of ${statuses.join(", ")}, got "${status}"`);
    const runs = await store.listRuns({
      status,
      functionSlug: c.req.query("function_id") || undefined,
      limit: limitOf(c),
    });
    const events = await store.getEvents([...new Set(runs.map((run) => run.eventId))]);
    const names = new Map(events.map((event) => [event.internalId, event.name]));
    return c.json({
      data: runs.map((run) => runSummary(run, names.get(run.eventId) ?? "")),
      now: iso(clock.now()),
    });
  });

  app.get("/api/ui/runs/:id", async (c) => {
    const id = idOf(c, "run");
    const run = await store.getRun(id);
    if (!run) throw fail(404, `run ${id} not found`);
    const [events, timeline, jobs] = await Promise.all([
      store.getEvents(run.eventIds),
      store.timeline(id),
      store.queueOfRun(id),
    ]);
    return c.json({
      data: {
        run: { ...runSummary(run), output: run.output ?? null, error: run.error },
        events: events.map(eventJson),
        steps: timeline.map(stepJson),
        // What is queued for the run: a retry's next attempt and when it is due.
        jobs: jobs.map((job) => ({
          kind: job.kind,
          step_id: job.stepId,
          attempt: job.attempt,
          due_at: iso(job.dueAt),
        })),
        now: iso(clock.now()),
      },
    });
  });

  /** A new run of the same function with the same trigger event(s). */
  app.post("/api/ui/runs/:id/rerun", async (c) => {
    const id = idOf(c, "run");
    const run = await store.getRun(id);
    if (!run) throw fail(404, `run ${id} not found`);
    const fn = executor.getFunction(run.functionSlug);
    if (!fn)
      throw fail(400, `function ${run.functionSlug} is no longer registered: sync its app first`);
    const events = await store.getEvents(run.eventIds);
    if (events.length === 0) throw fail(400, `the trigger events of run ${id} are gone`);
    const rerun = await executor.rerun(fn, events, run.cron);
    return c.json({ data: { run_id: rerun.runId } });
  });
}

// -------------------------------------------------------------------- suggestions

export interface TriggerSuggestion {
  function_id: string;
  function_name: string;
  app_id: string;
  trigger: string;
  /** Edits from the event's name to the trigger (0: the name matches). */
  distance: number;
  /** Why a trigger whose name matches started nothing, when it can be told. */
  note?: string;
}

/**
 * The functions whose event triggers come closest to `name`: a typo in the event name is the
 * usual reason an event starts nothing. Wildcard triggers (`app/user.*`) are compared by their
 * prefix against the start of the name. Only near ones are kept, closest first.
 */
export function closestTriggers(
  name: string,
  functions: FunctionRecord[],
  event?: StoredEvent,
): TriggerSuggestion[] {
  const near = Math.max(3, Math.floor(name.length / 3));
  const best = new Map<string, TriggerSuggestion>();
  for (const fn of functions) {
    for (const trigger of fn.config.triggers) {
      if (trigger.event === undefined) continue;
      const matched = eventNameMatches(trigger.event, name);
      const distance = matched ? 0 : triggerDistance(trigger.event, name);
      if (distance > near) continue;
      const suggestion: TriggerSuggestion = {
        function_id: fn.slug,
        function_name: fn.name,
        app_id: fn.appId,
        trigger: trigger.event,
        distance,
      };
      if (matched) {
        suggestion.note = trigger.expression
          ? `its condition \`${trigger.expression}\` did not hold for this event`
          : event && fn.config.batchEvents
            ? "it batches events: the run starts when the batch is full or times out"
            : event && fn.config.debounce
              ? "it debounces: the run starts when the debounce period ends"
              : "the name matches: was the function synced after the event arrived?";
      }
      const known = best.get(fn.slug);
      if (!known || distance < known.distance) best.set(fn.slug, suggestion);
    }
  }
  return [...best.values()]
    .sort((a, b) => a.distance - b.distance || a.function_id.localeCompare(b.function_id))
    .slice(0, MAX_SUGGESTIONS);
}

/** Levenshtein distance; for `prefix*`, the fewest edits that make the name start with it. */
export function triggerDistance(trigger: string, name: string): number {
  const wildcard = trigger.endsWith("*");
  const pattern = wildcard ? trigger.slice(0, -1) : trigger;
  // Row i holds the distances from pattern[0..i) to every prefix of the name.
  let previous = Array.from({ length: name.length + 1 }, (_, j) => j);
  for (let i = 1; i <= pattern.length; i++) {
    const current = [i];
    for (let j = 1; j <= name.length; j++) {
      const cost = pattern[i - 1] === name[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return wildcard ? Math.min(...previous) : (previous[name.length] as number);
}

// -------------------------------------------------------------------- shapes

function eventJson(event: StoredEvent) {
  return {
    internal_id: event.internalId,
    id: event.id ?? "",
    name: event.name,
    data: event.data,
    user: event.user,
    ts: event.ts,
    received_at: iso(event.receivedAt),
  };
}

function stepJson(entry: TimelineEntry) {
  return {
    seq: entry.seq,
    step_id: entry.stepId,
    name: entry.name,
    op: entry.op,
    attempt: entry.attempt,
    started_at: iso(entry.startedAt),
    ended_at: entry.endedAt === null ? null : iso(entry.endedAt),
    output: entry.output ?? null,
    error: entry.error,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
