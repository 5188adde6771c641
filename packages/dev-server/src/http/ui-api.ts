import type { Hono } from "hono";
import type { Clock } from "../clock";
import type { Engine } from "../engine/engine";
import type { Store } from "../store/store";
import type { JsonObject, RunRecord } from "../types";
import {
  HttpError,
  isObject,
  limitQuery,
  readObject,
  statusQuery,
  typeName,
  ulidParam,
} from "./request";
import { closestTriggers } from "./trigger-suggestions";
import {
  iso,
  runSummaryJson,
  type UiEventDetail,
  type UiEventRow,
  type UiInvoked,
  type UiReplayed,
  type UiRerun,
  type UiRunDetail,
  type UiRunList,
  type UiSent,
  uiEventJson,
  uiJobJson,
  uiStepJson,
} from "./wire";

/**
 * What the dev UI needs beyond the REST API v1 and /api: lists shaped for its pages (events with
 * their run counts, runs with their function and duration), one call per page for an event or a
 * run with everything on it, and its actions: send, invoke, replay, rerun. Under /api/ui/, in the
 * `{data}` shape of the rest; bad input is a 400 whose message names the field.
 */

export interface UiApiDeps {
  store: Store;
  engine: Engine;
  clock: Clock;
  /** Stores a send body (the JSON text of one event or an array) as /e/ does; returns the ids. */
  send(text: string): Promise<string[]>;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export function registerUiApi(app: Hono, deps: UiApiDeps): void {
  const { store, engine, clock } = deps;

  const runSummary = (run: RunRecord, eventName?: string | undefined) =>
    runSummaryJson(run, engine.getFunction(run.functionSlug), eventName);

  // ------------------------------------------------------------------ events

  app.get("/api/ui/events", async (c) => {
    const summaries = await store.listEventSummaries({
      // A substring, case-insensitive: what a filter box is expected to do.
      nameContains: c.req.query("name")?.trim() || undefined,
      // The server's own events (function.finished, ...) are noise unless asked for.
      includeInternal: c.req.query("internal") === "1",
      limit: limitQuery(c, DEFAULT_LIMIT, MAX_LIMIT),
    });
    return c.json<{ data: UiEventRow[] }>({
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
    const id = ulidParam(c, "event");
    const event = await store.getEvent(id);
    if (!event) throw new HttpError(404, `event ${id} not found`);
    const runs = await store.listRunsByEvent(id);
    return c.json<{ data: UiEventDetail }>({
      data: {
        event: uiEventJson(event),
        runs: runs.map((run) => runSummary(run)),
        // Only asked when it matters: nothing started, so the likely cause is the name.
        suggestions:
          runs.length === 0 ? closestTriggers(event.name, engine.functionList(), event) : [],
      },
    });
  });

  app.post("/api/ui/events", async (c) => {
    const body = await readObject(c);
    // One object: one event, one id.
    const [eventId] = await deps.send(JSON.stringify(body));
    return c.json<{ data: UiSent }>({ data: { event_id: eventId as string } });
  });

  /** The same name, data and user again, as a new event (a new id, so it is not deduplicated). */
  app.post("/api/ui/events/:id/replay", async (c) => {
    const id = ulidParam(c, "event");
    const event = await store.getEvent(id);
    if (!event) throw new HttpError(404, `event ${id} not found`);
    if (event.name.startsWith("inngest/"))
      throw new HttpError(
        400,
        `event ${id} is the server's own (${event.name}): it cannot be replayed`,
      );
    const replay = engine.makeEvent({
      name: event.name,
      data: event.data,
      user: event.user,
      v: event.v,
    });
    await engine.ingest([replay]);
    const runs = await store.listRunsByEvent(replay.internalId);
    return c.json<{ data: UiReplayed }>({
      data: { event_id: replay.internalId, run_ids: runs.map((run) => run.runId) },
    });
  });

  // ------------------------------------------------------------------ functions

  /** As Inngest does: an `inngest/function.invoked` event aimed at the one function. */
  app.post("/api/ui/functions/:slug/invoke", async (c) => {
    const slug = c.req.param("slug");
    const fn = engine.getFunction(slug);
    if (!fn) throw new HttpError(404, `function ${slug} is not registered`);
    const body = await readObject(c);
    const data = body.data ?? {};
    if (!isObject(data))
      throw new HttpError(400, `"data" must be an object, got ${typeName(data)}`);
    if (body.user !== undefined && !isObject(body.user))
      throw new HttpError(400, `"user" must be an object, got ${typeName(body.user)}`);
    const { _inngest: _, ...payload } = data;
    const event = engine.makeEvent({
      name: "inngest/function.invoked",
      data: { ...payload, _inngest: { fn_id: fn.slug, source: "dev-ui" } },
      user: (body.user as JsonObject | undefined) ?? {},
    });
    await engine.ingest([event]);
    const [run] = await store.listRunsByEvent(event.internalId);
    return c.json<{ data: UiInvoked }>({
      data: { event_id: event.internalId, run_id: run?.runId ?? null },
    });
  });

  // ------------------------------------------------------------------ runs

  app.get("/api/ui/runs", async (c) => {
    const runs = await store.listRuns({
      status: statusQuery(c),
      functionSlug: c.req.query("function_id") || undefined,
      limit: limitQuery(c, DEFAULT_LIMIT, MAX_LIMIT),
    });
    const events = await store.getEvents([...new Set(runs.map((run) => run.eventId))]);
    const names = new Map(events.map((event) => [event.internalId, event.name]));
    return c.json<UiRunList>({
      data: runs.map((run) => runSummary(run, names.get(run.eventId) ?? "")),
      now: iso(clock.now()),
    });
  });

  app.get("/api/ui/runs/:id", async (c) => {
    const id = ulidParam(c, "run");
    const run = await store.getRun(id);
    if (!run) throw new HttpError(404, `run ${id} not found`);
    const [events, timeline, jobs] = await Promise.all([
      store.getEvents(run.eventIds),
      store.timeline(id),
      store.queueOfRun(id),
    ]);
    return c.json<{ data: UiRunDetail }>({
      data: {
        run: { ...runSummary(run), output: run.output ?? null, error: run.error },
        events: events.map(uiEventJson),
        steps: timeline.map(uiStepJson),
        // What is queued for the run: a retry's next attempt and when it is due.
        jobs: jobs.map(uiJobJson),
        now: iso(clock.now()),
      },
    });
  });

  /** A new run of the same function with the same trigger event(s). */
  app.post("/api/ui/runs/:id/rerun", async (c) => {
    const id = ulidParam(c, "run");
    const run = await store.getRun(id);
    if (!run) throw new HttpError(404, `run ${id} not found`);
    const fn = engine.getFunction(run.functionSlug);
    if (!fn)
      throw new HttpError(
        400,
        `function ${run.functionSlug} is no longer registered: sync its app first`,
      );
    const events = await store.getEvents(run.eventIds);
    if (events.length === 0) throw new HttpError(400, `the trigger events of run ${id} are gone`);
    const rerun = await engine.rerun(fn, events, run.cron);
    return c.json<{ data: UiRerun }>({ data: { run_id: rerun.runId } });
  });
}
