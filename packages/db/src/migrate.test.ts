import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "./client";
import { migrate } from "./migrate";
import { emailOutbox, users } from "./schema";
import { createTestDatabase, type TestDatabase, testDrivers } from "./testing";

const drivers = await testDrivers();

const expectedTables = [
  "analytics_events",
  "approval_requests",
  "dataset_records",
  "datasets",
  "email_outbox",
  "event_batches",
  "function_failures",
  "job_attempts",
  "profiles",
  "reports",
  "sync_runs",
  "task_runs",
  "users",
  "webhook_log",
];

async function tableNames(handle: DatabaseHandle): Promise<string[]> {
  const rows = await handle.db.execute<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  return (Array.isArray(rows) ? rows : (rows as { rows: { table_name: string }[] }).rows).map(
    (row) => row.table_name,
  );
}

describe.each(drivers)("migrations on %s", (driver) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.dispose();
    database = undefined;
  });

  it("apply from empty, then again without harm", { timeout: 60_000 }, async () => {
    database = await createTestDatabase(driver, { migrated: false });
    expect(await tableNames(database)).toEqual([]);

    await migrate(database);
    expect(await tableNames(database)).toEqual(expectedTables);
    await database.db.insert(users).values({ id: "u1", email: "ada@example.com", name: "Ada" });

    await migrate(database);
    expect(await tableNames(database)).toEqual(expectedTables);
    // The second run neither failed nor wiped data.
    expect(await database.db.select().from(users)).toHaveLength(1);
  });

  it("enforces the unique keys that make functions idempotent", { timeout: 60_000 }, async () => {
    database = await createTestDatabase(driver);
    const email = { dedupeKey: "welcome:u1", recipient: "a@b.c", template: "welcome", payload: {} };
    await database.db.insert(emailOutbox).values(email);
    await expect(database.db.insert(emailOutbox).values(email)).rejects.toThrow();
    const inserted = await database.db
      .insert(emailOutbox)
      .values(email)
      .onConflictDoNothing()
      .returning();
    expect(inserted).toEqual([]);
    expect(await database.db.select().from(emailOutbox)).toHaveLength(1);
  });
});

describe.skipIf(!drivers.includes("postgres"))("migrations on postgres, concurrently", () => {
  it("serialise when several processes migrate one database at once", {
    timeout: 60_000,
  }, async () => {
    const database = await createTestDatabase("postgres", { migrated: false });
    const others = [1, 2, 3].map(() =>
      createDatabase({ databaseUrl: database.url, maxConnections: 1 }),
    );
    try {
      await Promise.all([database, ...others].map((handle) => migrate(handle)));
      expect(await tableNames(database)).toEqual(expectedTables);
    } finally {
      await Promise.all(others.map((handle) => handle.close()));
      await database.dispose();
    }
  });
});

describe("embedded PGlite data folder", () => {
  const root = mkdtempSync(join(tmpdir(), "repo-db-folder-"));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("keeps data across a reopen of the same folder", { timeout: 60_000 }, async () => {
    const dataDir = join(root, "data");
    const first = createDatabase({ dataDir });
    await migrate(first);
    await first.db.insert(users).values({ id: "u1", email: "ada@example.com", name: "Ada" });
    await first.close();

    const second = createDatabase({ dataDir });
    try {
      await migrate(second);
      expect(await second.db.select({ id: users.id }).from(users)).toEqual([{ id: "u1" }]);
    } finally {
      await second.close();
    }
  });

  it("refuses a folder that another live process holds", async () => {
    const dataDir = join(root, "held");
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      createDatabase({ dataDir: join(root, "probe") }).close();
      writeFileSync(join(root, "held.lock"), String(holder.pid));
      expect(() => createDatabase({ dataDir })).toThrow(
        new RegExp(`in use by process ${holder.pid}.*PGLITE_DATA_DIR`),
      );
    } finally {
      holder.kill();
    }
  });
});

describe("configuration errors", () => {
  it.each([
    ["not a url", /DATABASE_URL is not a valid URL/],
    ["mysql://root@localhost/db", /DATABASE_URL must start with postgres:\/\//],
  ])("DATABASE_URL=%s is refused with a clear message", (databaseUrl, message) => {
    expect(() => createDatabase({ databaseUrl })).toThrow(message);
  });
});
