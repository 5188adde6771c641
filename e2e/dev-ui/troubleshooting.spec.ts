import { expect, test } from "@playwright/test";
import { HELLO_EVENT, HELLO_FUNCTION, requireDevServerUi, uniqueName } from "../support/dev-ui";

test.describe("dev UI: troubleshooting", () => {
  test("an event whose name has a typo says it started no function and suggests the close one", async ({
    page,
  }, testInfo) => {
    await requireDevServerUi(testInfo);
    await page.goto("/events");
    await page.getByTestId("send-event").click();
    const dialog = page.getByTestId("send-event-dialog");
    const typo = "test/hello.wrold";
    await dialog
      .getByTestId("send-event-dialog-editor")
      .fill(JSON.stringify({ name: typo, data: { name: uniqueName("Typo") } }));
    await dialog.getByTestId("send-event-dialog-submit").click();

    await expect(page).toHaveURL(/\/events\/[0-9A-Z]{26}$/);
    const hint = page.getByTestId("no-function");
    await expect(hint).toContainText("No function was triggered by this event");
    const suggestion = hint.locator(
      `[data-testid="suggestion"][data-function-id="${HELLO_FUNCTION}"]`,
    );
    await expect(suggestion).toHaveAttribute("data-trigger", HELLO_EVENT);
    await expect(suggestion).toContainText("2 edits away");

    // The stream marks it too.
    await page.getByTestId("nav-events").click();
    await page.getByTestId("events-filter").fill(typo);
    await expect(page.getByTestId("event-run-count").first()).toHaveAttribute("data-count", "0");
  });
});
