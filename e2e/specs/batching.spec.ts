import { expect, letTimePass, test, uniqueId } from "../support/flows";

test.describe("batching", () => {
  test("events sent together are processed as one batch of the expected size", async ({
    flowPage,
  }, testInfo) => {
    const batching = await flowPage("batching");
    const userId = uniqueId(testInfo, "user");
    await batching.send("send", { userId, count: "4", path: "/pricing" }, 4);

    // Fewer than the batch's 10 events: the batch closes when its 5 s have passed (on the
    // virtual clock when the server has one).
    const runs = batching.runStatus("record-page-views");
    await letTimePass(2_000, () =>
      expect(runs.and(batching.page.locator('[data-status="Completed"]'))).toHaveCount(1, {
        timeout: 3_000,
      }),
    );
    // One run for all four events (each event id lists it, the panel shows it once).
    await expect(runs).toHaveCount(1);
    await expect(batching.result("pageViews")).toHaveText(/pageViews \(4\)/);
    const batches = batching.result("batches");
    await expect(batches).toHaveText(/batches \(1\)/);
    await expect(batches.getByRole("cell", { name: "4", exact: true })).toHaveCount(1);
  });
});
