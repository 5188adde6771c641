import { analyticsEvents, eventBatches } from "@repo/db";
import type { FunctionContext } from "../context";
import { pageViewed } from "../events";

export const PAGE_VIEW_BATCH = { maxSize: 10, timeout: "5s" } as const;

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
                dedupeKey: `page.viewed:${eventIds[index]}`,
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
