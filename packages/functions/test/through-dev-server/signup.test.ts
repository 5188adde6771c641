import { analyticsEvents, emailOutbox, profiles, users } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, type RunJson, useDevServerStack } from "./support";

const FAN_OUT = ["create-profile", "send-welcome-email", "track-analytics"];

describe.each(drivers)("signup fan-out through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  const signup = (userId: string, plan?: "free" | "pro") => ({
    name: "app/user.signup",
    data: {
      userId,
      email: `${userId}@example.com`,
      name: `User ${userId}`,
      ...(plan ? { plan } : {}),
    },
  });

  /** The event's three runs, once all have ended, by function id. */
  async function fanOutOf(eventId: string): Promise<Record<string, RunJson>> {
    const runs = await stack.waitFor(`the three runs of event ${eventId} to end`, async () => {
      const found = await stack.runsOf(eventId);
      if (found.length < FAN_OUT.length || found.some((run) => run.status === "Running")) return;
      return found;
    });
    const slugs = await Promise.all(runs.map(stack.slugOf));
    expect([...slugs].sort()).toEqual(FAN_OUT.map(stack.slug));
    return Object.fromEntries(
      runs.map((run, index) => [slugs[index]?.slice(`${stack.inngest.id}-`.length), run]),
    );
  }

  /** Every row the fan-out writes for one user, counted per table. */
  async function rowsOf(userId: string) {
    const [userRows, profileRows, emails, analytics] = await Promise.all([
      stack.db.select().from(users).where(eq(users.id, userId)),
      stack.db.select().from(profiles).where(eq(profiles.userId, userId)),
      stack.db
        .select()
        .from(emailOutbox)
        .where(eq(emailOutbox.dedupeKey, `welcome:${userId}`)),
      stack.db
        .select()
        .from(analyticsEvents)
        .where(eq(analyticsEvents.dedupeKey, `user.signed_up:${userId}`)),
    ]);
    return { userRows, profileRows, emails, analytics };
  }

  const runCounts = async () =>
    Object.fromEntries(
      await Promise.all(
        FAN_OUT.map(async (fn) => [fn, (await stack.runsOfFunction(fn)).length] as const),
      ),
    );

  it("one signup starts three runs, all Completed, writing one row each", async () => {
    const eventId = await stack.send({ ...signup("u-fan", "pro"), id: "signup-u-fan" });
    const runs = await fanOutOf(eventId);

    for (const fn of FAN_OUT) expect(runs[fn]?.status, fn).toBe("Completed");
    expect(runs["send-welcome-email"]?.output).toMatchObject({ alreadySent: false });
    expect(runs["create-profile"]?.output).toEqual({ userId: "u-fan", created: true });
    expect(runs["track-analytics"]?.output).toMatchObject({ alreadyTracked: false });

    const rows = await rowsOf("u-fan");
    expect(rows.userRows).toMatchObject([{ email: "u-fan@example.com", name: "User u-fan" }]);
    expect(rows.profileRows).toMatchObject([{ displayName: "User u-fan", plan: "pro" }]);
    expect(rows.emails).toMatchObject([
      { recipient: "u-fan@example.com", template: "welcome", payload: { userId: "u-fan" } },
    ]);
    expect(rows.analytics).toMatchObject([{ name: "user.signed_up", properties: { plan: "pro" } }]);
  });

  it("the same event sent again with its id starts no new runs; without the id it would", async () => {
    const first = await stack.send({ ...signup("u-twice"), id: "signup-u-twice" });
    await fanOutOf(first);
    const before = await runCounts();

    const again = await stack.send({ ...signup("u-twice"), id: "signup-u-twice" });
    await stack.advance(0); // let anything the repeat scheduled run
    expect(again).not.toBe(first);
    expect(await stack.runsOf(again)).toEqual([]);
    expect(await runCounts()).toEqual(before);
    const rows = await rowsOf("u-twice");
    for (const table of Object.values(rows)) expect(table).toHaveLength(1);

    // Without the id, the very same payload is a new event: three new runs, which find their work
    // already done (each function is idempotent on its own) and write nothing twice.
    const anonymous = await fanOutOf(await stack.send(signup("u-twice")));
    expect(anonymous["send-welcome-email"]?.output).toMatchObject({ alreadySent: true });
    expect(anonymous["create-profile"]?.output).toEqual({ userId: "u-twice", created: false });
    expect(anonymous["track-analytics"]?.output).toMatchObject({ alreadyTracked: true });
    for (const table of Object.values(await rowsOf("u-twice"))) expect(table).toHaveLength(1);
  });

  it("inngest.send() from the functions' own client reaches this dev server", async () => {
    // The client was built before INNGEST_DEV named this server; the serve handler updated it.
    const { ids } = await stack.inngest.send(signup("u-client"));
    const [eventId] = ids;
    expect(eventId).toBeDefined();
    const runs = await fanOutOf(eventId ?? "");
    for (const fn of FAN_OUT) expect(runs[fn]?.status, fn).toBe("Completed");
    expect((await rowsOf("u-client")).userRows).toHaveLength(1);
  });
});
