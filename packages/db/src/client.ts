import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;

/** The one database type the functions see, whichever driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export type DatabaseDriver = "postgres" | "pglite";

export interface DatabaseOptions {
  /** A PostgreSQL URL. When absent, an embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /**
   * Where PGlite keeps its files (ignored with `databaseUrl`). Relative paths resolve against the
   * working directory. `memory://` keeps the database in memory. Default: `.data/pglite`.
   */
  dataDir?: string | undefined;
  /** Connections in the postgres.js pool (default 10). */
  maxConnections?: number | undefined;
}

export interface DatabaseHandle {
  db: Database;
  driver: DatabaseDriver;
  /** Where the data lives: the URL without its password, or the PGlite folder. */
  location: string;
  /** The raw client, for migrations and for tests that need to reach under Drizzle. */
  client: { kind: "postgres"; sql: postgres.Sql; url: string } | { kind: "pglite"; pglite: PGlite };
  close(): Promise<void>;
}

export const DEFAULT_PGLITE_DIR = ".data/pglite";

export function createDatabase(options: DatabaseOptions = {}): DatabaseHandle {
  if (options.databaseUrl) return createPostgres(options.databaseUrl, options.maxConnections);
  return createPglite(options.dataDir ?? DEFAULT_PGLITE_DIR);
}

/** `createDatabase` configured from `DATABASE_URL` and `PGLITE_DATA_DIR`. */
export function createDatabaseFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseHandle {
  return createDatabase({
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.PGLITE_DATA_DIR || undefined,
  });
}

function createPostgres(databaseUrl: string, maxConnections = 10): DatabaseHandle {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(
      `DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)`,
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new Error(
      `DATABASE_URL must start with postgres:// or postgresql://, got ${url.protocol}`,
    );
  }
  const sql = postgres(databaseUrl, { max: maxConnections, onnotice: () => {} });
  const db = drizzlePostgres(sql, { schema }) as unknown as Database;
  url.password = url.password ? "***" : "";
  return {
    db,
    driver: "postgres",
    location: url.toString(),
    client: { kind: "postgres", sql, url: databaseUrl },
    close: () => sql.end({ timeout: 5 }),
  };
}

function createPglite(dataDir: string): DatabaseHandle {
  const inMemory = dataDir.startsWith("memory://");
  const location = inMemory ? dataDir : resolve(dataDir);
  const releaseLock = inMemory ? () => {} : lockDataDir(location);
  const pglite = inMemory ? new PGlite() : new PGlite(location);
  const db = drizzlePglite(pglite, { schema }) as unknown as Database;
  return {
    db,
    driver: "pglite",
    location,
    client: { kind: "pglite", pglite },
    close: async () => {
      try {
        if (!pglite.closed) await pglite.close();
      } finally {
        releaseLock();
      }
    },
  };
}

/**
 * PGlite is a single-process database: two processes writing one folder corrupt it. A lock file
 * with the owner's pid turns that mistake into a clear error.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lockFile = resolve(dir, "..", `${dir.split("/").pop()}.lock`);
  if (existsSync(lockFile)) {
    const owner = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${owner}. PGlite allows one process ` +
          `per folder: stop that process, set PGLITE_DATA_DIR to another folder, or set DATABASE_URL.`,
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
