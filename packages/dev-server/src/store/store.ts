import type {
  AppRecord,
  FunctionConfig,
  FunctionRecord,
  JsonObject,
  Pause,
  QueueItem,
  RunRecord,
  RunStatus,
  StoredEvent,
  TimelineEntry,
} from "../types";
import type { SqlClient, SqlExecutor } from "./sql";

/**
 * The dev server's durable state, one SQL schema on PostgreSQL or PGlite. Every method takes an
 * optional executor so that the executor can group writes in one transaction: a step's result,
 * the queue item that produced it and the next item land together, or not at all.
 */

const SCHEMA_VERSION = 1;

const SCHEMA = `
create table if not exists ds_meta (key text primary key, value text not null);
create table if not exists ds_apps (
  url text primary key,
  app_id text,
  framework text,
  sdk text,
  function_count integer not null default 0,
  synced_at double precision,
  error text
);
create table if not exists ds_functions (
  slug text primary key,
  app_url text not null,
  app_id text not null,
  name text not null,
  config jsonb not null
);
create table if not exists ds_events (
  internal_id text primary key,
  id text,
  name text not null,
  data jsonb not null,
  "user" jsonb not null,
  ts double precision not null,
  v text,
  received_at double precision not null
);
create index if not exists ds_events_name_idx on ds_events (name, internal_id);
create table if not exists ds_idempotency (
  key text primary key,
  expires_at double precision not null
);
create table if not exists ds_runs (
  run_id text primary key,
  function_slug text not null,
  app_url text not null,
  event_id text not null,
  event_ids jsonb not null,
  status text not null,
  started_at double precision not null,
  ended_at double precision,
  output jsonb,
  error jsonb,
  cron text,
  stack jsonb not null,
  steps jsonb not null,
  force_step_plan boolean not null default false,
  request_version integer not null default -1,
  concurrency jsonb
);
alter table ds_runs add column if not exists concurrency jsonb;
create index if not exists ds_runs_event_idx on ds_runs (event_id);
create index if not exists ds_runs_function_idx on ds_runs (function_slug, run_id);
create table if not exists ds_run_events (
  run_id text not null,
  event_id text not null,
  primary key (event_id, run_id)
);
create table if not exists ds_queue (
  id text primary key,
  kind text not null,
  run_id text,
  step_id text,
  attempt integer not null,
  due_at double precision not null,
  data jsonb not null
);
create table if not exists ds_pauses (
  id text primary key,
  run_id text not null,
  step_id text not null,
  kind text not null,
  event_name text not null,
  expression text,
  expires_at double precision not null,
  after_event_id text not null
);
create index if not exists ds_pauses_run_idx on ds_pauses (run_id);
create table if not exists ds_rate_limits (
  key text primary key,
  tat double precision not null
);
create table if not exists ds_batches (
  key text primary key,
  function_slug text not null,
  event_ids jsonb not null
);
create table if not exists ds_timeline (
  run_id text not null,
  seq integer not null,
  step_id text,
  name text not null,
  op text not null,
  attempt integer not null,
  started_at double precision not null,
  ended_at double precision,
  output jsonb,
  error jsonb,
  primary key (run_id, seq)
);
`;

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
    stack: row.stack as string[],
    steps: row.steps as Record<string, unknown>,
    forceStepPlan: Boolean(row.force_step_plan),
    requestVersion: Number(row.request_version),
    ...(row.concurrency ? { concurrency: row.concurrency as RunRecord["concurrency"] } : {}),
  };
}

function toItem(row: Row): QueueItem {
  return {
    id: row.id as string,
    kind: row.kind as QueueItem["kind"],
    runId: (row.run_id as string | null) ?? null,
    stepId: (row.step_id as string | null) ?? null,
    attempt: Number(row.attempt),
    dueAt: Number(row.due_at),
    data: row.data as JsonObject,
  };
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

export class Store {
  constructor(readonly sql: SqlClient) {}

  async migrate(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const statement of SCHEMA.split(";")
        .map((s) => s.trim())
        .filter(Boolean)) {
        await tx.query(statement);
      }
      await tx.query(
        "insert into ds_meta (key, value) values ('schema_version', $1) on conflict (key) do update set value = excluded.value",
        [String(SCHEMA_VERSION)],
      );
    });
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.sql.transaction(work);
  }

  /** Deletes everything (test mode's reset). */
  async reset(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const table of [
        "ds_events",
        "ds_idempotency",
        "ds_runs",
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

  async saveApp(app: AppRecord, functions: FunctionRecord[] | null, q: SqlExecutor = this.sql) {
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

  async listFunctions(): Promise<FunctionRecord[]> {
    const rows = await this.sql.query<Row>("select * from ds_functions order by slug");
    return rows.map((row) => ({
      slug: row.slug as string,
      appUrl: row.app_url as string,
      appId: row.app_id as string,
      name: row.name as string,
      config: row.config as FunctionConfig,
    }));
  }

  // --- events ---

  async insertEvents(events: StoredEvent[], q: SqlExecutor = this.sql): Promise<void> {
    if (events.length === 0) return;
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

  async getEvent(internalId: string): Promise<StoredEvent | null> {
    const [row] = await this.sql.query<Row>("select * from ds_events where internal_id = $1", [
      internalId,
    ]);
    return row ? toEvent(row) : null;
  }

  async getEvents(internalIds: string[]): Promise<StoredEvent[]> {
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

  async listEvents(filter: {
    name?: string | undefined;
    limit: number;
    cursor?: string | undefined;
    receivedAfter?: number | undefined;
    receivedBefore?: number | undefined;
  }): Promise<StoredEvent[]> {
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

  /** Claims an idempotency key for `ttlMs`; false when it is already held and unexpired. */
  async claimIdempotencyKey(key: string, now: number, ttlMs: number, q: SqlExecutor = this.sql) {
    const rows = await q.query(
      `insert into ds_idempotency (key, expires_at) values ($1, $2)
       on conflict (key) do update set expires_at = excluded.expires_at
         where ds_idempotency.expires_at <= $3
       returning key`,
      [key, now + ttlMs, now],
    );
    return rows.length > 0;
  }

  // --- runs ---

  async insertRun(run: RunRecord, q: SqlExecutor = this.sql): Promise<void> {
    await q.query(
      `insert into ds_runs (run_id, function_slug, app_url, event_id, event_ids, status, started_at,
         ended_at, output, error, cron, stack, steps, force_step_plan, request_version, concurrency)
       values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, $9::text::jsonb, $10::text::jsonb, $11,
         $12::text::jsonb, $13::text::jsonb, $14, $15, $16::text::jsonb)`,
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
        json(run.stack),
        json(run.steps),
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

  async updateRun(run: RunRecord, q: SqlExecutor = this.sql): Promise<void> {
    await q.query(
      `update ds_runs set status = $2, ended_at = $3, output = $4::text::jsonb, error = $5::text::jsonb,
         stack = $6::text::jsonb, steps = $7::text::jsonb,
         force_step_plan = $8, request_version = $9, app_url = $10
       where run_id = $1`,
      [
        run.runId,
        run.status,
        run.endedAt,
        json(run.output),
        json(run.error),
        json(run.stack),
        json(run.steps),
        run.forceStepPlan,
        run.requestVersion,
        run.appUrl,
      ],
    );
  }

  async getRun(runId: string, q: SqlExecutor = this.sql): Promise<RunRecord | null> {
    const [row] = await q.query<Row>("select * from ds_runs where run_id = $1", [runId]);
    return row ? toRun(row) : null;
  }

  /** Runs still in progress (loaded at start: flow control needs their keys at hand). */
  async listActiveRuns(): Promise<RunRecord[]> {
    const rows = await this.sql.query<Row>(
      "select * from ds_runs where status in ('Running', 'Queued') order by run_id",
    );
    return rows.map(toRun);
  }

  // --- flow control ---

  async saveRateLimit(key: string, tat: number, q: SqlExecutor = this.sql): Promise<void> {
    await q.query(
      `insert into ds_rate_limits (key, tat) values ($1, $2)
       on conflict (key) do update set tat = excluded.tat`,
      [key, tat],
    );
  }

  async loadRateLimits(): Promise<Map<string, number>> {
    const rows = await this.sql.query<Row>("select * from ds_rate_limits");
    return new Map(rows.map((row) => [row.key as string, Number(row.tat)]));
  }

  /** Saves a batch buffer's event ids, or deletes the buffer when `eventIds` is null. */
  async saveBatch(
    key: string,
    functionSlug: string,
    eventIds: string[] | null,
    q: SqlExecutor = this.sql,
  ): Promise<void> {
    if (eventIds === null) {
      await q.query("delete from ds_batches where key = $1", [key]);
      return;
    }
    await q.query(
      `insert into ds_batches (key, function_slug, event_ids) values ($1, $2, $3::text::jsonb)
       on conflict (key) do update set event_ids = excluded.event_ids`,
      [key, functionSlug, json(eventIds)],
    );
  }

  async loadBatches(): Promise<{ key: string; functionSlug: string; eventIds: string[] }[]> {
    const rows = await this.sql.query<Row>("select * from ds_batches order by key");
    return rows.map((row) => ({
      key: row.key as string,
      functionSlug: row.function_slug as string,
      eventIds: row.event_ids as string[],
    }));
  }

  async listRunsByEvent(eventId: string): Promise<RunRecord[]> {
    const rows = await this.sql.query<Row>(
      `select r.* from ds_runs r join ds_run_events e on e.run_id = r.run_id
       where e.event_id = $1 order by r.run_id`,
      [eventId],
    );
    return rows.map(toRun);
  }

  async listRuns(filter: {
    status?: string | undefined;
    functionSlug?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }) {
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

  // --- queue ---

  async addQueueItems(items: QueueItem[], q: SqlExecutor = this.sql): Promise<void> {
    for (const item of items) {
      await q.query(
        `insert into ds_queue (id, kind, run_id, step_id, attempt, due_at, data)
         values ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
         on conflict (id) do update set attempt = excluded.attempt, due_at = excluded.due_at, data = excluded.data`,
        [item.id, item.kind, item.runId, item.stepId, item.attempt, item.dueAt, json(item.data)],
      );
    }
  }

  async deleteQueueItem(id: string, q: SqlExecutor = this.sql): Promise<boolean> {
    const rows = await q.query("delete from ds_queue where id = $1 returning id", [id]);
    return rows.length > 0;
  }

  async deleteQueueItemsOfRun(runId: string, q: SqlExecutor = this.sql): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      "delete from ds_queue where run_id = $1 returning id",
      [runId],
    );
    return rows.map((row) => row.id);
  }

  async loadQueue(): Promise<QueueItem[]> {
    return (await this.sql.query<Row>("select * from ds_queue order by due_at, id")).map(toItem);
  }

  async queueOfRun(runId: string): Promise<QueueItem[]> {
    return (
      await this.sql.query<Row>("select * from ds_queue where run_id = $1 order by due_at", [runId])
    ).map(toItem);
  }

  // --- pauses ---

  async addPause(pause: Pause, q: SqlExecutor = this.sql): Promise<void> {
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

  /** Removes the pause; true for the one caller that removed it (a match and a timeout race). */
  async consumePause(id: string, q: SqlExecutor = this.sql): Promise<boolean> {
    return (await q.query("delete from ds_pauses where id = $1 returning id", [id])).length > 0;
  }

  async deletePausesOfRun(runId: string, q: SqlExecutor = this.sql): Promise<string[]> {
    const rows = await q.query<{ id: string }>(
      "delete from ds_pauses where run_id = $1 returning id",
      [runId],
    );
    return rows.map((row) => row.id);
  }

  async loadPauses(): Promise<Pause[]> {
    return (await this.sql.query<Row>("select * from ds_pauses")).map(toPause);
  }

  // --- timeline ---

  async addTimeline(entry: Omit<TimelineEntry, "seq">, q: SqlExecutor = this.sql): Promise<number> {
    const [row] = await q.query<{ seq: number }>(
      `insert into ds_timeline (run_id, seq, step_id, name, op, attempt, started_at, ended_at, output, error)
       values ($1, (select coalesce(max(seq), 0) + 1 from ds_timeline where run_id = $1), $2, $3, $4, $5, $6, $7,
         $8::text::jsonb, $9::text::jsonb)
       returning seq`,
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
    return Number(row?.seq);
  }

  async endTimeline(
    runId: string,
    stepId: string,
    op: string,
    end: { endedAt: number; output?: unknown; error?: JsonObject | null },
    q: SqlExecutor = this.sql,
  ): Promise<void> {
    await q.query(
      `update ds_timeline set ended_at = $4, output = $5::text::jsonb, error = $6::text::jsonb
       where run_id = $1 and step_id = $2 and op = $3 and ended_at is null`,
      [runId, stepId, op, end.endedAt, json(end.output), json(end.error ?? null)],
    );
  }

  async timeline(runId: string): Promise<TimelineEntry[]> {
    return (
      await this.sql.query<Row>("select * from ds_timeline where run_id = $1 order by seq", [runId])
    ).map(toTimeline);
  }
}
