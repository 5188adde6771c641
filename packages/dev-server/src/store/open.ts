import { existsSync } from "node:fs";
import { join } from "node:path";
import { JournalStore } from "./journal-store";
import { MemoryStore } from "./memory-store";
import { openPglite, openPostgres, type SqlClient } from "./sql";
import { SqlStore } from "./sql-store";
import type { Store } from "./store";

/**
 * The store `--storage` names:
 * - `postgres://...` (or `postgresql://`): PostgreSQL, shared;
 * - `memory://`: in memory only, gone when the process ends;
 * - `pglite:<folder>` (or `pglite:memory://`): embedded PGlite;
 * - any other folder: the journal store (state in memory, an append-only journal on disk), unless
 *   the folder holds a PGlite database made by an earlier version of this server (it has a
 *   `PG_VERSION` file): that one stays on PGlite, so its data is still there.
 */
export async function openStore(storage: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(storage)) return sqlStore(await openPostgres(storage));
  if (storage === "memory://") return new MemoryStore();
  if (storage.startsWith("pglite:"))
    return sqlStore(await openPglite(storage.slice("pglite:".length)));
  if (existsSync(join(storage, "PG_VERSION"))) return sqlStore(await openPglite(storage));
  return JournalStore.open(storage);
}

async function sqlStore(sql: SqlClient): Promise<Store> {
  try {
    return await SqlStore.open(sql);
  } catch (error) {
    await sql.close().catch(() => {});
    throw error;
  }
}
