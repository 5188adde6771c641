import {
  advanceClockUntil,
  expect,
  type FlowPage,
  outputOrUnreported,
  requireVirtualClock,
  test,
  uniqueId,
} from "../support/flows";

async function requestApproval(approval: FlowPage, requestId: string, timeoutSeconds: string) {
  await approval.send("request", { requestId, title: `Refund ${requestId}`, timeoutSeconds });
  const status = approval.runStatus("request-approval");
  await expect(status).toHaveCount(1);
  // Stored as pending while the run waits for the decision; the run reads Running meanwhile (as
  // its /v1/runs/:id says: Inngest's list of an event's runs can say Completed already).
  await expect(approval.result("request")).toContainText("pending");
  await expect(status).toHaveAttribute("data-status", "Running");
  return status;
}

test.describe("approval", () => {
  for (const decision of ["approved", "rejected"] as const) {
    test(`a decision event ends the wait: ${decision}`, async ({ flowPage }, testInfo) => {
      const approval = await flowPage("approval");
      const requestId = uniqueId(testInfo, "request");
      const status = await requestApproval(approval, requestId, "3600");

      await approval.send("decide", { requestId, decision, decidedBy: "grace@example.com" });
      await expect(status).toHaveAttribute("data-status", "Completed");
      await expect(approval.result("request")).toContainText(decision);
      await expect(approval.result("request")).toContainText("grace@example.com");
      await expect(approval.page.getByTestId("runs")).toContainText(
        outputOrUnreported(`"status":"${decision}"`),
      );
    });
  }

  test("with no decision, advancing the clock past the timeout ends it expired", async ({
    flowPage,
  }, testInfo) => {
    await requireVirtualClock(testInfo);
    const approval = await flowPage("approval");
    const requestId = uniqueId(testInfo, "request");
    const status = await requestApproval(approval, requestId, "60");

    await advanceClockUntil(30_000, () =>
      expect(status).toHaveAttribute("data-status", "Completed", { timeout: 6_000 }),
    );
    await expect(approval.result("request")).toContainText("expired");
    await expect(approval.page.getByTestId("runs")).toContainText(
      outputOrUnreported('"status":"expired"'),
    );
  });
});
