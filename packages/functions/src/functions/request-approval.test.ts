import { InngestTestEngine } from "@inngest/test";
import { approvalRequests } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, event, useTestDatabase } from "../../test/support";
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS, recordDecision } from "../approvals";

// @inngest/test 1.0.0 cannot resume a `step.waitForEvent` (stack notes), so the engine runs the
// function up to its wait here; the decision is recorded by `recordDecision`, tested directly. The
// whole flow (approved, rejected, expired) runs end to end through the dev server's suite.
describe.each(drivers)("request-approval on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { requestApproval } = database.functions;
  const load = async (id: string) =>
    (await database.db.select().from(approvalRequests).where(eq(approvalRequests.id, id)))[0];

  it("stores the request as pending, then waits for the matching decision", async () => {
    const before = Date.now();
    const { step } = await new InngestTestEngine({ function: requestApproval }).executeStep(
      "wait-for-decision",
      {
        events: [
          event("app/approval.requested", {
            requestId: "req-wait",
            title: "Refund",
            requestedBy: "ada@example.com",
            timeoutSeconds: 90,
          }),
        ],
      },
    );
    expect(step).toMatchObject({
      op: "WaitForEvent",
      name: "app/approval.decided",
      opts: { timeout: "1m30s", if: "async.data.requestId == event.data.requestId" },
    });
    const row = await load("req-wait");
    expect(row).toMatchObject({
      status: "pending",
      title: "Refund",
      requestedBy: "ada@example.com",
    });
    const expiresIn = (row?.expiresAt.getTime() ?? 0) - (row?.requestedAt.getTime() ?? 0);
    expect(expiresIn).toBe(90_000);
    expect(row?.requestedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it("waits an hour when the request names no timeout", async () => {
    const { step } = await new InngestTestEngine({ function: requestApproval }).executeStep(
      "wait-for-decision",
      {
        events: [
          event("app/approval.requested", {
            requestId: "req-default",
            title: "T",
            requestedBy: "a@example.com",
          }),
        ],
      },
    );
    expect(DEFAULT_APPROVAL_TIMEOUT_SECONDS).toBe(3600);
    expect(step).toMatchObject({ opts: { timeout: "1h" } });
  });

  it.each([
    ["approved", { decision: "approved" as const, decidedBy: "grace@example.com", comment: "ok" }],
    [
      "rejected",
      { decision: "rejected" as const, decidedBy: "grace@example.com", comment: undefined },
    ],
    ["expired", null],
  ])(
    "records the %s outcome once; a later decision does not change it",
    async (outcome, decision) => {
      const requestId = `req-${outcome}`;
      await database.db.insert(approvalRequests).values({
        id: requestId,
        title: "T",
        requestedBy: "ada@example.com",
        expiresAt: new Date(Date.now() + 60_000),
      });
      const data = decision && { requestId, ...decision };
      expect(await recordDecision(database.db, requestId, data, new Date())).toBe(outcome);
      expect(await load(requestId)).toMatchObject({
        status: outcome,
        decidedBy: decision?.decidedBy ?? null,
        comment: decision?.comment ?? null,
        decidedAt: expect.any(Date),
      });

      const late = { requestId, decision: "rejected" as const, decidedBy: "late@example.com" };
      expect(await recordDecision(database.db, requestId, late, new Date())).toBe(outcome);
      expect(await load(requestId)).toMatchObject({ status: outcome });
    },
  );

  it("refuses to decide a request that does not exist", async () => {
    await expect(recordDecision(database.db, "req-missing", null, new Date())).rejects.toThrow(
      "approval request req-missing does not exist",
    );
  });
});
