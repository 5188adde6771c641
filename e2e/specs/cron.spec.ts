import { advanceClockTo, clockNow, expect, requireVirtualClock, test } from "../support/flows";

test.describe("cron", () => {
  test("advancing the clock past 09:00 UTC produces the daily report", async ({
    flowPage,
  }, testInfo) => {
    await requireVirtualClock(testInfo);
    const cron = await flowPage("cron");
    const now = await clockNow();
    const nineAm = new Date(now);
    nineAm.setUTCHours(9, 0, 0, 0);
    if (nineAm <= now) nineAm.setUTCDate(nineAm.getUTCDate() + 1);
    const reportDate = nineAm.toISOString().slice(0, 10);
    await advanceClockTo(new Date(nineAm.getTime() + 60_000));

    // The page shows the latest reports when it loads: a person reloads to see a new one.
    await expect(async () => {
      await cron.page.reload();
      await expect(cron.result("reports")).toContainText(reportDate, { timeout: 2_000 });
    }).toPass({ timeout: 90_000, intervals: [1_000] });
  });
});
