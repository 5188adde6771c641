import type { ChangeSet } from "../engine/changes";
import { IDEMPOTENCY_TTL_MS } from "../flow-control/idempotency";
import type {
  AppRecord,
  JsonObject,
  Pause,
  QueueItem,
  RunRecord,
  RunStatus,
  StepRecord,
  StoredActiveRun,
  StoredEvent,
  TimelineEntry,
} from "../types";
import { migrate } from "./schema";
import type { SqlClient, SqlExecutor } from "./sql";
import type {
  EventFilter,
  EventSummary,
  EventSummaryFilter,
  RunFilter,
  Store,
  StoredFunction,
} from "./store";

/**
 * The store on SQL: PostgreSQL (postgres.js) or embedded PGlite, one schema (`schema.ts`). A
 * commit is one transaction; steps are rows of their own, appended, so a step costs the same
 * whatever the run's length.
 */

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

type Row = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function toEvent(row: Row): StoredEvent {
  return {
    internalId: row.internal_id as string,
    id: (row.id as string | null) ?? null,
    name: row.name as string,
    data: row.data as JsonObject,
    user: row.user as JsonObject,
    ts: Number(row.ts),
    v: (row.v as string | null) ?? null,
    receivedAt: Number(row.received_at),
  };
}

function toRun(row: Row): RunRecord {
  return {
    runId: row.run_id as string,
    functionSlug: row.function_slug as string,
    appUrl: row.app_url as string,
    eventId: row.event_id as string,
    eventIds: row.event_ids as string[],
    status: row.status as RunStatus,
    startedAt: Number(row.started_at),
    endedAt: num(row.ended_at),
    output: row.output ?? null,
    error: (row.error as JsonObject | null) ?? null,
    cron: (row.cron as string | null) ?? null,
    forceStepPlan: Boolean(row.force_step_plan),
    requestVersion: Number(row.request_version),
    ...(row.concurrency ? { concurrency: row.concurrency as RunRecord["concurrency"] } : {}),
  };
}

function toItem(row: Row): QueueItem {
  // Written from a QueueItem by `writeChangeSet`: its kind and data belong together.
  return {
    id: row.id as string,
    kind: row.kind,
    runId: (row.run_id as string | null) ?? null,
    stepId: (row.step_id as string | null) ?? null,
    attempt: Number(row.attempt),
    dueAt: Number(row.due_at),
    data: row.data,
  } as QueueItem;
}

function toPause(row: Row): Pause {
  return {
    id: row.id as string,
    runId: row.run_id as string,
    stepId: row.step_id as string,
    kind: row.kind as Pause["kind"],
    eventName: row.event_name as string,
    expression: (row.expression as string | null) ?? null,
    expiresAt: Number(row.expires_at),
    afterEventId: row.after_event_id as string,
  };
}

function toTimeline(row: Row): TimelineEntry {
  return {
    runId: row.run_id as string,
    seq: Number(row.seq),
    stepId: (row.step_id as string | null) ?? null,
    name: row.name as string,
    op: row.op as string,
    attempt: Number(row.attempt),
    startedAt: Number(row.started_at),
    endedAt: num(row.ended_at),
    output: row.output ?? null,
    error: (row.error as JsonObject | null) ?? null,
  };
}

export class SqlStore implements Store {
  private constructor(private readonly sql: SqlClient) {}

  /** Opens the store on a SQL client and brings its schema up to date. */
  static async open(sql: SqlClient): Promise<SqlStore> {
    await migrate(sql);
    return new SqlStore(sql);
  }

  get kind() {
    return this.sql.kind;
  }

  get location() {
    return this.sql.location;
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  commit(sets: readonly ChangeSet[], now: number): Promise<Set<string>[]> {
    return this.sql.transaction(
      async (tx) => {
        // All the sets' events in one multi-row insert (order kept), then each set.
        await insertEvents(
          sets.flatMap((set) => set.events),
          tx,
        );
        const skipped: Set<string>[] = [];
        for (const set of sets) skipped.push(await writeChangeSet(set, tx, now));
        return skipped;
      },
      {
        // It landed but its answer was lost with the connection: the new runs that are not in
        // the database are those skipped for a held idempotency key.
        recover: async (q) => {
          const ids = sets.flatMap((set) => set.newRuns.map((run) => run.runId));
          const stored = new Set(
            ids.length === 0
              ? []
              : (
                  await q.query<{ run_id: string }>(
                    "select run_id from ds_runs where run_id = any($1::text[])",
                    [ids],
                  )
                ).map((row) => row.run_id),
          );
          return sets.map(
            (set) =>
              new Set(set.newRuns.map((run) => run.runId).filter((runId) => !stored.has(runId))),
          );
        },
      },
    );
  }

  async reset(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const table of [
        "ds_events",
        "ds_idempotency",
        "ds_runs",
        "ds_steps",
        "ds_run_events",
        "ds_queue",
        "ds_pauses",
        "ds_timeline",
        "ds_rate_limits",
        "ds_batches",
      ]) {
        await tx.query(`delete from ${table}`);
      }
    });
  }

  // --- apps and functions ---

  async saveApp(app: AppRecord, functions: StoredFunction[] | null): Promise<void> {
    await this.sql.transaction(async (q) => {
      await q.query(
        `insert into ds_apps (url, app_id, framework, sdk, function_count, synced_at, error)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (url) do update set app_id = excluded.app_id, framework = excluded.framework,
           sdk = excluded.sdk, function_count = excluded.function_count,
           synced_at = excluded.synced_at, error = excluded.error`,
        [app.url, app.appId, app.framework, app.sdk, app.functionCount, app.syncedAt, app.error],
      );
      if (!functions) return;
      await q.query("delete from ds_functions where app_url = $1", [app.url]);
      for (const fn of functions) {
        // A slug belongs to one app: the latest app to register it takes it over.
        await q.query(
          `insert into ds_functions (slug, app_url, app_id, name, config) values ($1, $2, $3, $4, $5::text::jsonb)
           on conflict (slug) do update set app_url = excluded.app_url, app_id = excluded.app_id,
             name = excluded.name, config = excluded.config`,
          [fn.slug, fn.appUrl, fn.appId, fn.name, json(fn.config)],
        );
      }
    });
  }

  async setAppError(url: string, error: string): Promise<void> {
    await this.sql.query(
      `insert into ds_apps (url, error) values ($1, $2)
       on conflict (url) do update set error = excluded.error`,
      [url, error],
    );
  }

  async listApps(): Promise<AppRecord[]> {
    const rows = await this.sql.query<Row>("select * from ds_apps order by url");
    return rows.map((row) => ({
      url: row.url as string,
      appId: (row.app_id as string | null) ?? null,
      framework: (row.framework as string | null) ?? null,
      sdk: (row.sdk as string | null) ?? null,
      functionCount: Number(row.function_count),
      syncedAt: num(row.synced_at),
      error: (row.error as string | null) ?? null,
    }));
  }

  async listFunctions(): Promise<StoredFunction[]> {
    const rows = await this.sql.query<Row>("select * from ds_functions order by slug");
    return rows.map((row) => ({
      slug: row.slug as string,
      appUrl: row.app_url as string,
      appId: row.app_id as string,
      name: row.name as string,
      config: row.config as StoredFunction["config"],
    }));
  }

  // --- what the engine loads at start ---

  async listActiveRuns(): Promise<StoredActiveRun[]> {
    const runs = (
      await this.sql.query<Row>(
        "select * from ds_runs where status in ('Running', 'Queued') order by run_id",
      )
    ).map(toRun);
    const steps = await this.sql.query<Row>(
      `select s.* from ds_steps s join ds_runs r on r.run_id = s.run_id
       where r.status in ('Running', 'Queued') order by s.run_id, s.position`,
    );
    const byRun = new Map<string, StepRecord[]>();
    for (const row of steps) {
      const runId = row.run_id as string;
      let list = byRun.get(runId);
      if (!list) {
        list = [];
        byRun.set(runId, list);
      }
      list.push({
        runId,
        stepId: row.step_id as string,
        position: Number(row.position),
        value: row.value ?? null,
      });
    }
    return runs.map((run) => ({ run, steps: byRun.get(run.runId) ?? [] }));
  }

  async loadQueue(): Promise<QueueItem[]> {
    return (await this.sql.query<Row>("select * from ds_queue order by due_at, id")).map(toItem);
  }

  async loadPauses(): Promise<Pause[]> {
    return (await this.sql.query<Row>("select * from ds_pauses")).map(toPause);
  }

  async loadGcraStates(): Promise<Map<string, number>> {
    const rows = await this.sql.query<Row>("select * from ds_rate_limits");
    return new Map(rows.map((row) => [row.key as string, Number(row.tat)]));
  }

  async loadBatches(): Promise<{ key: string; functionSlug: string; eventIds: string[] }[]> {
    const rows = await this.sql.query<Row>("select * from ds_batches order by key");
    return rows.map((row) => ({
      key: row.key as string,
      functionSlug: row.function_slug as string,
      eventIds: row.event_ids as string[],
    }));
  }

  // --- reads ---

  async getEvent(internalId: string): Promise<StoredEvent | null> {
    const [row] = await this.sql.query<Row>("select * from ds_events where internal_id = $1", [
      internalId,
    ]);
    return row ? toEvent(row) : null;
  }

  async getEvents(internalIds: readonly string[]): Promise<StoredEvent[]> {
    if (internalIds.length === 0) return [];
    const rows = await this.sql.query<Row>(
      // A JSON array parameter: postgres.js and PGlite bind it the same way (not so a JS array).
      "select * from ds_events where internal_id in (select jsonb_array_elements_text($1::text::jsonb))",
      [JSON.stringify(internalIds)],
    );
    const byId = new Map(rows.map((row) => [row.internal_id as string, toEvent(row)]));
    return internalIds
      .map((id) => byId.get(id))
      .filter((event): event is StoredEvent => Boolean(event));
  }

  async listEvents(filter: EventFilter): Promise<StoredEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.name) where.push(`name = $${params.push(filter.name)}`);
    if (filter.cursor) where.push(`internal_id < $${params.push(filter.cursor)}`);
    if (filter.receivedAfter !== undefined)
      where.push(`received_at > $${params.push(filter.receivedAfter)}`);
    if (filter.receivedBefore !== undefined)
      where.push(`received_at < $${params.push(filter.receivedBefore)}`);
    const rows = await this.sql.query<Row>(
      `select * from ds_events ${where.length ? `where ${where.join(" and ")}` : ""}
       order by internal_id desc limit $${params.push(filter.limit)}`,
      params,
    );
    return rows.map(toEvent);
  }

  async listEventSummaries(filter: EventSummaryFilter): Promise<EventSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.nameContains)
      where.push(`position(lower($${params.push(filter.nameContains)}) in lower(e.name)) > 0`);
    if (!filter.includeInternal) where.push("e.name not like 'inngest/%'");
    const rows = await this.sql.query<Row>(
      `select e.internal_id, e.name, e.data, e.received_at,
         (select count(*) from ds_run_events r where r.event_id = e.internal_id) as run_count
       from ds_events e ${where.length ? `where ${where.join(" and ")}` : ""}
       order by e.internal_id desc limit $${params.push(filter.limit)}`,
      params,
    );
    return rows.map((row) => ({
      internalId: row.internal_id as string,
      name: row.name as string,
      data: row.data as JsonObject,
      receivedAt: Number(row.received_at),
      runCount: Number(row.run_count),
    }));
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const [row] = await this.sql.query<Row>("select * from ds_runs where run_id = $1", [runId]);
    return row ? toRun(row) : null;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.functionSlug) where.push(`function_slug = $${params.push(filter.functionSlug)}`);
    if (filter.cursor) where.push(`run_id < $${params.push(filter.cursor)}`);
    const rows = await this.sql.query<Row>(
      `select * from ds_runs ${where.length ? `where ${where.join(" and ")}` : ""}
       order by run_id desc limit $${params.push(filter.limit)}`,
      params,
    );
    return rows.map(toRun);
  }

  async listRunsByEvent(eventId: string): Promise<RunRecord[]> {
    const rows = await this.sql.query<Row>(
      `select r.* from ds_runs r join ds_run_events e on e.run_id = r.run_id
       where e.event_id = $1 order by r.run_id`,
      [eventId],
    );
    return rows.map(toRun);
  }

  async timeline(runId: string): Promise<TimelineEntry[]> {
    return (
      await this.sql.query<Row>("select * from ds_timeline where run_id = $1 order by seq", [runId])
    ).map(toTimeline);
  }

  async queueOfRun(runId: string): Promise<QueueItem[]> {
    return (
      await this.sql.query<Row>("select * from ds_queue where run_id = $1 order by due_at", [runId])
    ).map(toItem);
  }
}

/** One change set, in a transaction; returns its new runs skipped because their key was held. */
async function writeChangeSet(set: ChangeSet, q: SqlExecutor, now: number): Promise<Set<string>> {
  const skipped = new Set<string>();
  const kept = (runId: string | null) => !runId || !skipped.has(runId);
  for (const run of set.newRuns) {
    const key = set.idempotencyKeys.get(run.runId);
    if (key && !(await claimIdempotencyKey(key, now, q))) {
      skipped.add(run.runId);
      continue;
    }
    await insertRun(run, q);
  }
  for (const run of set.updatedRuns.values()) await updateRun(run, q);
  for (const step of set.newSteps) {
    if (!kept(step.runId)) continue;
    await q.query(
      `insert into ds_steps (run_id, step_id, position, value) values ($1, $2, $3, $4::text::jsonb)
       on conflict (run_id, step_id) do update set value = excluded.value`,
      [step.runId, step.stepId, step.position, json(step.value)],
    );
  }
  for (const [key, tat] of set.gcra) {
    await q.query(
      `insert into ds_rate_limits (key, tat) values ($1, $2)
       on conflict (key) do update set tat = excluded.tat`,
      [key, tat],
    );
  }
  for (const [key, batch] of set.batches) {
    if (batch.eventIds === null) {
      await q.query("delete from ds_batches where key = $1", [key]);
    } else {
      await q.query(
        `insert into ds_batches (key, function_slug, event_ids) values ($1, $2, $3::text::jsonb)
         on conflict (key) do update set event_ids = excluded.event_ids`,
        [key, batch.slug, json(batch.eventIds)],
      );
    }
  }
  for (const id of set.deleteItems) await q.query("delete from ds_queue where id = $1", [id]);
  for (const item of set.addItems.values()) {
    if (!kept(item.runId)) continue;
    await q.query(
      `insert into ds_queue (id, kind, run_id, step_id, attempt, due_at, data)
       values ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
       on conflict (id) do update set attempt = excluded.attempt, due_at = excluded.due_at, data = excluded.data`,
      [item.id, item.kind, item.runId, item.stepId, item.attempt, item.dueAt, json(item.data)],
    );
  }
  for (const id of set.deletePauses.keys())
    await q.query("delete from ds_pauses where id = $1", [id]);
  for (const pause of set.addPauses) {
    if (!kept(pause.runId)) continue;
    await q.query(
      `insert into ds_pauses (id, run_id, step_id, kind, event_name, expression, expires_at, after_event_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (id) do nothing`,
      [
        pause.id,
        pause.runId,
        pause.stepId,
        pause.kind,
        pause.eventName,
        pause.expression,
        pause.expiresAt,
        pause.afterEventId,
      ],
    );
  }
  for (const entry of set.timeline) {
    if (!kept(entry.runId)) continue;
    await q.query(
      `insert into ds_timeline (run_id, seq, step_id, name, op, attempt, started_at, ended_at, output, error)
       values ($1, (select coalesce(max(seq), 0) + 1 from ds_timeline where run_id = $1), $2, $3, $4, $5, $6, $7,
         $8::text::jsonb, $9::text::jsonb)`,
      [
        entry.runId,
        entry.stepId,
        entry.name,
        entry.op,
        entry.attempt,
        entry.startedAt,
        entry.endedAt,
        json(entry.output),
        json(entry.error),
      ],
    );
  }
  for (const end of set.endTimeline) {
    await q.query(
      `update ds_timeline set ended_at = $4, output = $5::text::jsonb, error = $6::text::jsonb
       where run_id = $1 and step_id = $2 and op = $3 and ended_at is null`,
      [end.runId, end.stepId, end.op, end.endedAt, json(end.output), json(end.error ?? null)],
    );
  }
  return skipped;
}

async function insertEvents(events: readonly StoredEvent[], q: SqlExecutor): Promise<void> {
  // One statement per chunk: durable before the sender gets its ids.
  const chunk = 500;
  for (let start = 0; start < events.length; start += chunk) {
    const slice = events.slice(start, start + chunk);
    const params: unknown[] = [];
    const values = slice.map((event) => {
      const base = params.length;
      params.push(
        event.internalId,
        event.id,
        event.name,
        json(event.data),
        json(event.user),
        event.ts,
        event.v,
        event.receivedAt,
      );
      // jsonb goes in as text cast to jsonb: postgres.js would JSON-encode a string again.
      const cast = (i: number) => (i === 3 || i === 4 ? "::text::jsonb" : "");
      return `(${Array.from({ length: 8 }, (_, i) => `$${base + i + 1}${cast(i)}`).join(", ")})`;
    });
    await q.query(
      `insert into ds_events (internal_id, id, name, data, "user", ts, v, received_at) values ${values.join(", ")}`,
      params,
    );
  }
}

/** Claims an idempotency key for 24 h; false when it is already held and unexpired. */
async function claimIdempotencyKey(key: string, now: number, q: SqlExecutor): Promise<boolean> {
  const rows = await q.query(
    `insert into ds_idempotency (key, expires_at) values ($1, $2)
     on conflict (key) do update set expires_at = excluded.expires_at
       where ds_idempotency.expires_at <= $3
     returning key`,
    [key, now + IDEMPOTENCY_TTL_MS, now],
  );
  return rows.length > 0;
}

async function insertRun(run: RunRecord, q: SqlExecutor): Promise<void> {
  await q.query(
    `insert into ds_runs (run_id, function_slug, app_url, event_id, event_ids, status, started_at,
       ended_at, output, error, cron, force_step_plan, request_version, concurrency)
     values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, $9::text::jsonb, $10::text::jsonb, $11,
       $12, $13, $14::text::jsonb)`,
    [
      run.runId,
      run.functionSlug,
      run.appUrl,
      run.eventId,
      json(run.eventIds),
      run.status,
      run.startedAt,
      run.endedAt,
      json(run.output),
      json(run.error),
      run.cron,
      run.forceStepPlan,
      run.requestVersion,
      json(run.concurrency ?? null),
    ],
  );
  for (const eventId of run.eventIds) {
    await q.query(
      "insert into ds_run_events (run_id, event_id) values ($1, $2) on conflict do nothing",
      [run.runId, eventId],
    );
  }
}

/** The run's row; its steps are not touched (they are rows of their own). */
async function updateRun(run: RunRecord, q: SqlExecutor): Promise<void> {
  await q.query(
    `update ds_runs set status = $2, ended_at = $3, output = $4::text::jsonb, error = $5::text::jsonb,
       force_step_plan = $6, request_version = $7
     where run_id = $1`,
    [
      run.runId,
      run.status,
      run.endedAt,
      json(run.output),
      json(run.error),
      run.forceStepPlan,
      run.requestVersion,
    ],
  );
}
