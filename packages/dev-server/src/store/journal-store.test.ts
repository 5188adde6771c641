import { spawn } from "node:child_process";
import {
  appendFileSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Changes } from "../engine/changes";
import type { RunRecord, StoredEvent } from "../types";
import {
  JournalStore,
  type JournalStoreOptions,
  journalLine,
  readJournal,
  snapshotPieces,
} from "./journal-store";
import { type StateImage, setRecord } from "./records";
import { StorageUnavailableError, type Store } from "./store";

/**
 * The journal store's own promises: what was acknowledged is there after a reopen, read the same;
 * a write torn by a crash is dropped and everything before it kept; a reopen leaves a snapshot and
 * an empty journal; a folder is used by one store at a time.
 */

const T0 = 1_700_000_000_000;
const folders: string[] = [];
const open: Store[] = [];
const children: ReturnType<typeof spawn>[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  for (const store of open.splice(0)) await store.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const parent = mkdtempSync(join(tmpdir(), "dev-server-journal-"));
  folders.push(parent);
  return join(parent, "state");
}

async function openAt(dir: string, options?: JournalStoreOptions): Promise<JournalStore> {
  const store = await JournalStore.open(dir, options);
  open.push(store);
  return store;
}

async function closeIt(store: Store): Promise<void> {
  open.splice(open.indexOf(store), 1);
  await store.close();
}

function run(runId: string, eventId: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    functionSlug: "app-fn",
    appUrl: "http://app/api",
    eventId,
    eventIds: [eventId],
    status: "Running",
    startedAt: T0,
    endedAt: null,
    output: null,
    error: null,
    cron: null,
    forceStepPlan: false,
    requestVersion: 1,
    ...over,
  };
}

/** Run `n`: its event, the run (keyed), a step, a queue item, a pause, a timeline entry. */
function start(n: number, key = `key-${n}`): Changes {
  const set = new Changes();
  const eventId = `E${String(n).padStart(3, "0")}`;
  const runId = `R${String(n).padStart(3, "0")}`;
  set.events.push({
    internalId: eventId,
    id: `sender-${n}`,
    name: n % 2 ? "app/odd" : "app/even",
    data: { n, nested: { list: [n, null, "x"] } },
    user: {},
    ts: T0 + n,
    v: null,
    receivedAt: T0 + n,
  });
  set.newRuns.push(run(runId, eventId));
  set.idempotencyKeys.set(runId, key);
  set.newSteps.push({ runId, stepId: "s1", position: 0, value: { data: n } });
  set.add({
    id: `Q${n}`,
    kind: "call",
    runId,
    stepId: "step",
    attempt: 0,
    dueAt: T0 + n,
    data: {},
  });
  set.addPauses.push({
    id: `P${n}`,
    runId,
    stepId: "w",
    kind: "wait",
    eventName: "app/go",
    expression: null,
    expiresAt: T0 + 1000,
    afterEventId: eventId,
  });
  set.timeline.push({
    runId,
    stepId: "s1",
    name: "s1",
    op: "StepRun",
    attempt: 0,
    startedAt: T0 + n,
    endedAt: null,
    output: null,
    error: null,
  });
  set.gcra.set(`g${n % 3}`, T0 + n);
  set.batches.set(`b${n % 2}`, { slug: "app-fn", eventIds: [eventId] });
  return set;
}

function finish(n: number): Changes {
  const set = new Changes();
  const runId = `R${String(n).padStart(3, "0")}`;
  set.updateRun(
    run(runId, `E${String(n).padStart(3, "0")}`, {
      status: "Completed",
      endedAt: T0 + 100 + n,
      output: { done: n },
    }),
  );
  set.remove(`Q${n}`);
  set.deletePauses.set(`P${n}`, {} as never);
  set.endTimeline.push({ runId, stepId: "s1", op: "StepRun", endedAt: T0 + 100 + n, output: n });
  return set;
}

/** Some of everything: apps, groups of sets, a held key, updates, a reset in between. */
async function workload(store: Store): Promise<void> {
  await store.saveApp(
    {
      url: "http://app/api",
      appId: "app",
      framework: "express",
      sdk: "js:v3",
      functionCount: 1,
      syncedAt: T0,
      error: null,
    },
    [{ slug: "app-fn", appUrl: "http://app/api", appId: "app", name: "fn", config: {} as never }],
  );
  await store.commit([start(1)], T0);
  await store.reset();
  await store.commit([start(2), start(3), start(4, "key-2")], T0);
  await store.commit([finish(2), start(5)], T0 + 10);
  await store.setAppError("http://app/api", "down");
  await store.commit([start(6), finish(3)], T0 + 20);
}

/** Everything a store answers, for comparing two stores. */
async function reads(store: Store) {
  const runs = await store.listRuns({ limit: 1000 });
  const events = await store.listEvents({ limit: 1000 });
  return {
    apps: await store.listApps(),
    functions: await store.listFunctions(),
    active: await store.listActiveRuns(),
    queue: await store.loadQueue(),
    pauses: await store.loadPauses(),
    gcra: [...(await store.loadGcraStates())],
    batches: await store.loadBatches(),
    events,
    summaries: await store.listEventSummaries({ includeInternal: true, limit: 1000 }),
    runs,
    byEvent: await Promise.all(events.map((e) => store.listRunsByEvent(e.internalId))),
    timelines: await Promise.all(runs.map((r) => store.timeline(r.runId))),
    queues: await Promise.all(runs.map((r) => store.queueOfRun(r.runId))),
  };
}

const journalOf = (dir: string) => readFileSync(join(dir, "journal.log"), "utf8");

describe("JournalStore", () => {
  it("answers the same after a reopen as before it, and as it did while running", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await workload(store);
    const before = await reads(store);
    expect(before.runs.map((r) => [r.runId, r.status])).toEqual([
      ["R006", "Running"],
      ["R005", "Running"],
      ["R003", "Completed"],
      ["R002", "Completed"],
    ]);
    expect(before.events.map((e) => e.internalId)).toEqual([
      "E006",
      "E005",
      "E004",
      "E003",
      "E002",
    ]);
    expect(before.apps[0]?.error).toBe("down");
    // 1 saveApp + 4 commits + 1 reset + 1 setAppError: one record each.
    expect(journalOf(dir).split("\n").filter(Boolean)).toHaveLength(7);
    await closeIt(store);
    const again = await openAt(dir);
    expect(await reads(again)).toEqual(before);
    await again.commit([start(7)], T0 + 30);
    const more = await reads(again);
    await closeIt(again);
    expect(await reads(await openAt(dir))).toEqual(more);
  });

  it("a write is in the journal, flushed, when its promise resolves; concurrent writes keep their order", async () => {
    const dir = folder();
    const store = await openAt(dir);
    const app = {
      url: "http://app/api",
      appId: "app",
      framework: null,
      sdk: null,
      functionCount: 0,
      syncedAt: T0,
      error: null,
    };
    const writes = [
      store.commit([start(1), start(2)], T0),
      store.saveApp(app, []),
      store.setAppError(app.url, "x"),
      store.commit([start(3)], T0),
    ];
    await writes[0];
    expect(readJournal(journalOf(dir)).map((r) => r.w.t)).toEqual(["commit"]);
    await Promise.all(writes);
    const records = readJournal(journalOf(dir));
    expect(records.map((r) => [r.seq, r.w.t])).toEqual([
      [1, "commit"],
      [2, "app"],
      [3, "appError"],
      [4, "commit"],
    ]);
    const first = records[0]?.w;
    expect(first?.t === "commit" && first.sets.length).toBe(2);
  });

  it("a refused write (an event id already stored) is not journaled", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await store.commit([start(1)], T0);
    await expect(store.commit([start(1, "other")], T0)).rejects.toThrow(/E001/);
    expect(readJournal(journalOf(dir))).toHaveLength(1);
    await store.commit([start(2)], T0);
    expect(readJournal(journalOf(dir)).map((r) => r.seq)).toEqual([1, 2]);
  });

  it("a full disk: a short write then ENOSPC is refused as storage unavailable, nothing of it kept, and the next write works", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await store.commit([start(1)], T0);
    // The disk takes ten bytes of the record, then refuses the rest, as a full one does.
    const handle = (store as unknown as { journal: FileHandle }).journal;
    const write = handle.write.bind(handle);
    let full = true;
    handle.write = (async (buffer: Buffer, offset: number, length: number) => {
      if (!full) return write(buffer, offset, length);
      if (offset === 0) return write(buffer, 0, 10);
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }) as FileHandle["write"];
    const refused = store.commit([start(2)], T0);
    await expect(refused).rejects.toThrow(StorageUnavailableError);
    await expect(refused).rejects.toThrow(/journal\.log could not be written: ENOSPC/);
    expect(readJournal(journalOf(dir)).map((r) => r.seq)).toEqual([1]);
    expect(journalOf(dir).endsWith("\n")).toBe(true);
    full = false;
    await store.commit([start(3)], T0);
    expect(readJournal(journalOf(dir)).map((r) => r.seq)).toEqual([1, 2]);
    await closeIt(store);
    const reopened = await openAt(dir);
    expect((await reopened.listEvents({ limit: 10 })).map((e) => e.internalId)).toHaveLength(2);
  });

  it("an I/O error on a synced append breaks the store: no later write is acknowledged", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await store.commit([start(1)], T0);
    const handle = (store as unknown as { journal: FileHandle }).journal;
    const write = handle.write.bind(handle);
    let failing = true;
    handle.write = (async (buffer: Buffer, offset: number, length: number) => {
      if (!failing) return write(buffer, offset, length);
      throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" });
    }) as FileHandle["write"];
    await expect(store.commit([start(2)], T0)).rejects.toThrow(/could not be flushed .*: EIO/);
    failing = false;
    await expect(store.commit([start(3)], T0)).rejects.toThrow(/could not be flushed .*: EIO/);
    expect(readJournal(journalOf(dir)).map((r) => r.seq)).toEqual([1]);
    await closeIt(store);
  });

  it("opens the journal so that each append is flushed as it is written (O_DSYNC)", async (context) => {
    if (process.platform !== "linux") {
      console.log("skipped: reads the descriptor's flags from /proc, which only Linux has");
      context.skip();
    }
    const store = await openAt(folder());
    const handle = (store as unknown as { journal: FileHandle }).journal;
    const info = readFileSync(`/proc/self/fdinfo/${handle.fd}`, "utf8");
    const flags = Number.parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? "0", 8);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
    await closeIt(store);
  });

  it("drops a torn or corrupt last record and keeps everything before it", async () => {
    for (const damage of [
      (line: string) => line.slice(0, line.length / 2),
      (line: string) => line.replace('"n":9', '"n":8'),
      (line: string) => `${line.slice(0, 20)}\n`,
    ]) {
      const dir = folder();
      const store = await openAt(dir);
      await store.commit([start(1)], T0);
      await store.commit([start(2)], T0);
      const kept = await reads(store);
      await closeIt(store);
      const line = journalLine(3, {
        t: "commit",
        now: T0,
        sets: [setRecord(start(9))],
      });
      appendFileSync(join(dir, "journal.log"), damage(line));
      const reopened = await openAt(dir);
      expect(await reads(reopened)).toEqual(kept);
      expect(await reopened.getEvent("E009")).toBeNull();
      // Writes go on after the dropped record, and survive the next reopen.
      await reopened.commit([start(3)], T0);
      await closeIt(reopened);
      expect((await (await openAt(dir)).getRun("R003"))?.status).toBe("Running");
    }
  });

  it("reads a journal with text beyond ASCII as written, and cuts a torn record off at its byte", async () => {
    const dir = folder();
    const store = await openAt(dir);
    const wide = (n: number) => {
      const set = start(n);
      (set.events[0] as StoredEvent).data = { text: `é ☃ 😀 ${n}`, clé: "\u2028" };
      return set;
    };
    await store.commit([wide(1)], T0);
    await store.commit([start(2)], T0);
    const kept = await reads(store);
    await closeIt(store);
    const good = statSync(join(dir, "journal.log")).size;
    const torn = journalLine(3, { t: "commit", now: T0, sets: [setRecord(wide(3))] });
    appendFileSync(join(dir, "journal.log"), torn.slice(0, torn.indexOf("😀") + 4));
    const reopened = await openAt(dir);
    expect(await reads(reopened)).toEqual(kept);
    expect((await reopened.getEvent("E001"))?.data).toEqual({ text: "é ☃ 😀 1", clé: "\u2028" });
    expect(statSync(join(dir, "journal.log")).size).toBe(good);
    await reopened.commit([wide(4)], T0);
    await closeIt(reopened);
    const again = await openAt(dir);
    expect((await again.getEvent("E004"))?.data).toEqual({ text: "é ☃ 😀 4", clé: "\u2028" });
  });

  it("a journal holding only a torn record, beside a snapshot, is emptied before the next append", async () => {
    const dir = folder();
    const first = await openAt(dir);
    await first.maintain();
    await closeIt(first);
    expect(existsSync(join(dir, "snapshot.json"))).toBe(true);
    const line = journalLine(1, { t: "commit", now: T0, sets: [setRecord(start(9))] });
    appendFileSync(join(dir, "journal.log"), line.slice(0, 40));
    const reopened = await openAt(dir);
    expect(statSync(join(dir, "journal.log")).size).toBe(0);
    await reopened.commit([start(1)], T0);
    await closeIt(reopened);
    const again = await openAt(dir);
    expect((await again.listRuns({ limit: 10 })).map((r) => r.runId)).toEqual(["R001"]);
  });

  it("refuses a journal whose damage is followed by good records", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await store.commit([start(1)], T0);
    await store.commit([start(2)], T0);
    await closeIt(store);
    const [one, two] = journalOf(dir).split("\n");
    writeFileSync(join(dir, "journal.log"), `${one?.replace("E001", "E00X")}\n${two}\n`);
    await expect(JournalStore.open(dir)).rejects.toThrow(/line 1 is corrupt/);
    // The failed open released the folder.
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it("compacts after open (maintain): a snapshot, an empty journal, the same reads; a journal the snapshot holds is not replayed twice", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await workload(store);
    const before = await reads(store);
    await closeIt(store);
    const journal = journalOf(dir);
    expect(statSync(join(dir, "journal.log")).size).toBeGreaterThan(0);
    const reopened = await openAt(dir);
    // Open replays and leaves the journal as it was: the server listens before compacting.
    expect(journalOf(dir)).toBe(journal);
    expect(await reads(reopened)).toEqual(before);
    await reopened.maintain();
    expect(statSync(join(dir, "journal.log")).size).toBe(0);
    expect(existsSync(join(dir, "snapshot.json"))).toBe(true);
    expect(existsSync(join(dir, "snapshot.json.tmp"))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, "snapshot.json"), "utf8")).seq).toBe(7);
    expect(await reads(reopened)).toEqual(before);
    await closeIt(reopened);
    // A crash after the snapshot's rename but before the journal was emptied: the old records are
    // still there, and the snapshot already holds them.
    writeFileSync(join(dir, "journal.log"), journal);
    const afterCrash = await openAt(dir);
    expect(await reads(afterCrash)).toEqual(before);
    expect((await afterCrash.timeline("R005")).map((e) => e.seq)).toEqual([1]);
  });

  it("a crash at any step of the compaction after open loses nothing acknowledged, and writes asked during it wait for it", async () => {
    const dir = folder();
    const store = await openAt(dir);
    await workload(store);
    await closeIt(store);
    // What a kill -9 at each step leaves: the folder's files as they are then (a killed process
    // leaves what it wrote; flushing is for the machine's crash, and each step flushes first).
    const crashes = new Map<string, string>();
    const reopened = await openAt(dir, {
      onCompactionStep: (step) => {
        const copy = `${dir}-${step.replace(/ /g, "-")}`;
        cpSync(dir, copy, { recursive: true });
        crashes.set(step, copy);
      },
    });
    const acknowledged = await reads(reopened);
    const compaction = reopened.maintain();
    // Asked while the compaction runs: acknowledged only after it, and journaled after the
    // snapshot, so none of the copies above holds it.
    const during = reopened.commit([start(7)], T0 + 30);
    await compaction;
    await during;
    expect([...crashes.keys()]).toEqual([
      "snapshot written",
      "snapshot renamed",
      "journal emptied",
    ]);
    expect(reopened.compactions).toBe(1);
    for (const [step, copy] of crashes) {
      const afterCrash = await openAt(copy);
      expect(await reads(afterCrash), `a crash once the ${step}`).toEqual(acknowledged);
      // The store opened after such a crash goes on: it compacts and keeps writing.
      await afterCrash.maintain();
      await afterCrash.commit([start(8)], T0 + 40);
      await closeIt(afterCrash);
      expect((await (await openAt(copy)).getRun("R008"))?.status).toBe("Running");
    }
    const after = await reads(reopened);
    expect(after.runs.map((r) => r.runId)).toContain("R007");
    await closeIt(reopened);
    expect(await reads(await openAt(dir))).toEqual(after);
  });

  it("writes the snapshot in pieces that make the same text as one JSON.stringify", () => {
    const state: StateImage = {
      apps: [],
      functions: [],
      events: Array.from({ length: 3000 }, (_, n) => ({
        ...(start(n).events[0] as StoredEvent),
        data: { n, text: 'é\u2028"quoted"', padding: "x".repeat(200) },
      })),
      idempotency: [["key", T0]],
      runs: [run("R1", "E1", { output: { nested: [1, null, { deep: true }] } })],
      steps: [],
      queue: [],
      pauses: [],
      timeline: [],
      gcra: [["g", 1.5]],
      batches: [["b", { slug: "fn", eventIds: ["E1"] }]],
    };
    const pieces = [...snapshotPieces(42, state)];
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join("")).toBe(JSON.stringify({ version: 1, seq: 42, state }));
  });

  it("compacts while running once the journal outgrows its bound and 4x the snapshot; nothing is lost", async () => {
    const dir = folder();
    const store = await openAt(dir, { compactAfterBytes: 4096 });
    const sizes: number[] = [];
    for (let n = 1; n <= 60; n++) {
      await store.commit([start(n)], T0 + n);
      sizes.push(statSync(join(dir, "journal.log")).size);
    }
    // It compacted, more than once, and each time before a write: the journal never grew far past
    // the bound (one record over, at most), and a snapshot holds what the journal dropped.
    expect(store.compactions).toBeGreaterThan(1);
    const snapshotBytes = statSync(join(dir, "snapshot.json")).size;
    const record = Math.max(...sizes.map((size, i) => size - (sizes[i - 1] ?? 0)));
    expect(Math.max(...sizes)).toBeLessThan(Math.max(4096, 4 * snapshotBytes) + 2 * record);
    expect(JSON.parse(readFileSync(join(dir, "snapshot.json"), "utf8")).seq).toBeGreaterThan(1);
    const before = await reads(store);
    expect(before.runs).toHaveLength(60);
    await closeIt(store);
    expect(await reads(await openAt(dir))).toEqual(before);
  });

  it("goes on when a snapshot cannot be written while running, and compacts once it can", async () => {
    const dir = folder();
    const store = await openAt(dir, { compactAfterBytes: 2048 });
    // The snapshot's temporary name taken by a folder: writing the snapshot fails, as on a full
    // disk, before anything replaced the old snapshot.
    mkdirSync(join(dir, "snapshot.json.tmp"));
    for (let n = 1; n <= 30; n++) await store.commit([start(n)], T0 + n);
    expect(store.compactions).toBe(0);
    expect(statSync(join(dir, "journal.log")).size).toBeGreaterThan(2048);
    rmSync(join(dir, "snapshot.json.tmp"), { recursive: true });
    for (let n = 31; n <= 60; n++) await store.commit([start(n)], T0 + n);
    expect(store.compactions).toBeGreaterThan(0);
    const before = await reads(store);
    expect(before.runs).toHaveLength(60);
    await closeIt(store);
    expect(await reads(await openAt(dir))).toEqual(before);
  });

  it("refuses a folder another store holds, in this process or another", async () => {
    const dir = folder();
    await openAt(dir);
    await expect(JournalStore.open(dir)).rejects.toThrow(/already open in this process/);
    await closeIt(open[0] as Store);
    expect(existsSync(`${dir}.lock`)).toBe(false);

    const owner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    children.push(owner);
    await new Promise((resolve) => owner.once("spawn", resolve));
    writeFileSync(`${dir}.lock`, String(owner.pid));
    await expect(JournalStore.open(dir)).rejects.toThrow(
      new RegExp(`in use by process ${owner.pid}`),
    );
    owner.kill();
    await new Promise((resolve) => owner.once("exit", resolve));
    const taken = await openAt(dir);
    expect(readFileSync(`${dir}.lock`, "utf8")).toBe(String(process.pid));
    await closeIt(taken);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});
