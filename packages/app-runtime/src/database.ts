import { setFlagsFromString } from "node:v8";
import { createDatabase, type DatabaseHandle, migrate } from "@repo/db";
import type { AppEnv } from "./env";
import { findMigrationsFolder } from "./migrations";

/**
 * An app's database: opened and migrated on first use, then the same handle every time. A failure
 * is not kept: the next use tries again, so an app whose database comes up late recovers by itself.
 * The state lives in the returned object, nowhere else: the app decides how long it lives (one per
 * process; see the apps' runtime modules).
 */
export interface AppDatabase {
  /** The database's location, as the environment names it (a URL, or `pglite:<folder>`). */
  readonly key: string;
  open(): Promise<DatabaseHandle>;
  close(): Promise<void>;
}

export interface AppDatabaseOptions {
  /** Where the SQL migrations are (default: the ones checked in under packages/db). */
  migrationsFolder?: string;
}

export function createAppDatabase(
  env: Pick<AppEnv, "DATABASE_URL" | "PGLITE_DATA_DIR"> & Partial<Pick<AppEnv, "NODE_ENV">>,
  options: AppDatabaseOptions = {},
): AppDatabase {
  let ready: Promise<DatabaseHandle> | undefined;
  const open = async (): Promise<DatabaseHandle> => {
    if (env.NODE_ENV === "development" && !env.DATABASE_URL) compileWasmForStartUp();
    const handle = createDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.PGLITE_DATA_DIR });
    try {
      await migrate(handle, {
        migrationsFolder: options.migrationsFolder ?? findMigrationsFolder(),
      });
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    return handle;
  };
  return {
    key: env.DATABASE_URL ?? `pglite:${env.PGLITE_DATA_DIR}`,
    open() {
      if (!ready) {
        const opening = open();
        ready = opening;
        opening.catch(() => {
          if (ready === opening) ready = undefined;
        });
      }
      return ready;
    },
    async close() {
      const closing = ready;
      ready = undefined;
      const handle = await closing?.catch(() => undefined);
      await handle?.close();
    },
  };
}

/**
 * Under a dev server, PGlite's WebAssembly (PostgreSQL) is compiled by V8's baseline compiler only
 * (Liftoff), without the optimising tier that recompiles hot functions in the background. Measured
 * on a 2-core machine, creating and migrating an embedded database took 5.7 s of CPU instead of
 * 8.8 s and left the process at 330 MB instead of 466 MB (reopening one: 2.9 s and 314 MB instead
 * of 3.5 s and 368 MB); the queries of one developer do not miss the faster code. Production keeps
 * V8's defaults. The flag cannot be given in NODE_OPTIONS, and `next dev` passes its own flags on
 * to its server process as NODE_OPTIONS, hence set here, before PGlite compiles its module; it
 * applies to WebAssembly compiled from then on in this process.
 */
function compileWasmForStartUp(): void {
  setFlagsFromString("--liftoff-only");
}
