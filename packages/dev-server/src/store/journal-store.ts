import { isAscii } from "node:buffer";
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
 * and the journal is cut back to the end of its last good record (flushed), so that appends never
 * follow a dropped record. The store is then open: the server listens. Compacting what was replayed
 * is left to `maintain()`, which the server calls once it listens: a new snapshot (written to a
 * temporary file, flushed, renamed, the folder flushed), then an empty journal. It runs in turn
 * with the writes (those asked meanwhile wait for it), so every acknowledged write is in the
 * journal or in a snapshot at every step of it. Records a snapshot already holds are skipped by
 * their `seq`, so a crash between its two steps replays nothing twice; a crash before the rename
 * leaves the old snapshot and the whole journal.
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
  /**
   * Called at each step of a compaction, synchronously, once that step is on disk: tests stop
   * there to look at (or copy) the folder as a crash at that moment would leave it.
   */
  onCompactionStep?: (step: CompactionStep) => void;
}

/** The steps of a compaction, in order (see `JournalStoreOptions.onCompactionStep`). */
export type CompactionStep = "snapshot written" | "snapshot renamed" | "journal emptied";

/** Folders open in this process: the lock file only keeps other processes out. */
const openFolders = new Set<string>();

interface Snapshot {
  version: number;
  /** The last journal record the state includes. */
  seq: number;
  state: StateImage;
}

/** Roughly how much snapshot text is serialised between two writes of it (characters). */
const SNAPSHOT_PIECE = 256 * 1024;

/**
 * `JSON.stringify({ version, seq, state })`, the same text, in pieces of about `SNAPSHOT_PIECE`:
 * each list of the state is serialised item by item.
 */
export function* snapshotPieces(seq: number, state: StateImage): Generator<string> {
  let piece = `{"version":${SNAPSHOT_VERSION},"seq":${seq},"state":{`;
  let firstKey = true;
  for (const [key, list] of Object.entries(state) as [string, unknown[]][]) {
    piece += `${firstKey ? "" : ","}${JSON.stringify(key)}:[`;
    firstKey = false;
    for (let i = 0; i < list.length; i++) {
      piece += `${i === 0 ? "" : ","}${JSON.stringify(list[i]) ?? "null"}`;
      if (piece.length >= SNAPSHOT_PIECE) {
        yield piece;
        piece = "";
      }
    }
    piece += "]";
  }
  yield `${piece}}}`;
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
  readJournalUpTo(text, file, (record) => records.push(record));
  return records;
}

/**
 * `readJournal`, handing each record to `onRecord` as soon as it is read (a record applied at once
 * and then dropped is young garbage, cheap to collect, where a list of them all would keep every
 * one alive to the end); returns where the last good record ends (the length of text to keep).
 * After a bad line nothing more is handed over: what follows it is either nothing (a torn last
 * write) or good records, which throws.
 */
function readJournalUpTo(
  text: string,
  file: string,
  onRecord: (record: { seq: number; w: WriteRecord }) => void,
): number {
  let start = 0;
  let goodLength = 0;
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
    onRecord(record);
    goodLength = start;
  }
  return goodLength;
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
    private readonly onCompactionStep: (step: CompactionStep) => void,
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

  /** Opens (or creates) the store in `folder`: snapshot, replay (compaction: `maintain`). */
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
        options.onCompactionStep ?? (() => {}),
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
      const snapshot = JSON.parse(readText(snapshotFile)) as Snapshot;
      if (snapshot.version !== SNAPSHOT_VERSION) {
        throw new Error(
          `${snapshotFile}: snapshot version ${snapshot.version}, this server reads ${SNAPSHOT_VERSION}`,
        );
      }
      this.load(snapshot.state);
      this.seq = snapshot.seq;
    }
    const journalFile = join(this.dir, JOURNAL);
    const text = readText(journalFile);
    // Not checked again (`check`): each record was checked against the state it followed before
    // it was appended, and replay rebuilds that same state in the same order. A journal found
    // damaged (good records after a bad one) throws, and the open fails whole.
    const goodLength = readJournalUpTo(text, journalFile, (record) => {
      if (record.seq <= this.seq) return;
      this.apply(record.w);
      this.seq = record.seq;
    });
    // A torn or corrupt last record is cut off before anything is appended: appends never follow
    // a dropped record. (The text is UTF-8 decoded: its good part's length is counted in bytes.)
    const goodBytes = Buffer.byteLength(text.slice(0, goodLength));
    if (goodLength < text.length) {
      await this.journal.truncate(goodBytes);
      await this.journal.datasync();
    }
    this.size = goodBytes;
    // The journal may have just been created: its entry in the folder is made durable too.
    await syncFolder(this.dir);
    this.compactionPending = goodBytes > 0 || !existsSync(snapshotFile);
  }

  /** What was replayed at open, not yet in a snapshot (see `maintain`). */
  private compactionPending = false;

  /**
   * Compacts what the open replayed (the server calls this once it listens): in turn with the
   * writes, as a compaction while running. Resolves once it is done (or failed, see there).
   */
  maintain(): Promise<void> {
    if (!this.compactionPending) return Promise.resolve();
    this.compactionPending = false;
    const done = this.tail.then(async () => {
      // After the requests already waiting (the first one, say) are answered.
      await new Promise((next) => setImmediate(next));
      if (this.closed || this.broken) return;
      await this.compactWhileRunning();
    });
    this.tail = done.catch(() => {});
    return done.catch(() => {});
  }

  /**
   * Writes the state as the snapshot, then starts an empty journal. The snapshot is serialised and
   * written a piece at a time, so requests are answered in between (reads only: writes wait for
   * the compaction, so the state does not change under it).
   */
  private async compact(): Promise<void> {
    const temporary = join(this.dir, `${SNAPSHOT}.tmp`);
    let length = 0;
    const file = await open(temporary, "w");
    try {
      for (const piece of snapshotPieces(this.seq, this.image())) {
        await file.writeFile(piece);
        length += piece.length;
      }
      await file.sync();
    } finally {
      await file.close();
    }
    this.onCompactionStep("snapshot written");
    await rename(temporary, join(this.dir, SNAPSHOT));
    try {
      await syncFolder(this.dir);
      this.onCompactionStep("snapshot renamed");
      await this.journal.truncate(0);
      await this.journal.sync();
      this.onCompactionStep("journal emptied");
    } catch (error) {
      // The journal's length on disk is unknown now: appending after it could leave a gap.
      this.broken = this.unwritable("emptied after a snapshot (restart the server)", error);
      throw this.broken;
    }
    this.size = 0;
    this.compactAt = Math.max(this.compactAfterBytes, 4 * length);
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

/**
 * A file's text. JSON.stringify escapes nothing above ASCII, so a journal or snapshot is mostly all
 * ASCII: then its bytes are its characters, and decoding them as Latin-1 skips UTF-8's decoder
 * (about 50 ms less for a 26 MB journal, measured). Anything else is decoded as UTF-8.
 */
function readText(file: string): string {
  const bytes = readFileSync(file);
  return isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
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
