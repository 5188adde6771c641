import { createDatabaseFromEnv, type Database, type DatabaseHandle, migrate } from "@repo/db";

/**
 * Where the functions get their database. An app configures it once at start (after applying the
 * migrations); when nothing was configured, the first use opens the database that DATABASE_URL (or
 * the embedded default) names and migrates it. Kept on globalThis so that a framework's module
 * reloading in development does not open a second connection pool, or a second PGlite.
 */
interface DatabaseSlot {
  handle?: DatabaseHandle;
  ready?: Promise<DatabaseHandle>;
}

const slotKey = Symbol.for("@repo/functions/database");
const globals = globalThis as Record<symbol, DatabaseSlot | undefined>;
const slot: DatabaseSlot = globals[slotKey] ?? {};
globals[slotKey] = slot;

export function configureDatabase(handle: DatabaseHandle): void {
  slot.handle = handle;
  slot.ready = Promise.resolve(handle);
}

export async function getDatabase(): Promise<Database> {
  slot.ready ??= (async () => {
    const handle = createDatabaseFromEnv();
    await migrate(handle);
    slot.handle = handle;
    return handle;
  })().catch((error: unknown) => {
    slot.ready = undefined; // let the next call try again (the database may come up later)
    throw error;
  });
  return (await slot.ready).db;
}
