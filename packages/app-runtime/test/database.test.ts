import { afterEach, describe, expect, it } from "vitest";
import { closeAppDatabase, openAppDatabase } from "../src/database";

const unreachable = { databaseUrl: "postgres://postgres@127.0.0.1:9/none", pgliteDataDir: "" };

describe("openAppDatabase", () => {
  afterEach(() => closeAppDatabase());

  it("does not keep a failure: the next call tries again (a database that comes up late)", async () => {
    const first = openAppDatabase(unreachable, () => {});
    await expect(first).rejects.toThrow();
    const second = openAppDatabase(unreachable, () => {});
    expect(second).not.toBe(first);
    await expect(second).rejects.toThrow();
  });

  it("refuses to switch a process to another database", async () => {
    const opened = openAppDatabase(
      { databaseUrl: undefined, pgliteDataDir: "memory://" },
      () => {},
    );
    expect(() => openAppDatabase(unreachable, () => {})).toThrow(/cannot switch/);
    await opened;
  });
});
