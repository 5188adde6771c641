import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";
import {
  HELLO_EVENT,
  HELLO_FUNCTION,
  markPage,
  requireDevServerUi,
  runOf,
  sendEvent,
  stillSamePage,
  uniqueName,
  waitForFunction,
} from "../support/dev-ui";
import { advanceClockUntil, requireVirtualClock } from "../support/flows";

/**
 * Every run takes the screenshot into e2e/screenshots/ (ignored by git); only when asked
 * (E2E_UPDATE_SCREENSHOTS=1) does it replace the README's, so running the tests leaves the
 * checkout clean.
 */
const SCREENSHOTS = [
  fileURLToPath(new URL("../screenshots/dev-server-ui.png", import.meta.url)),
  ...(process.env.E2E_UPDATE_SCREENSHOTS
    ? [fileURLToPath(new URL("../../docs/images/dev-server-ui.png", import.meta.url))]
    : []),
];

test.describe("dev UI: run timeline", () => {
  test("a run's timeline completes live, without a reload", async ({ page }, testInfo) => {
    await requireDevServerUi(testInfo);
    await requireVirtualClock(testInfo);
    const name = uniqueName("Timeline");
    const eventId = await sendEvent(HELLO_EVENT, { name });
    // Opened from the event's page, as a person would.
    await page.goto(`/events/${eventId}`);
    const run = page.locator(`[data-testid="event-run"][data-function-id="${HELLO_FUNCTION}"]`);
    await run.getByRole("link").click();
    await expect(page).toHaveURL(/\/runs\/[0-9A-Z]{26}$/);

    // Sleeping: the step is drawn and the run is running, until the clock moves.
    const sleep = page.locator('[data-testid="timeline-step"][data-step-name="wait-a-moment"]');
    await expect(sleep).toHaveAttribute("data-status", "Sleeping");
    await expect(sleep).toHaveAttribute("data-kind", "step.sleep");
    await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "Running");
    await markPage(page);

    await advanceClockUntil(1_000, () =>
      expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "Completed", {
        timeout: 3_000,
      }),
    );
    await expect(sleep).toHaveAttribute("data-status", "Completed");
    await expect(sleep).toContainText("1.00 s");
    await expect(page.getByTestId("run-output")).toContainText(`Hello ${name}!`);
    expect(await stillSamePage(page), "the page updated in place, not by a reload").toBe(true);
  });

  test("a retrying run shows each attempt's error; its page is the README's screenshot", async ({
    page,
  }, testInfo) => {
    await requireDevServerUi(testInfo);
    await requireVirtualClock(testInfo);
    await waitForFunction("next-flaky-job");
    const jobId = `ui-job-${uniqueName("x").slice(2)}`;
    const eventId = await sendEvent("app/job.requested", { jobId, failTimes: 2 });
    const runId = await runOf(eventId, "next-flaky-job");
    await page.goto(`/runs/${runId}`);

    const step = page.locator('[data-testid="timeline-step"][data-step-name="attempt-job"]');
    // The first attempt fails; the next waits for the backoff, and the page says so.
    await expect(step).toHaveAttribute("data-status", "Retrying");
    await expect(page.getByTestId("retry-pending")).toContainText("attempt 2 is due");
    await expect(step.getByTestId("attempt-error").first()).toContainText("attempt 1 of job");
    await advanceClockUntil(1_000, () =>
      expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "Completed", {
        timeout: 3_000,
      }),
    );
    await expect(step).toHaveAttribute("data-attempts", "3");
    await expect(step.getByTestId("attempt-error")).toHaveCount(2);
    await expect(step.getByTestId("attempt-error").nth(1)).toContainText("attempt 2 of job");
    await expect(page.getByTestId("run-output")).toContainText('"succeededOnAttempt": 3');

    for (const path of SCREENSHOTS) {
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot({ path, fullPage: false });
    }
  });
});
