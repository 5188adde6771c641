import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type postgres from "postgres";
import { StorageUnavailableError } from "./store";

/**
 * The little the store needs from a SQL database, implemented over postgres.js (a real PostgreSQL)
 * and over PGlite (embedded), so the dev server's state is durable either way.
 */
export interface SqlClient {
  readonly kind: "postgres" | "pglite";
  /** Where the data lives, for the banner (a URL without its password, or a folder). */
  readonly location: string;
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Runs `work` in one transaction: all of its writes land, or none. A lost connection is a
   * `StorageUnavailableError` when nothing landed; when the COMMIT had landed, the answer is
   * `recover`'s (PostgreSQL only: PGlite is in the process).
   */
  transaction<T>(
    work: (tx: SqlExecutor) => Promise<T>,
    options?: TransactionOptions<T>,
  ): Promise<T>;
  close(): Promise<void>;
}

export type SqlExecutor = Pick<SqlClient, "query">;

export interface TransactionOptions<T> {
  /**
   * The transaction's answer when its connection was lost after its COMMIT reached the server
   * (so it landed, but its answer did not come back): computed again from the database. Without
   * it, such a transaction answers `undefined`.
   */
  recover?: (q: SqlExecutor) => Promise<T>;
}

/** SQLSTATEs of a lost or refused connection (class 08, shutdown, a database not taking any). */
const CONNECTION_SQLSTATES = new Set(["57P01", "57P02", "57P03", "55000", "53300"]);
/** postgres.js's own codes, and the socket's, for a connection that closed or never opened. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Whether `error` says the connection to PostgreSQL was lost or could not be made. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return CONNECTION_CODES.has(code) || CONNECTION_SQLSTATES.has(code) || code.startsWith("08");
}

function unavailable(error: unknown, what: string): StorageUnavailableError {
  const { code, message } = error as { code?: string; message?: string };
  return new StorageUnavailableError(
    `PostgreSQL ${what} (${code ? `${code}: ` : ""}${message ?? String(error)}); nothing of this request was kept, try again`,
  );
}

/**
 * How long to keep asking what became of a transaction whose connection was lost: a terminated
 * backend rolls back within milliseconds, and a server out of reach cannot say. The committer waits
 * meanwhile (commits are written in order), so this is short: past it the outcome is unknown.
 */
const OUTCOME_DEADLINE_MS = 2000;
/** Rejects after `ms` as a lost connection would (for `Promise.race`). */
function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(
      () =>
        reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: "CONNECT_TIMEOUT" })),
      ms,
    ).unref();
  });
}

/** How long a transaction may wait for a connection before it is given up (see `transaction`). */
const START_DEADLINE_MS = 5000;

// The SQL clients are loaded when a store needs one: a start on the journal (the default) or in
// memory does not pay for loading them (about 40 ms of CPU, measured).

export async function openPostgres(url: string, maxConnections = 10): Promise<SqlClient> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, {
    max: maxConnections,
    onnotice: () => {},
    // A lost connection is opened again on the next query, at most this long after the last
    // attempt (postgres.js's default backoff grows to 20 s, and queries wait for it meanwhile):
    // while PostgreSQL is out of reach, requests get their 503 in a fraction of a second.
    backoff: () => 0.25,
    connect_timeout: 5,
  });
  const safe = new URL(url);
  if (safe.password) safe.password = "***";
  const run =
    (client: postgres.Sql | postgres.TransactionSql) =>
    async <T>(text: string, params: readonly unknown[] = []) =>
      (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
  const query = async <T>(text: string, params: readonly unknown[] = []): Promise<T[]> => {
    try {
      return await run(sql)<T>(text, params);
    } catch (error) {
      if (isConnectionError(error)) throw unavailable(error, "is unreachable");
      throw error;
    }
  };

  /**
   * What became of transaction `xid` (`txid_status`): committed or aborted; asked on another
   * connection (postgres.js opens one), again while the server is out of reach or the killed
   * backend is still rolling it back, up to a deadline.
   */
  async function outcome(xid: string): Promise<"committed" | "aborted" | "unknown"> {
    const deadline = Date.now() + OUTCOME_DEADLINE_MS;
    for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 1000)) {
      try {
        // Bounded too: a query waits while postgres.js reconnects.
        const asked = run(sql)<{ status: string | null }>(
          "select txid_status($1::bigint) as status",
          [xid],
        );
        asked.catch(() => {});
        const [row] = await Promise.race([asked, timeout(Math.max(deadline - Date.now(), 0))]);
        if (row?.status === "committed") return "committed";
        if (row?.status !== "in progress") return "aborted";
      } catch (error) {
        if (!isConnectionError(error)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return "unknown";
  }

  return {
    kind: "postgres",
    location: safe.toString(),
    query,
    async transaction<T>(
      work: (tx: SqlExecutor) => Promise<T>,
      options: TransactionOptions<T> = {},
    ): Promise<T> {
      let xid: string | null = null;
      let abandoned = false;
      let timer: NodeJS.Timeout | undefined;
      // postgres.js keeps a query waiting while it reconnects, for as long as PostgreSQL refuses:
      // a transaction that has not started within START_DEADLINE_MS is given up (and rolled back
      // should it start later), so that the request gets its 503 instead of waiting.
      const notStarted = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abandoned = true;
          const error = new Error(`no connection within ${START_DEADLINE_MS / 1000} s`);
          reject(Object.assign(error, { code: "CONNECT_TIMEOUT" }));
        }, START_DEADLINE_MS);
      });
      try {
        const transaction = sql.begin(async (tx) => {
          // The transaction's id, so that its fate can be asked if the connection is lost.
          const [row] = await run(tx)<{ xid: string }>("select txid_current()::text as xid");
          if (abandoned) throw new Error("abandoned: it started after its deadline");
          clearTimeout(timer);
          xid = row?.xid ?? null;
          return work({ query: run(tx) });
        }) as Promise<T>;
        transaction.catch(() => {});
        return await Promise.race([transaction, notStarted]);
      } catch (error) {
        clearTimeout(timer);
        if (!isConnectionError(error)) throw error;
        // Lost mid-transaction: it was rolled back, unless its COMMIT had reached the server.
        const fate = xid === null ? "aborted" : await outcome(xid);
        if (fate === "committed") {
          return options.recover ? await options.recover({ query }) : (undefined as T);
        }
        if (fate === "unknown")
          throw new StorageUnavailableError(
            `PostgreSQL connection lost during a commit, and PostgreSQL stayed out of reach: it may have been kept (${(error as Error).message})`,
          );
        throw unavailable(error, xid === null ? "is unreachable" : "connection lost");
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

export async function openPglite(dataDir: string): Promise<SqlClient> {
  const inMemory = dataDir.startsWith("memory://");
  const location = inMemory ? dataDir : resolve(dataDir);
  const { PGlite } = await import("@electric-sql/pglite");
  if (!inMemory) mkdirSync(location, { recursive: true });
  const releaseLock = inMemory ? () => {} : lockDataDir(location);
  const db = inMemory ? new PGlite() : new PGlite(location);
  await db.waitReady;
  return {
    kind: "pglite",
    location,
    query: async (text, params = []) => (await db.query(text, params as unknown[])).rows as never,
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async (text, params = []) =>
            (await tx.query(text, params as unknown[])).rows as never,
        }),
      ),
    close: async () => {
      try {
        if (!db.closed) await db.close();
      } finally {
        releaseLock();
      }
    },
  };
}

/**
 * One process at a time may use a storage folder (PGlite's or the journal's); a second one would
 * corrupt it. A lock file beside the folder (`<folder>.lock`) holds the owner's pid: a live owner
 * other than this process refuses the folder with what to do, a dead one's lock is taken over.
 * Returns the release.
 */
export function lockDataDir(dir: string): () => void {
  const lockFile = join(dirname(dir), `${basename(dir)}.lock`);
  if (existsSync(lockFile)) {
    const owner = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `the dev server's storage ${dir} is in use by process ${owner} (one process per ` +
          "folder): stop that process, or give this one another --storage folder, " +
          "memory://, or a postgres:// URL",
      );
    }
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
