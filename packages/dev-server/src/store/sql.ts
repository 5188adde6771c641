import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type postgres from "postgres";

/**
 * The little the store needs from a SQL database, implemented over postgres.js (a real PostgreSQL)
 * and over PGlite (embedded), so the dev server's state is durable either way.
 */
export interface SqlClient {
  readonly kind: "postgres" | "pglite";
  /** Where the data lives, for the banner (a URL without its password, or a folder). */
  readonly location: string;
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `work` in one transaction: all of its writes land, or none. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type SqlExecutor = Pick<SqlClient, "query">;

// The SQL clients are loaded when a store needs one: a start on the journal (the default) or in
// memory does not pay for loading them (about 40 ms of CPU, measured).

export async function openPostgres(url: string, maxConnections = 10): Promise<SqlClient> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, {
    max: maxConnections,
    onnotice: () => {},
  });
  const safe = new URL(url);
  if (safe.password) safe.password = "***";
  const run =
    (client: postgres.Sql | postgres.TransactionSql) =>
    async <T>(text: string, params: readonly unknown[] = []) =>
      (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
  return {
    kind: "postgres",
    location: safe.toString(),
    query: run(sql),
    transaction: (work) =>
      sql.begin((tx) => work({ query: run(tx) })) as Promise<Awaited<ReturnType<typeof work>>>,
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
