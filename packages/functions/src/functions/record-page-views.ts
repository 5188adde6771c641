import { analyticsEvents, type Database, eventBatches } from "@repo/db";
import { and, asc, eq, sql } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { pageViewed } from "../events";

export const PAGE_VIEW_BATCH = { maxSize: 10, timeout: "5s" } as const;

/** Each stored view is keyed by its event id: `page.viewed:<event id>`. */
const PAGE_VIEW_KEY_PREFIX = "page.viewed:";

/**
 * Batched: one run receives up to 10 page views (or fewer after 5 s) and stores them with one
 * multi-row insert, then records the batch's size.
 */
export function defineRecordPageViews({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    {
      id: "record-page-views",
      name: "Record page views",
      triggers: [pageViewed],
      batchEvents: PAGE_VIEW_BATCH,
    },
    async ({ events, step, logger, runId }) => {
      const stored = await step.run("store-batch", async () => {
        const db = await database();
        const eventIds = events.map((event, index) => event.id ?? `${runId}:${index}`);
        return db.transaction(async (tx) => {
          const inserted = await tx
            .insert(analyticsEvents)
            .values(
              events.map((event, index) => ({
                dedupeKey: `${PAGE_VIEW_KEY_PREFIX}${eventIds[index]}`,
                userId: event.data.userId,
                name: "page.viewed",
                properties: { path: event.data.path },
                occurredAt: event.ts ? new Date(event.ts) : new Date(),
              })),
            )
            .onConflictDoNothing({ target: analyticsEvents.dedupeKey })
            .returning({ id: analyticsEvents.id });
          await tx
            .insert(eventBatches)
            .values({ runId, functionId: "record-page-views", size: events.length, eventIds })
            .onConflictDoNothing({ target: eventBatches.runId });
          return { size: events.length, inserted: inserted.length };
        });
      });
      logger.info("record-page-views: stored batch", {
        runId,
        eventIds: events.map((e) => e.id),
        ...stored,
      });
      return stored;
    },
  );
}

/** A user's stored page views, and the batches that stored them. */
export async function readPageViews(db: Database, userId: string) {
  const pageViews = await db
    .select()
    .from(analyticsEvents)
    .where(and(eq(analyticsEvents.userId, userId), eq(analyticsEvents.name, "page.viewed")))
    .orderBy(asc(analyticsEvents.occurredAt), asc(analyticsEvents.id));
  const eventIds = pageViews
    .filter((view) => view.dedupeKey.startsWith(PAGE_VIEW_KEY_PREFIX))
    .map((view) => view.dedupeKey.slice(PAGE_VIEW_KEY_PREFIX.length));
  const batches =
    eventIds.length === 0
      ? []
      : await db
          .select()
          .from(eventBatches)
          .where(
            and(
              eq(eventBatches.functionId, "record-page-views"),
              // jsonb `?|`: the batch's event id array holds at least one of this user's events.
              sql`${eventBatches.eventIds} ?| array[${sql.join(
                eventIds.map((id) => sql`${id}`),
                sql`, `,
              )}]::text[]`,
            ),
          )
          .orderBy(asc(eventBatches.createdAt), asc(eventBatches.id));
  return { pageViews, batches };
}
