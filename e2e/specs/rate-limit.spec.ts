import { expect, test, testIds, uniqueId } from "../support/flows";

test.describe("rate-limit", () => {
  test("the sixth event within the period for one user starts no run", async ({
    flowPage,
  }, testInfo) => {
    const rateLimit = await flowPage("rate-limit");
    const userId = uniqueId(testInfo, "user");
    // All six events are accepted and stored...
    await rateLimit.send("send", { userId, count: "6" }, 6);

    // ...but only five start the function. The server lists the sixth event's run as Skipped
    // (as Inngest does for a rate-limited event): it never executes.
    const status = `[data-testid="${testIds.runStatus("sync-user-data")}"]`;
    const runsPanel = rateLimit.page.getByTestId(testIds.runs);
    await expect(runsPanel.locator(`${status}[data-status="Completed"]`)).toHaveCount(5);
    // Still five once the page has stopped polling (it settles for a while after a send): the
    // sixth was not merely late.
    await expect(rateLimit.page.locator("[data-flow-page]")).toHaveAttribute(
      "data-polling",
      "false",
    );
    await expect(runsPanel.locator(`${status}:not([data-status="Skipped"])`)).toHaveCount(5);
    // Five syncs ran for this user, not six.
    await expect(rateLimit.result("syncs")).toHaveText(/syncs \(5\)/);
  });
});
