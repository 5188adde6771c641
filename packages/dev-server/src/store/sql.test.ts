import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isConnectionError, lockDataDir, openPostgres, type SqlClient } from "./sql";
import { StorageUnavailableError } from "./store";

describe("lockDataDir: one process per PGlite folder", () => {
  const folders: string[] = [];
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  function folder(): string {
    const parent = mkdtempSync(join(tmpdir(), "dev-server-lock-"));
    folders.push(parent);
    return join(parent, "state");
  }

  it("writes this process's pid beside the folder and removes it on release", () => {
    const dir = folder();
    const release = lockDataDir(dir);
    expect(readFileSync(`${dir}.lock`, "utf8")).toBe(String(process.pid));
    release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it("refuses a folder held by another live process, naming it and what to do", async () => {
    const dir = folder();
    const owner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    children.push(owner);
    await new Promise((resolve) => owner.once("spawn", resolve));
    writeFileSync(`${dir}.lock`, String(owner.pid));
    expect(() => lockDataDir(dir)).toThrow(
      new RegExp(`${dir}.* in use by process ${owner.pid}.*--storage`),
    );
  });

  it("takes over the lock of a process that is gone", async () => {
    const dir = folder();
    const gone = spawn(process.execPath, ["-e", ""]);
    const pid = gone.pid;
    await new Promise((resolve) => gone.once("exit", resolve));
    writeFileSync(`${dir}.lock`, String(pid));
    lockDataDir(dir)();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});

describe("isConnectionError", () => {
  it.each([
    ["CONNECTION_CLOSED", true],
    ["ECONNREFUSED", true],
    ["57P01", true],
    ["08006", true],
    ["55000", true],
    ["23505", false],
    ["42P01", false],
  ])("%s → %s", (code, expected) => {
    expect(isConnectionError(Object.assign(new Error("x"), { code }))).toBe(expected);
  });

  it("is false for errors without a code", () => {
    expect(isConnectionError(new Error("x"))).toBe(false);
    expect(isConnectionError(null)).toBe(false);
  });
});

const postgresReachable = (await testDrivers()).includes("postgres");

describe.skipIf(!postgresReachable)("openPostgres when PostgreSQL drops its connections", () => {
  const adminUrl = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
  let database: TestDatabase;
  let admin: postgres.Sql;
  let sql: SqlClient;
  let name: string;
  beforeAll(async () => {
    database = await createTestDatabase("postgres", { migrated: false });
    name = new URL(database.url).pathname.slice(1);
    admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    sql = await openPostgres(database.url, 4);
    await sql.query("create table t (n int primary key)");
  });
  afterAll(async () => {
    await sql?.close();
    await admin?.unsafe(`alter database "${name}" allow_connections true`).catch(() => {});
    await admin?.end();
    await database?.dispose();
  });

  const terminate = () =>
    admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`;

  it("a transaction whose connection is terminated is refused whole, and the next one reconnects", async () => {
    const refused = sql.transaction(async (tx) => {
      await tx.query("insert into t values (1)");
      await terminate();
      await tx.query("insert into t values (2)");
    });
    await expect(refused).rejects.toThrow(StorageUnavailableError);
    await expect(refused).rejects.toThrow(/PostgreSQL connection lost/);
    expect(await sql.query("select n from t order by n")).toEqual([]);
    await sql.transaction((tx) => tx.query("insert into t values (3)"));
    expect(await sql.query("select n from t order by n")).toEqual([{ n: 3 }]);
  });

  it("refuses quickly while PostgreSQL refuses connections, and works again after", async () => {
    await admin.unsafe(`alter database "${name}" allow_connections false`);
    await terminate();
    const startedAt = Date.now();
    await expect(sql.transaction((tx) => tx.query("insert into t values (5)"))).rejects.toThrow(
      StorageUnavailableError,
    );
    // The start deadline is 5 s; a refusal usually comes at once.
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    await admin.unsafe(`alter database "${name}" allow_connections true`);
    await sql.transaction((tx) => tx.query("insert into t values (5)"));
    expect(await sql.query("select n from t where n = 5")).toEqual([{ n: 5 }]);
  });
});
