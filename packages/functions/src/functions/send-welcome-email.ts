import { type Database, emailOutbox } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { userSignup } from "../events";

/** Fan-out, 1 of 3 on `app/user.signup`: the welcome email, sent at most once per user. */
export function defineSendWelcomeEmail({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    { id: "send-welcome-email", name: "Send welcome email", triggers: [userSignup] },
    async ({ event, step, logger, runId }) => {
      const { userId, email, name } = event.data;
      const email_ = await step.run("send-email", async () => {
        const db = await database();
        const [inserted] = await db
          .insert(emailOutbox)
          .values({
            dedupeKey: `welcome:${userId}`,
            recipient: email,
            template: "welcome",
            payload: { userId, name },
          })
          .onConflictDoNothing({ target: emailOutbox.dedupeKey })
          .returning({ id: emailOutbox.id });
        return { outboxId: inserted?.id ?? null, alreadySent: !inserted };
      });
      logger.info("send-welcome-email: done", { runId, eventId: event.id, userId, ...email_ });
      return email_;
    },
  );
}

/** What send-welcome-email wrote for a user: its outbox row (at most one). */
export async function readWelcomeEmails(db: Database, userId: string) {
  const emails = await db
    .select()
    .from(emailOutbox)
    .where(eq(emailOutbox.dedupeKey, `welcome:${userId}`))
    .orderBy(asc(emailOutbox.id));
  return { emails };
}
