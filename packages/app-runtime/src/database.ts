import { createDatabase, type DatabaseHandle, migrate } from "@repo/db";

/**
 * One database per process, opened and migrated once. Kept on globalThis because Next (and Vite in
 * development) re-evaluate modules on every change: a module-level variable would open a second
 * connection pool, or fail to open a PGlite folder the first instance still holds.
 */

export interface DatabaseConfig {
  databaseUrl: string | undefined;
  pgliteDataDir: string;
}

interface DatabaseSlot {
  key: string;
  ready: Promise<DatabaseHandle>;
}

const slotKey = Symbol.for("@repo/app-runtime/database");
const globals = globalThis as Record<symbol, DatabaseSlot | undefined>;

function keyOf(config: DatabaseConfig): string {
  return config.databaseUrl ?? `pglite:${config.pgliteDataDir}`;
}

/**
 * Opens the database the config names, applies the migrations and hands the handle to `onReady`
 * (the functions' `configureDatabase`). Later calls get the same handle. A failure is not kept:
 * the next call tries again, so an app whose database comes up late recovers by itself.
 */
export function openAppDatabase(
  config: DatabaseConfig,
  onReady: (handle: DatabaseHandle) => void,
  options: { migrationsFolder?: string } = {},
): Promise<DatabaseHandle> {
  const key = keyOf(config);
  const current = globals[slotKey];
  if (current) {
    if (current.key !== key) {
      throw new Error(
        `This process already uses the database ${current.key}; it cannot switch to ${key}`,
      );
    }
    return current.ready;
  }
  const ready = (async () => {
    const handle = createDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.pgliteDataDir,
    });
    try {
      await migrate(handle, options);
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    onReady(handle);
    return handle;
  })();
  const slot: DatabaseSlot = { key, ready };
  globals[slotKey] = slot;
  ready.catch(() => {
    if (globals[slotKey] === slot) globals[slotKey] = undefined;
  });
  return ready;
}

/** Closes the process's database (tests, and shutdown). */
export async function closeAppDatabase(): Promise<void> {
  const slot = globals[slotKey];
  globals[slotKey] = undefined;
  const handle = await slot?.ready.catch(() => undefined);
  await handle?.close();
}
