import { expect, test } from "@playwright/test";
import {
  HELLO_EVENT,
  HELLO_FUNCTION,
  requireDevServerUi,
  runOf,
  sendEvent,
  uniqueName,
} from "../support/dev-ui";

test.describe("dev UI: cancel", () => {
  test("cancelling a sleeping run from its page ends it as Cancelled", async ({
    page,
  }, testInfo) => {
    await requireDevServerUi(testInfo);
    const eventId = await sendEvent(HELLO_EVENT, { name: uniqueName("Cancel") });
    const runId = await runOf(eventId, HELLO_FUNCTION);
    await page.goto(`/runs/${runId}`);
    // The sleep lasts until the virtual clock moves, which this test never does.
    const sleep = page.locator('[data-testid="timeline-step"][data-step-name="wait-a-moment"]');
    await expect(sleep).toHaveAttribute("data-status", "Sleeping");
    await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "Running");

    await page.getByTestId("cancel-run").click();
    await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "Cancelled");
    await expect(sleep).toHaveAttribute("data-status", "Cancelled");
    await expect(page.getByTestId("cancel-run")).toBeDisabled();

    // The Runs tab agrees, filtered by status.
    await page.getByTestId("nav-runs").click();
    await page.getByTestId("runs-filter-status").selectOption("Cancelled");
    await expect(page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`)).toHaveAttribute(
      "data-status",
      "Cancelled",
    );
  });
});
