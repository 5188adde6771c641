import { analyticsEvents, emailOutbox, profiles, users } from "@repo/db";
import { describe, expect, it } from "vitest";
import { drivers, event, execute, useTestDatabase } from "../../test/support";

const signup = (userId: string) =>
  event("app/user.signup", { userId, email: `${userId}@example.com`, name: `User ${userId}` });

describe.each(drivers)("signup fan-out on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { createProfile, sendWelcomeEmail, trackAnalytics } = database.functions;

  it("send-welcome-email writes one outbox row, and a rerun writes none", async () => {
    const evt = signup("u-mail");
    const first = await execute(sendWelcomeEmail, [evt]);
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ alreadySent: false });

    const second = await execute(sendWelcomeEmail, [evt]);
    expect(second.result).toMatchObject({ alreadySent: true, outboxId: null });

    const rows = await database.db.select().from(emailOutbox);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      recipient: "u-mail@example.com",
      template: "welcome",
      dedupeKey: "welcome:u-mail",
      payload: { userId: "u-mail", name: "User u-mail" },
    });
    expect(rows[0]?.sentAt).toBeInstanceOf(Date);
  });

  it("create-profile writes the user and the profile once", async () => {
    const evt = event("app/user.signup", {
      userId: "u-prof",
      email: "grace@example.com",
      name: "Grace",
      plan: "pro",
    });
    expect((await execute(createProfile, [evt])).result).toEqual({
      userId: "u-prof",
      created: true,
    });
    expect((await execute(createProfile, [evt])).result).toEqual({
      userId: "u-prof",
      created: false,
    });

    expect(await database.db.select().from(users)).toMatchObject([
      { id: "u-prof", email: "grace@example.com", name: "Grace" },
    ]);
    expect(await database.db.select().from(profiles)).toMatchObject([
      { userId: "u-prof", displayName: "Grace", plan: "pro" },
    ]);
  });

  it("track-analytics records one signup event per user", async () => {
    const evt = signup("u-track");
    await execute(trackAnalytics, [evt]);
    const rerun = await execute(trackAnalytics, [evt]);
    expect(rerun.result).toMatchObject({ alreadyTracked: true });

    const rows = await database.db.select().from(analyticsEvents);
    expect(rows).toMatchObject([
      { userId: "u-track", name: "user.signed_up", properties: { plan: "free" } },
    ]);
  });
});
