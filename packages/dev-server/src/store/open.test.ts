import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "./open";

/** `--storage` to a store: every form, and a PGlite folder of an earlier version kept on PGlite. */
describe("openStore", () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  function folder(): string {
    const parent = mkdtempSync(join(tmpdir(), "dev-server-open-"));
    folders.push(parent);
    return join(parent, "state");
  }

  it("memory:// is the memory store: no PGlite, no files", async () => {
    const store = await openStore("memory://");
    expect([store.kind, store.location]).toEqual(["memory", "memory://"]);
    await store.close();
  });

  it("a folder is the journal store; closing releases its lock", async () => {
    const dir = folder();
    const store = await openStore(dir);
    expect([store.kind, store.location]).toEqual(["journal", dir]);
    expect(existsSync(join(dir, "journal.log"))).toBe(true);
    expect(existsSync(`${dir}.lock`)).toBe(true);
    await store.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it("pglite:<folder> is SqlStore on PGlite, and so is a folder an earlier version left as PGlite", async () => {
    const dir = folder();
    const first = await openStore(`pglite:${dir}`);
    expect([first.kind, first.location]).toEqual(["pglite", dir]);
    await first.saveApp(
      {
        url: "http://app/api",
        appId: "app",
        framework: null,
        sdk: null,
        functionCount: 0,
        syncedAt: 1,
        error: null,
      },
      null,
    );
    await first.close();
    expect(existsSync(join(dir, "PG_VERSION"))).toBe(true);
    const again = await openStore(dir);
    expect(again.kind).toBe("pglite");
    expect((await again.listApps()).map((app) => app.url)).toEqual(["http://app/api"]);
    await again.close();
    expect(existsSync(join(dir, "journal.log"))).toBe(false);
    const inMemory = await openStore("pglite:memory://");
    expect(inMemory.kind).toBe("pglite");
    await inMemory.close();
  }, 120_000);
});
