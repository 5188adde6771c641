import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir } from "./sql";

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
