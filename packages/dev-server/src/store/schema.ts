import type { SqlClient } from "./sql";

/**
 * The SQL schema of the dev server's state, and its migrations. Version 2 keeps each memoized
 * step as a row of its own (`ds_steps`), where version 1 rewrote a JSON column of the run's every
 * step on each step.
 */
export const SCHEMA_VERSION = 2;

const TABLES = `
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
  force_step_plan boolean not null default false,
  request_version integer not null default -1,
  concurrency jsonb
);
create index if not exists ds_runs_event_idx on ds_runs (event_id);
create index if not exists ds_runs_function_idx on ds_runs (function_slug, run_id);
create index if not exists ds_runs_status_idx on ds_runs (status);
create table if not exists ds_steps (
  run_id text not null,
  step_id text not null,
  position integer not null,
  value jsonb,
  primary key (run_id, step_id)
);
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
create index if not exists ds_queue_run_idx on ds_queue (run_id);
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
)
`;

/** From version 1: each run's `stack`/`steps` JSON becomes one `ds_steps` row per step. */
const FROM_V1 = `
alter table ds_runs add column if not exists concurrency jsonb;
insert into ds_steps (run_id, step_id, position, value)
  select r.run_id, s.step_id, (s.ordinality - 1)::integer, r.steps -> s.step_id
  from ds_runs r, jsonb_array_elements_text(r.stack) with ordinality as s(step_id, ordinality)
  on conflict do nothing;
alter table ds_runs drop column stack;
alter table ds_runs drop column steps
`;

export async function migrate(sql: SqlClient): Promise<void> {
  await sql.transaction(async (tx) => {
    const hasRuns = await tx.query<{ name: string }>(
      "select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = 'ds_runs' and column_name = 'stack'",
    );
    for (const statement of statements(TABLES)) await tx.query(statement);
    if (hasRuns.length > 0) for (const statement of statements(FROM_V1)) await tx.query(statement);
    await tx.query(
      "insert into ds_meta (key, value) values ('schema_version', $1) on conflict (key) do update set value = excluded.value",
      [String(SCHEMA_VERSION)],
    );
  });
}

function statements(text: string): string[] {
  return text
    .split(";")
    .map((statement) => statement.trim())
    .filter(Boolean);
}
