import { analyticsEvents, type Database } from "@repo/db";
import { and, asc, eq } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { userSignup } from "../events";

/** Fan-out, 3 of 3 on `app/user.signup`: one `user.signed_up` analytics event per user. */
export function defineTrackAnalytics({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    { id: "track-analytics", name: "Track analytics", triggers: [userSignup] },
    async ({ event, step, logger, runId }) => {
      const { userId, plan } = event.data;
      const tracked = await step.run("track-signup", async () => {
        const db = await database();
        const [inserted] = await db
          .insert(analyticsEvents)
          .values({
            dedupeKey: `user.signed_up:${userId}`,
            userId,
            name: "user.signed_up",
            properties: { plan: plan ?? "free" },
          })
          .onConflictDoNothing({ target: analyticsEvents.dedupeKey })
          .returning({ id: analyticsEvents.id });
        return { analyticsEventId: inserted?.id ?? null, alreadyTracked: !inserted };
      });
      logger.info("track-analytics: done", { runId, eventId: event.id, userId, ...tracked });
      return tracked;
    },
  );
}

/** What track-analytics wrote for a user: its `user.signed_up` event (at most one). */
export async function readSignupAnalytics(db: Database, userId: string) {
  const analytics = await db
    .select()
    .from(analyticsEvents)
    .where(and(eq(analyticsEvents.userId, userId), eq(analyticsEvents.name, "user.signed_up")))
    .orderBy(asc(analyticsEvents.id));
  return { analytics };
}
