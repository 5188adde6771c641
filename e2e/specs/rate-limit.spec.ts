import { EXTERNAL_INNGEST_URL } from "../support/env";
import { expect, test, testIds, uniqueId } from "../support/flows";

test.describe("rate-limit", () => {
  test("5 a minute is one run at once: the other events of the burst start none", async ({
    flowPage,
  }, testInfo) => {
    const rateLimit = await flowPage("rate-limit");
    const userId = uniqueId(testInfo, "user");
    // All six events are accepted and stored...
    await rateLimit.send("send", { userId, count: "6" }, 6);

    // ...but only one starts the function: Inngest's rate limit lets floor(5 / 10) + 1 = 1 run
    // start at once, then one every 12 s. The others never execute: our dev server lists them as
    // Skipped runs, Inngest's own servers list no run for them at all.
    const status = `[data-testid="${testIds.runStatus("sync-user-data")}"]`;
    const runsPanel = rateLimit.page.getByTestId(testIds.runs);
    await expect(runsPanel.locator(`${status}[data-status="Completed"]`)).toHaveCount(1);
    if (!EXTERNAL_INNGEST_URL)
      await expect(runsPanel.locator(`${status}[data-status="Skipped"]`)).toHaveCount(5);
    // Still one once the page has stopped polling (it settles for a while after a send): the
    // others were not merely late.
    await expect(rateLimit.page.locator("[data-flow-page]")).toHaveAttribute(
      "data-polling",
      "false",
    );
    await expect(runsPanel.locator(`${status}:not([data-status="Skipped"])`)).toHaveCount(1);
    // One sync ran for this user, not six.
    await expect(rateLimit.result("syncs")).toHaveText(/syncs \(1\)/);
  });
});
