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
  env: Pick<AppEnv, "DATABASE_URL" | "PGLITE_DATA_DIR">,
  options: AppDatabaseOptions = {},
): AppDatabase {
  let ready: Promise<DatabaseHandle> | undefined;
  const open = async (): Promise<DatabaseHandle> => {
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
