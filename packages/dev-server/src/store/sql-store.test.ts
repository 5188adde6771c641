import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Changes } from "../engine/changes";
import { openPglite, openPostgres, type SqlClient } from "./sql";
import { SqlStore } from "./sql-store";

/**
 * The SQL store on both engines: schema v1 (each run's steps as JSON columns) is migrated to v2
 * (one row per step) with every run's memoized steps kept in stack order, and a step is appended
 * as a row of its own, leaving the run's earlier steps as they were.
 */
const drivers = await testDrivers();

describe.each(drivers)("SqlStore on %s", (driver) => {
  let database: TestDatabase | undefined;
  let sql: SqlClient;

  beforeAll(async () => {
    if (driver === "postgres") {
      database = await createTestDatabase("postgres", { migrated: false });
      sql = await openPostgres(database.url);
    } else {
      sql = await openPglite("memory://");
    }
    // A database as schema v1 left it: a running run with two steps, a finished one with one.
    await sql.query(`create table ds_runs (
      run_id text primary key, function_slug text not null, app_url text not null,
      event_id text not null, event_ids jsonb not null, status text not null,
      started_at double precision not null, ended_at double precision, output jsonb, error jsonb,
      cron text, stack jsonb not null, steps jsonb not null,
      force_step_plan boolean not null default false, request_version integer not null default -1)`);
    const insert = `insert into ds_runs (run_id, function_slug, app_url, event_id, event_ids, status,
      started_at, stack, steps) values ($1, 'fn', 'http://app', 'E1', '["E1"]', $2, 1, $3::text::jsonb, $4::text::jsonb)`;
    await sql.query(insert, ["R1", "Running", '["b1","a1"]', '{"a1":{"data":1},"b1":null}']);
    await sql.query(insert, ["R2", "Completed", '["c1"]', '{"c1":{"data":"c"}}']);
  }, 180_000);

  afterAll(async () => {
    await sql.close();
    await database?.dispose();
  });

  it("migrates v1's JSON steps to one row per step, in stack order, and drops the columns", async () => {
    const store = await SqlStore.open(sql);
    const [active, ...others] = await store.listActiveRuns();
    expect(others).toEqual([]);
    expect(active?.run.runId).toBe("R1");
    expect(active?.steps.map((step) => [step.stepId, step.position, step.value])).toEqual([
      ["b1", 0, null],
      ["a1", 1, { data: 1 }],
    ]);
    const columns = await sql.query<{ name: string }>(
      "select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = 'ds_runs'",
    );
    expect(columns.map((column) => column.name)).not.toContain("steps");
    const finished = await sql.query("select * from ds_steps where run_id = 'R2'");
    expect(finished).toHaveLength(1);
  });

  it("opens a v2 database again without touching it", async () => {
    const store = await SqlStore.open(sql);
    const [active] = await store.listActiveRuns();
    expect(active?.steps.map((step) => step.stepId)).toEqual(["b1", "a1"]);
  });

  it("appends a memoized step as one row; the earlier ones stay as they were", async () => {
    const store = await SqlStore.open(sql);
    const [loaded] = await store.listActiveRuns();
    if (!loaded) throw new Error("no active run");
    const run = {
      ...loaded.run,
      events: [],
      stack: loaded.steps.map((step) => step.stepId),
      steps: new Map(loaded.steps.map((step) => [step.stepId, step.value])),
    };
    const changes = new Changes();
    changes.memoize(run, "d1", { data: "d" });
    expect(changes.newSteps).toEqual([
      { runId: "R1", stepId: "d1", position: 2, value: { data: "d" } },
    ]);
    await store.commit([changes], Date.now());
    const [after] = await store.listActiveRuns();
    expect(after?.steps.map((step) => [step.stepId, step.position, step.value])).toEqual([
      ["b1", 0, null],
      ["a1", 1, { data: 1 }],
      ["d1", 2, { data: "d" }],
    ]);
  });
});
