import { type Database, syncRuns } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { userSyncRequested } from "../events";

export const SYNC_RATE_LIMIT = { key: "event.data.userId", limit: 5, period: "1m" } as const;

/**
 * Rate limited per user, 5 a minute. Inngest spaces them: one run starts at once (its burst is
 * floor(limit / 10) = 0 more), then one more every 12 s; an event over the limit starts no run
 * (the event is still stored, the run is Skipped). Each run that did start leaves one row.
 */
export function defineSyncUserData({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    {
      id: "sync-user-data",
      name: "Sync user data",
      triggers: [userSyncRequested],
      rateLimit: SYNC_RATE_LIMIT,
    },
    async ({ event, step, logger, runId }) => {
      const { userId } = event.data;
      const synced = await step.run("sync", async () => {
        const db = await database();
        const [row] = await db
          .insert(syncRuns)
          .values({ eventId: event.id ?? runId, userId, runId })
          .onConflictDoNothing({ target: syncRuns.eventId })
          .returning({ id: syncRuns.id });
        return { syncRunId: row?.id ?? null };
      });
      logger.info("sync-user-data: done", { runId, eventId: event.id, userId, ...synced });
      return { userId, ...synced };
    },
  );
}

/** The runs of a user's syncs that did start (past the rate limit, none). */
export async function readSyncs(db: Database, userId: string) {
  const syncs = await db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.userId, userId))
    .orderBy(asc(syncRuns.ranAt), asc(syncRuns.id));
  return { syncs };
}
