import { expect, test } from "@playwright/test";
import { HELLO_EVENT, HELLO_FUNCTION, requireDevServerUi, uniqueName } from "../support/dev-ui";

test.describe("dev UI: events", () => {
  test("sending an event from the Events tab, then replaying it, starts the function twice", async ({
    page,
  }, testInfo) => {
    await requireDevServerUi(testInfo);
    await page.goto("/events");
    await page.getByTestId("send-event").click();
    const dialog = page.getByTestId("send-event-dialog");
    const editor = dialog.getByTestId("send-event-dialog-editor");
    const problem = dialog.getByTestId("send-event-dialog-error");
    // Checked before sending: an event needs a name.
    await editor.fill('{"data": {}}');
    await expect(problem).toContainText('"name" must be a non-empty string');

    const name = uniqueName("Replayed");
    await editor.fill(JSON.stringify({ name: HELLO_EVENT, data: { name } }, null, 2));
    await expect(problem).toHaveAttribute("data-valid", "true");
    await dialog.getByTestId("send-event-dialog-submit").click();

    // The event's page: its payload and the run it started.
    await expect(page).toHaveURL(/\/events\/[0-9A-Z]{26}$/);
    const original = page.url().split("/").pop() as string;
    await expect(page.getByTestId("event-name")).toHaveText(HELLO_EVENT);
    await expect(page.getByTestId("event-payload")).toContainText(name);
    const runOf = (page_ = page) =>
      page_.locator(`[data-testid="event-run"][data-function-id="${HELLO_FUNCTION}"]`);
    await expect(runOf()).toHaveCount(1);

    await page.getByTestId("replay-event").click();
    // The replay is a new event, with the same name and data, and a run of its own.
    await expect(page).not.toHaveURL(new RegExp(`${original}$`));
    await expect(page).toHaveURL(/\/events\/[0-9A-Z]{26}$/);
    const replay = page.url().split("/").pop() as string;
    await expect(page.getByTestId("event-payload")).toContainText(name);
    await expect(runOf()).toHaveCount(1);

    // Both in the stream, newest first, found by filtering on the name.
    await page.getByTestId("nav-events").click();
    await page.getByTestId("events-filter").fill("hello.world");
    const rows = page.getByTestId("event-row").filter({ hasText: name });
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0)).toHaveAttribute("data-event-id", replay);
    await expect(rows.nth(1)).toHaveAttribute("data-event-id", original);
    for (const row of [rows.nth(0), rows.nth(1)])
      await expect(row.getByTestId("event-run-count")).not.toHaveAttribute("data-count", "0");

    // And two runs of the function, one per event, on the Runs tab.
    await page.getByTestId("nav-runs").click();
    await page.getByTestId("runs-filter-function").selectOption(HELLO_FUNCTION);
    await expect(page).toHaveURL(new RegExp(`function=${HELLO_FUNCTION}`));
    for (const id of [original, replay]) {
      const rowOfEvent = page.locator(`[data-testid="run-row"][data-event-id="${id}"]`);
      await expect(rowOfEvent).toHaveCount(1);
    }
  });
});
