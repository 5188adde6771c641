import { advanceClockUntil, expect, requireVirtualClock, test, uniqueId } from "../support/flows";

test.describe("retries", () => {
  test("a job failing its first 2 attempts succeeds on attempt 3", async ({
    flowPage,
  }, testInfo) => {
    await requireVirtualClock(testInfo);
    const retries = await flowPage("retries");
    const jobId = uniqueId(testInfo, "job");
    await retries.send("send", { jobId, failTimes: "2" });

    const status = retries.runStatus("flaky-job");
    await expect(status).toHaveCount(1);
    // Each retry waits for its backoff on the virtual clock.
    await advanceClockUntil(2_000, () =>
      expect(status).toHaveAttribute("data-status", "Completed", { timeout: 3_000 }),
    );
    const attempts = retries.result("attempts");
    await expect(attempts).toHaveText(/attempts \(3\)/);
    await expect(attempts).toContainText("attempt 2 of job");
    await expect(retries.result("failures")).toHaveText("failures: none yet");
  });

  test("a job failing beyond its retries shows the failure its handler recorded", async ({
    flowPage,
  }, testInfo) => {
    await requireVirtualClock(testInfo);
    const retries = await flowPage("retries");
    const jobId = uniqueId(testInfo, "job");
    await retries.send("send", { jobId, failTimes: "5" });

    const status = retries.runStatus("flaky-job");
    await expect(status).toHaveCount(1);
    await advanceClockUntil(4_000, () =>
      expect(status).toHaveAttribute("data-status", "Failed", { timeout: 3_000 }),
    );
    // 4 attempts (3 retries), all failed; then the failure handler's row for this job.
    await expect(retries.result("attempts")).toHaveText(/attempts \(4\)/);
    const failures = retries.result("failures");
    await expect(failures).toHaveText(/failures \(1\)/);
    await expect(failures).toContainText("attempt 4 of job");
  });
});
