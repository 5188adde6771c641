import { approvalRequests } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, useDevServerStack } from "./support";

// The wait for a decision is what @inngest/test cannot drive: here the dev server holds the run
// at its `step.waitForEvent`, matches decisions against it with the function's `if`, and expires
// it on the virtual clock.
describe.each(drivers)("request-approval through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  const row = async (requestId: string) =>
    (await stack.db.select().from(approvalRequests).where(eq(approvalRequests.id, requestId)))[0];

  /** Sends the request and returns its run once the run waits for a decision. */
  async function requestAndWait(requestId: string, timeoutSeconds = 600) {
    const eventId = await stack.send({
      name: "app/approval.requested",
      data: {
        requestId,
        title: `Refund ${requestId}`,
        requestedBy: "ada@example.com",
        timeoutSeconds,
      },
    });
    const run = await stack.onlyRunOf(eventId);
    expect(await stack.slugOf(run)).toBe(stack.slug("request-approval"));
    const wait = await stack.waitForStep(run.run_id, "WaitForEvent", "wait-for-decision");
    expect(wait.ended_at).toBeNull();
    expect(await row(requestId)).toMatchObject({ status: "pending", decidedBy: null });
    return run;
  }

  const decide = (requestId: string, decision: "approved" | "rejected", comment?: string) =>
    stack.send({
      name: "app/approval.decided",
      data: {
        requestId,
        decision,
        decidedBy: "grace@example.com",
        ...(comment ? { comment } : {}),
      },
    });

  it("an approval for the same requestId resumes the run: Completed, row approved", async () => {
    const run = await requestAndWait("req-approve");
    await decide("req-approve", "approved", "looks right");

    const ended = await stack.waitForEnd(run.run_id);
    expect(ended).toMatchObject({
      status: "Completed",
      output: { requestId: "req-approve", status: "approved", decidedBy: "grace@example.com" },
    });
    expect(await row("req-approve")).toMatchObject({
      status: "approved",
      decidedBy: "grace@example.com",
      comment: "looks right",
    });
    expect((await row("req-approve"))?.decidedAt).toBeInstanceOf(Date);
    const wait = (await stack.timeline(run.run_id)).find((step) => step.op === "WaitForEvent");
    expect(wait?.output).toMatchObject({
      name: "app/approval.decided",
      data: { requestId: "req-approve", decision: "approved" },
    });
  });

  it("a rejection resumes the run: Completed, row rejected", async () => {
    const run = await requestAndWait("req-reject");
    await decide("req-reject", "rejected");

    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { requestId: "req-reject", status: "rejected", decidedBy: "grace@example.com" },
    });
    expect(await row("req-reject")).toMatchObject({
      status: "rejected",
      decidedBy: "grace@example.com",
    });
  });

  it("with no decision, the run expires when the virtual clock passes timeoutSeconds", async () => {
    const run = await requestAndWait("req-expire", 90);

    // Just short of the timeout the run still waits; the wait must not end early.
    await stack.advance(89_000);
    expect((await stack.run(run.run_id)).status).toBe("Running");
    expect((await row("req-expire"))?.status).toBe("pending");

    await stack.advance(1_000);
    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { requestId: "req-expire", status: "expired", decidedBy: null },
    });
    expect(await row("req-expire")).toMatchObject({ status: "expired", decidedBy: null });
    const wait = (await stack.timeline(run.run_id)).find((step) => step.op === "WaitForEvent");
    expect(Date.parse(wait?.ended_at ?? "") - Date.parse(wait?.started_at ?? "")).toBe(90_000);
  });

  it("a decision for another requestId does not resume it; the matching one then does", async () => {
    const run = await requestAndWait("req-mine");
    const otherEventId = await decide("req-someone-else", "approved");

    // The event API answers after routing the event, and advancing by 0 waits until everything due
    // has run: a wrongly matched resume would have completed the run by now.
    await stack.advance(0);
    expect(await stack.runsOf(otherEventId)).toEqual([]);
    expect((await stack.run(run.run_id)).status).toBe("Running");
    expect(
      (await stack.timeline(run.run_id)).find((step) => step.op === "WaitForEvent")?.ended_at,
    ).toBeNull();
    expect(await row("req-mine")).toMatchObject({ status: "pending", decidedBy: null });

    await decide("req-mine", "rejected");
    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { requestId: "req-mine", status: "rejected" },
    });
    expect((await row("req-mine"))?.status).toBe("rejected");
  });
});
