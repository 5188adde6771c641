import { constants, existsSync, mkdirSync, readFileSync } from "node:fs";
import { type FileHandle, open, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { crc32 } from "node:zlib";
import type { ChangeSet } from "../engine/changes";
import type { AppRecord } from "../types";
import { MemoryStore } from "./memory-store";
import { appRecord, type StateImage, setRecord, type WriteRecord } from "./records";
import { lockDataDir } from "./sql";
import { StorageUnavailableError, type StoredFunction } from "./store";

/**
 * The store in memory, made durable by an append-only journal in its folder. Every write is a
 * record appended to `journal.log` and flushed before it is applied in memory and before its
 * promise resolves: one append per call, flushed by the append itself (the file is opened with
 * `O_DSYNC`, so the write returns once its data is on disk: one trip to libuv's thread pool instead
 * of two, which was most of an event's way to its first call), and the engine's committer already
 * hands `commit` a whole group of change sets. Writes are made one at a time, in the order
 * they were asked for.
 *
 * A record is one line: the CRC-32 of its JSON (8 hex digits), a space, the JSON
 * (`{"seq":n,"w":WriteRecord}`). At open, `snapshot.json` (the state after record `seq`) is loaded,
 * the journal's later records are replayed up to the first torn or corrupt one (a crash mid-write),
 * and the store compacts: a new snapshot (written to a temporary file, flushed, renamed, the folder
 * flushed), then an empty journal. Records a snapshot already holds are skipped by their `seq`, so a
 * crash between the two steps replays nothing twice.
 *
 * It compacts the same way while it runs, in turn with the writes (they wait for it), once the
 * journal has grown past `compactAfterBytes` and past four times the last snapshot: a restart
 * never replays more than that, and the cost of writing snapshots stays in proportion to what was
 * written.
 */

const SNAPSHOT = "snapshot.json";
/**
 * Appends that are flushed as they are written, where the platform has `O_DSYNC` (Linux, macOS);
 * elsewhere each append is followed by an `fdatasync`.
 */
const SYNCED_APPENDS = constants.O_DSYNC !== undefined;
const JOURNAL_FLAGS = SYNCED_APPENDS
  ? constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC
  : "a+";
const JOURNAL = "journal.log";
const SNAPSHOT_VERSION = 1;
/** The journal's size at which a running store compacts, at least (see the class comment). */
const COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

export interface JournalStoreOptions {
  /** Compact while running once the journal is this large (and 4x the last snapshot). */
  compactAfterBytes?: number;
}

/** Folders open in this process: the lock file only keeps other processes out. */
const openFolders = new Set<string>();

interface Snapshot {
  version: number;
  /** The last journal record the state includes. */
  seq: number;
  state: StateImage;
}

/** A journal line for a record: `crc32hex json\n`. */
export function journalLine(seq: number, write: WriteRecord): string {
  const json = JSON.stringify({ seq, w: write });
  return `${crc32(json).toString(16).padStart(8, "0")} ${json}\n`;
}

/**
 * The records of a journal's text, in order. A last line that is torn (no newline) or does not
 * match its checksum is a write the process died in: it is dropped. A bad line with good records
 * after it is damage, not a crash: that throws rather than drop acknowledged writes.
 */
export function readJournal(text: string, file = JOURNAL): { seq: number; w: WriteRecord }[] {
  const records: { seq: number; w: WriteRecord }[] = [];
  let start = 0;
  let bad = -1;
  for (let number = 1; start < text.length; number++) {
    const end = text.indexOf("\n", start);
    if (end < 0) break;
    const line = text.slice(start, end);
    start = end + 1;
    const record = parseLine(line);
    if (!record) {
      if (bad < 0) bad = number;
      continue;
    }
    if (bad >= 0) {
      throw new Error(
        `${file}: line ${bad} is corrupt and good records follow it; not opening it rather than losing them`,
      );
    }
    records.push(record);
  }
  return records;
}

function parseLine(line: string): { seq: number; w: WriteRecord } | null {
  const json = line.slice(9);
  if (line[8] !== " " || Number.parseInt(line.slice(0, 8), 16) !== crc32(json)) return null;
  try {
    return JSON.parse(json) as { seq: number; w: WriteRecord };
  } catch {
    return null;
  }
}

export class JournalStore extends MemoryStore {
  /** The last record written (or replayed). */
  private seq = 0;
  /** Writes, one after another: each waits for the one before it. */
  private tail: Promise<unknown> = Promise.resolve();
  /** The journal's length once its last record was flushed: a failed append is cut back to it. */
  private size = 0;
  private broken: Error | null = null;
  private closed = false;
  /** The journal's size from which the next write is preceded by a compaction. */
  private compactAt: number;

  private constructor(
    private readonly dir: string,
    private journal: FileHandle,
    private readonly release: () => void,
    private readonly compactAfterBytes: number,
  ) {
    super();
    this.compactAt = compactAfterBytes;
  }

  override get kind(): "memory" | "journal" {
    return "journal";
  }

  override get location(): string {
    return this.dir;
  }

  /** Opens (or creates) the store in `folder`: snapshot, replay, compaction. */
  static async open(folder: string, options: JournalStoreOptions = {}): Promise<JournalStore> {
    const dir = resolve(folder);
    mkdirSync(dir, { recursive: true });
    if (openFolders.has(dir)) {
      throw new Error(`the dev server's storage ${dir} is already open in this process`);
    }
    const unlock = lockDataDir(dir);
    openFolders.add(dir);
    const release = () => {
      openFolders.delete(dir);
      unlock();
    };
    let journal: FileHandle | undefined;
    try {
      journal = await open(join(dir, JOURNAL), JOURNAL_FLAGS);
      const store = new JournalStore(
        dir,
        journal,
        release,
        options.compactAfterBytes ?? COMPACT_AFTER_BYTES,
      );
      await store.recover();
      return store;
    } catch (error) {
      await journal?.close().catch(() => {});
      release();
      throw error;
    }
  }

  private async recover(): Promise<void> {
    const snapshotFile = join(this.dir, SNAPSHOT);
    if (existsSync(snapshotFile)) {
      const snapshot = JSON.parse(readFileSync(snapshotFile, "utf8")) as Snapshot;
      if (snapshot.version !== SNAPSHOT_VERSION) {
        throw new Error(
          `${snapshotFile}: snapshot version ${snapshot.version}, this server reads ${SNAPSHOT_VERSION}`,
        );
      }
      this.load(snapshot.state);
      this.seq = snapshot.seq;
    }
    const journalFile = join(this.dir, JOURNAL);
    const text = readFileSync(journalFile, "utf8");
    const records = readJournal(text, journalFile);
    for (const record of records) {
      if (record.seq <= this.seq) continue;
      try {
        this.check(record.w);
      } catch {
        // A write is checked before it is appended, so this does not happen; were it to, the
        // record is skipped whole, as a refused write is.
        this.seq = record.seq;
        continue;
      }
      this.apply(record.w);
      this.seq = record.seq;
    }
    // Anything in the journal (a torn record too) goes into a new snapshot and the journal starts
    // empty: appends never follow a dropped record.
    if (text.length > 0 || !existsSync(snapshotFile)) await this.compact();
    else {
      this.size = 0;
      // The journal may have just been created: its entry in the folder is made durable too.
      await syncFolder(this.dir);
    }
  }

  /** Writes the state as the snapshot, then starts an empty journal. */
  private async compact(): Promise<void> {
    const snapshot: Snapshot = { version: SNAPSHOT_VERSION, seq: this.seq, state: this.image() };
    const temporary = join(this.dir, `${SNAPSHOT}.tmp`);
    const text = JSON.stringify(snapshot);
    const file = await open(temporary, "w");
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, join(this.dir, SNAPSHOT));
    try {
      await syncFolder(this.dir);
      await this.journal.truncate(0);
      await this.journal.sync();
    } catch (error) {
      // The journal's length on disk is unknown now: appending after it could leave a gap.
      this.broken = this.unwritable("emptied after a snapshot (restart the server)", error);
      throw this.broken;
    }
    this.size = 0;
    this.compactAt = Math.max(this.compactAfterBytes, 4 * text.length);
  }

  /**
   * A compaction while running, before the next write (which waits for it). If writing the
   * snapshot fails (a full disk), the journal is still whole (a snapshot replaces the old one only
   * by a rename, and records it holds are skipped by their seq): the store goes on, and tries
   * again once the journal has doubled. A failure after the rename breaks the store (see compact).
   */
  private async compactWhileRunning(): Promise<void> {
    try {
      await this.compact();
      this.compactionCount++;
    } catch {
      if (this.broken) throw this.broken;
      this.compactAt = 2 * this.size;
    }
  }

  private compactionCount = 0;

  /** Compactions done while running (for tests and figures). */
  get compactions(): number {
    return this.compactionCount;
  }

  override commit(sets: readonly ChangeSet[], now: number): Promise<Set<string>[]> {
    // Copied now: what is journaled and applied is the sets as they were asked.
    const write: WriteRecord = { t: "commit", now, sets: sets.map(setRecord) };
    return this.write(write);
  }

  override async reset(): Promise<void> {
    await this.write({ t: "reset" });
  }

  override async saveApp(app: AppRecord, functions: StoredFunction[] | null): Promise<void> {
    await this.write(appRecord(app, functions));
  }

  override async setAppError(url: string, error: string): Promise<void> {
    await this.write({ t: "appError", url: String(url), error: String(error) });
  }

  /** Checks, appends and flushes, then applies; after every write asked before it. */
  private write(record: WriteRecord): Promise<Set<string>[]> {
    const done = this.tail.then(async () => {
      if (this.closed) throw new Error(`the store at ${this.dir} is closed`);
      if (this.broken) throw this.broken;
      if (this.size >= this.compactAt) {
        await this.compactWhileRunning();
        if (this.broken) throw this.broken;
      }
      this.check(record);
      const line = Buffer.from(journalLine(this.seq + 1, record));
      try {
        // A nearly full disk takes part of a write and refuses the rest on the next one: the
        // record is only written when all of it is.
        for (let written = 0; written < line.length; ) {
          const { bytesWritten } = await this.journal.write(line, written, line.length - written);
          written += bytesWritten;
        }
      } catch (error) {
        if (SYNCED_APPENDS && (error as NodeJS.ErrnoException).code === "EIO") {
          // The append was also its flush: as after a failed flush, what the disk holds is unknown.
          this.broken = this.unwritable(
            "flushed (restart the server once the disk is fixed)",
            error,
          );
          throw this.broken;
        }
        await this.cutBack(error);
        throw this.unwritable("written", error);
      }
      try {
        if (!SYNCED_APPENDS) await this.journal.datasync();
      } catch (error) {
        // After a failed flush, what the disk holds is unknown: no write is acknowledged again.
        this.broken = this.unwritable("flushed (restart the server once the disk is fixed)", error);
        throw this.broken;
      }
      this.seq++;
      this.size += line.length;
      return this.apply(record);
    });
    this.tail = done.catch(() => {});
    return done;
  }

  private unwritable(what: string, cause: unknown): StorageUnavailableError {
    const reason = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    return new StorageUnavailableError(
      `the journal ${join(this.dir, JOURNAL)} could not be ${what}: ${reason}`,
      { cause },
    );
  }

  /** A failed append may have left part of a record: the journal is cut back to its last good end. */
  private async cutBack(cause: unknown): Promise<void> {
    try {
      await this.journal.truncate(this.size);
      await this.journal.datasync();
    } catch {
      this.broken = this.unwritable("repaired (restart the server once the disk is fixed)", cause);
    }
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    try {
      await this.journal.close();
    } finally {
      this.release();
    }
  }
}

/** Flushes a folder's entries (a rename in it), where the platform allows opening a folder. */
async function syncFolder(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL") throw error;
  } finally {
    await handle?.close();
  }
}
