import { describe, expect, it } from "vitest";
import { createAppDatabase } from "../src/database";

const unreachable = { DATABASE_URL: "postgres://postgres@127.0.0.1:9/none", PGLITE_DATA_DIR: "" };

describe("createAppDatabase", () => {
  it("does not keep a failure: the next open tries again (a database that comes up late)", async () => {
    const database = createAppDatabase(unreachable);
    const first = database.open();
    await expect(first).rejects.toThrow();
    const second = database.open();
    expect(second).not.toBe(first);
    await expect(second).rejects.toThrow();
  });

  it("opens and migrates once: every open gives the same handle, until it is closed", async () => {
    const database = createAppDatabase({ DATABASE_URL: undefined, PGLITE_DATA_DIR: "memory://" });
    const [first, second] = await Promise.all([database.open(), database.open()]);
    expect(second).toBe(first);
    const tables = await first.db.execute(
      "select count(*)::int as count from information_schema.tables where table_name = 'users'",
    );
    expect(JSON.stringify(tables)).toContain('"count":1');
    await database.close();
    const reopened = await database.open();
    expect(reopened).not.toBe(first);
    await database.close();
  });

  it("keeps nothing between two of them: each has its own handle", async () => {
    const config = { DATABASE_URL: undefined, PGLITE_DATA_DIR: "memory://" };
    const [a, b] = [createAppDatabase(config), createAppDatabase(config)];
    const [handleA, handleB] = await Promise.all([a.open(), b.open()]);
    expect(handleA).not.toBe(handleB);
    await Promise.all([a.close(), b.close()]);
  });
});
