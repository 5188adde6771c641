import { type Database, profiles, users } from "@repo/db";
import { eq } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { userSignup } from "../events";
import { first } from "../rows";

/** Fan-out, 2 of 3 on `app/user.signup`: the user and their profile, created once. */
export function defineCreateProfile({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    { id: "create-profile", name: "Create profile", triggers: [userSignup] },
    async ({ event, step, logger, runId }) => {
      const { userId, email, name, plan } = event.data;
      const profile = await step.run("create-user-and-profile", async () => {
        const db = await database();
        return db.transaction(async (tx) => {
          await tx
            .insert(users)
            .values({ id: userId, email, name })
            .onConflictDoNothing({ target: users.id });
          const [inserted] = await tx
            .insert(profiles)
            .values({ userId, displayName: name, plan: plan ?? "free" })
            .onConflictDoNothing({ target: profiles.userId })
            .returning({ userId: profiles.userId });
          return { userId, created: Boolean(inserted) };
        });
      });
      logger.info("create-profile: done", { runId, eventId: event.id, ...profile });
      return profile;
    },
  );
}

/** What create-profile wrote for a user: the user and the profile (null until it ran). */
export async function readProfile(db: Database, userId: string) {
  const [user, profile] = await Promise.all([
    db.select().from(users).where(eq(users.id, userId)).then(first),
    db.select().from(profiles).where(eq(profiles.userId, userId)).then(first),
  ]);
  return { user, profile };
}
