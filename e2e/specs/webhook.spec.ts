import { expect, test, uniqueId } from "../support/flows";

test.describe("webhook", () => {
  test("a signed payload is logged, then processed from the log", async ({
    flowPage,
  }, testInfo) => {
    const webhook = await flowPage("webhook");
    const source = uniqueId(testInfo, "billing");
    const eventId = uniqueId(testInfo, "evt");
    const payload = JSON.stringify({ type: "invoice.paid", id: eventId, data: { amount: 4200 } });
    // Signature left empty: the app signs with its WEBHOOK_SECRET, as the real sender would.
    await webhook.send("send", { source, payload });

    const status = webhook.runStatus("process-webhook");
    await expect(status).toHaveCount(1);
    await expect(status).toHaveAttribute("data-status", "Completed");
    // The log row the route wrote before sending the event, as the function left it.
    const row = webhook.result("webhook");
    await expect(row).toContainText(source);
    await expect(row).toContainText(eventId);
    await expect(row).toContainText("processed");
  });

  test("a bad signature is refused with a visible message and nothing is logged", async ({
    flowPage,
  }, testInfo) => {
    const webhook = await flowPage("webhook");
    await webhook.submit("send", {
      source: uniqueId(testInfo, "billing"),
      signature: "sha256=0000000000000000000000000000000000000000000000000000000000000000",
    });

    await expect(webhook.formError("send")).toBeVisible();
    await expect(webhook.formError("send")).toContainText("invalid webhook signature");
    // Refused before the log: no log id to show results for, no event, no run.
    await expect(webhook.eventIds("send")).toHaveCount(0);
    await expect(webhook.page.getByTestId("results").locator("[data-result]")).toHaveCount(0);
    await expect(webhook.runStatus("process-webhook")).toHaveCount(0);
  });
});
