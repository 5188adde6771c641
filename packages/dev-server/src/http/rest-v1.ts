import type { Context, Hono } from "hono";
import type { Engine } from "../engine/engine";
import { appInternalId, functionInternalId, isUuid } from "../functions/internal-id";
import type { Store } from "../store/store";
import type { RunRecord } from "../types";
import { dateQuery, HttpError, limitQuery, statusQuery, ulidParam, ulidQuery } from "./request";
import {
  type AppFunctionJson,
  appFunctionJson,
  type EventJson,
  eventJson,
  type JobJson,
  type RunJson,
  runJson,
  type TimelineJson,
  timelineStepJson,
  type V1Answer,
  v1Answer,
} from "./wire";

/**
 * The REST API v1 (`/v1/`), in Inngest's shapes: events, runs (with their timeline and queued
 * jobs, and cancelling), and an app's functions. Every answer is `{data, metadata}` but the
 * functions', a bare array as on Inngest; lists are newest first, paged by `limit` and a ULID
 * `cursor`. A run's `function_id` is its function's internal id (a UUID), as on Inngest.
 */

const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

export function registerRestV1(app: Hono, deps: { engine: Engine; store: Store }): void {
  const { engine, store } = deps;

  app.get("/v1/events", async (c) => {
    const events = await store.listEvents({
      name: c.req.query("name") || undefined,
      limit: limitQuery(c, DEFAULT_PAGE, MAX_PAGE),
      cursor: ulidQuery(c, "cursor"),
      receivedAfter: dateQuery(c, "received_after"),
      receivedBefore: dateQuery(c, "received_before"),
    });
    return c.json<V1Answer<EventJson[]>>(v1Answer(events.map(eventJson)));
  });

  app.get("/v1/events/:id", async (c) => {
    const event = await store.getEvent(ulidParam(c, "event"));
    if (!event) throw new HttpError(404, `event ${c.req.param("id")} not found`);
    return c.json<V1Answer<EventJson>>(v1Answer(eventJson(event)));
  });

  app.get("/v1/events/:id/runs", async (c) => {
    const id = ulidParam(c, "event");
    if (!(await store.getEvent(id))) throw new HttpError(404, `event ${id} not found`);
    const runs = await store.listRunsByEvent(id);
    return c.json<V1Answer<RunJson[]>>(v1Answer(runs.map(toJson)));
  });

  // Not on Inngest (its runs are listed per event): all runs, or one function's, by its internal
  // id (or its slug).
  app.get("/v1/runs", async (c) => {
    const functionId = c.req.query("function_id") || undefined;
    const functionSlug =
      functionId && isUuid(functionId)
        ? engine.functionList().find((fn) => fn.internalId === functionId.toLowerCase())?.slug
        : functionId;
    const status = statusQuery(c);
    const limit = limitQuery(c, DEFAULT_PAGE, MAX_PAGE);
    const cursor = ulidQuery(c, "cursor");
    if (functionId && !functionSlug) return c.json<V1Answer<RunJson[]>>(v1Answer([]));
    const runs = await store.listRuns({
      status,
      functionSlug,
      limit,
      cursor,
    });
    return c.json<V1Answer<RunJson[]>>(v1Answer(runs.map(toJson)));
  });

  app.get("/v1/runs/:id", async (c) =>
    c.json<V1Answer<RunJson>>(v1Answer(toJson(await findRun(c)))),
  );

  app.delete("/v1/runs/:id", async (c) => {
    const run = await engine.cancel(ulidParam(c, "run"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    return c.json<V1Answer<RunJson>>(v1Answer(toJson(run)));
  });

  app.get("/v1/runs/:id/timeline", async (c) => {
    const run = await findRun(c);
    const entries = await store.timeline(run.runId);
    return c.json<V1Answer<TimelineJson>>(
      v1Answer({ run: toJson(run), steps: entries.map(timelineStepJson) }),
    );
  });

  app.get("/v1/runs/:id/jobs", async (c) => {
    const run = await findRun(c);
    return c.json<V1Answer<JobJson[]>>(v1Answer(await store.queueOfRun(run.runId)));
  });

  // As Inngest answers it: a bare array (no `{data}`) of the app's functions, ordered by internal
  // id; an app it does not know has none (`[]`, not a 404).
  app.get("/v1/apps/:appName/functions", async (c) => {
    const name = c.req.param("appName");
    const syncedAt = new Map((await store.listApps()).map((app) => [app.url, app.syncedAt]));
    const functions = engine
      .functionList()
      .filter((fn) => fn.appId === name)
      .sort((a, b) => (a.internalId < b.internalId ? -1 : a.internalId > b.internalId ? 1 : 0));
    const appId = appInternalId(name);
    return c.json<AppFunctionJson[]>(
      functions.map((fn) => appFunctionJson(fn, appId, syncedAt.get(fn.appUrl) ?? null)),
    );
  });

  async function findRun(c: Context): Promise<RunRecord> {
    const run = await store.getRun(ulidParam(c, "run"));
    if (!run) throw new HttpError(404, `run ${c.req.param("id")} not found`);
    return run;
  }
}

function toJson(run: RunRecord): RunJson {
  return runJson(run, functionInternalId(run.functionSlug));
}
