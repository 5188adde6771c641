import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createDatabase, type DatabaseDriver, type DatabaseHandle } from "./client";
import { migrate } from "./migrate";

/**
 * Test support: every test file gets databases of its own (a fresh PostgreSQL database, a fresh
 * PGlite folder), so suites run in parallel without seeing each other's rows.
 */

const adminUrl = () =>
  process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

let availability: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

async function checkPostgres() {
  const sql = postgres(adminUrl(), { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return { ok: true } as const;
  } catch (error) {
    return { ok: false, reason: (error as Error).message } as const;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/**
 * The drivers to test against: PGlite always, PostgreSQL when reachable at TEST_DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres). With TEST_REQUIRE_POSTGRES=1 (CI sets it)
 * an unreachable PostgreSQL is an error instead of a skip.
 */
export async function testDrivers(): Promise<DatabaseDriver[]> {
  availability ??= checkPostgres();
  const result = await availability;
  if (result.ok) return ["postgres", "pglite"];
  const message = `PostgreSQL at ${adminUrl()} is unreachable (${result.reason})`;
  if (process.env.TEST_REQUIRE_POSTGRES === "1") {
    throw new Error(`${message}, and TEST_REQUIRE_POSTGRES=1 requires it.`);
  }
  console.warn(`[@repo/db] ${message}: skipping the PostgreSQL variant, testing PGlite only.`);
  return ["pglite"];
}

export interface TestDatabase extends DatabaseHandle {
  /** PostgreSQL: the URL of the fresh database; PGlite: its folder. */
  url: string;
  /** Closes the connection and deletes the database. */
  dispose(): Promise<void>;
}

/** A fresh, empty database for one test file. Pass `migrated: false` to skip the migrations. */
export async function createTestDatabase(
  driver: DatabaseDriver,
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const handle = driver === "postgres" ? await createPostgresDatabase() : createPgliteDatabase();
  if (options.migrated !== false) await migrate(handle);
  return handle;
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const handle = createDatabase({ databaseUrl: url.toString(), maxConnections: 5 });
  return {
    ...handle,
    url: url.toString(),
    async dispose() {
      await handle.close();
      const cleanup = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

function createPgliteDatabase(): TestDatabase {
  const root = mkdtempSync(join(tmpdir(), "repo-db-test-"));
  const dir = join(root, "pglite");
  const handle = createDatabase({ dataDir: dir });
  return {
    ...handle,
    url: dir,
    async dispose() {
      await handle.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
