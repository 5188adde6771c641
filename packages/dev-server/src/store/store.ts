import type { ChangeSet } from "../engine/changes";
import type {
  AppRecord,
  FunctionRecord,
  Pause,
  QueueItem,
  RunRecord,
  StoredActiveRun,
  StoredEvent,
  TimelineEntry,
} from "../types";

/**
 * A write the storage could not take (a full or read-only disk, a lost database connection):
 * nothing of it was kept. The HTTP API answers it 503 with this message; the engine retries its
 * own work later.
 */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";
}

/**
 * The dev server's durable state. The engine keeps what it works on in memory and writes through
 * here: a unit of work (`ChangeSet`) lands in one transaction, or not at all. Reads serve the HTTP
 * API and the engine's start. `SqlStore` implements it on PostgreSQL or PGlite, `MemoryStore` in
 * memory, `JournalStore` in memory with an append-only journal on disk (`open.ts` picks one).
 */
export interface Store {
  readonly kind: "postgres" | "pglite" | "memory" | "journal";
  /** Where the data lives, for the banner (a URL without its password, or a folder). */
  readonly location: string;
  close(): Promise<void>;
  /**
   * Work a store leaves until the server is listening (the journal store's compaction of what it
   * replayed at open). Writes asked meanwhile wait for it; reads do not. Resolves once it is done.
   */
  maintain?(): Promise<void>;

  /**
   * Writes change sets in one transaction, in order. A new run whose idempotency key is held
   * (and unexpired at `now`) is not created, nor anything of it: for each set, the ids of those.
   */
  commit(sets: readonly ChangeSet[], now: number): Promise<Set<string>[]>;
  /** Deletes every event, run and piece of scheduled work (test mode's reset); keeps apps. */
  reset(): Promise<void>;

  // apps and functions
  /** Saves an app; with `functions`, they replace the app's registered functions. */
  saveApp(app: AppRecord, functions: StoredFunction[] | null): Promise<void>;
  setAppError(url: string, error: string): Promise<void>;
  listApps(): Promise<AppRecord[]>;
  listFunctions(): Promise<StoredFunction[]>;

  // what the engine loads at start
  listActiveRuns(): Promise<StoredActiveRun[]>;
  loadQueue(): Promise<QueueItem[]>;
  loadPauses(): Promise<Pause[]>;
  loadGcraStates(): Promise<Map<string, number>>;
  loadBatches(): Promise<{ key: string; functionSlug: string; eventIds: string[] }[]>;

  // reads
  getEvent(internalId: string): Promise<StoredEvent | null>;
  /** The events with these ids that exist, in the order asked. */
  getEvents(internalIds: readonly string[]): Promise<StoredEvent[]>;
  listEvents(filter: EventFilter): Promise<StoredEvent[]>;
  /** Events newest first with how many runs each started (the UI's list). */
  listEventSummaries(filter: EventSummaryFilter): Promise<EventSummary[]>;
  getRun(runId: string): Promise<RunRecord | null>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  listRunsByEvent(eventId: string): Promise<RunRecord[]>;
  timeline(runId: string): Promise<TimelineEntry[]>;
  queueOfRun(runId: string): Promise<QueueItem[]>;
}

/**
 * A function as stored: its options are parsed again from the config when it is loaded, and its
 * internal id derived again from its slug.
 */
export type StoredFunction = Omit<FunctionRecord, "options" | "internalId">;

export interface EventFilter {
  name?: string | undefined;
  limit: number;
  /** Only events older than this internal id (paging). */
  cursor?: string | undefined;
  receivedAfter?: number | undefined;
  receivedBefore?: number | undefined;
}

export interface EventSummaryFilter {
  /** A case-insensitive substring of the name. */
  nameContains?: string | undefined;
  /** The server's own `inngest/...` events too. */
  includeInternal: boolean;
  limit: number;
}

export interface EventSummary {
  internalId: string;
  name: string;
  data: Record<string, unknown>;
  receivedAt: number;
  runCount: number;
}

export interface RunFilter {
  status?: string | undefined;
  functionSlug?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}
