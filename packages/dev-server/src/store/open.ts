import { MemoryStore } from "./memory-store";
import { openPglite, openPostgres, type SqlClient } from "./sql";
import { SqlStore } from "./sql-store";
import type { Store } from "./store";

/**
 * The store `--storage` names:
 * - `postgres://...` (or `postgresql://`): PostgreSQL, shared;
 * - `memory://`: in memory only, gone when the process ends;
 * - `pglite:<folder>` (or `pglite:memory://`): embedded PGlite;
 * - any other folder: embedded PGlite too.
 */
export async function openStore(storage: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(storage)) return sqlStore(openPostgres(storage));
  if (storage === "memory://") return new MemoryStore();
  if (storage.startsWith("pglite:"))
    return sqlStore(await openPglite(storage.slice("pglite:".length)));
  return sqlStore(await openPglite(storage));
}

async function sqlStore(sql: SqlClient): Promise<Store> {
  try {
    return await SqlStore.open(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    throw error;
  }
}
