import {
  advanceClock,
  advanceClockUntil,
  clockNow,
  expect,
  requireVirtualClock,
  test,
  uniqueId,
} from "../support/flows";

test.describe("retries", () => {
  test("a job failing its first 3 attempts succeeds on attempt 4, the gaps growing by the backoff", async ({
    flowPage,
    request,
  }, testInfo) => {
    await requireVirtualClock(testInfo);
    const retries = await flowPage("retries");
    const jobId = uniqueId(testInfo, "job");
    await retries.send("send", { jobId, failTimes: "3" });

    const status = retries.runStatus("flaky-job");
    await expect(status).toHaveCount(1);

    // The clock moves in small steps; after each (the dev server has run whatever fell due) the
    // app's rows say how many attempts there have been. The virtual time at which a count first
    // shows is that attempt's time, to within one step.
    const attemptCount = async () => {
      const response = await request.get(`/api/flows/retries/results?key=${jobId}`);
      expect(response.ok(), await response.text()).toBe(true);
      const body = (await response.json()) as { results: { attempts: unknown[] } };
      return body.results.attempts.length;
    };
    await expect.poll(attemptCount).toBe(1);
    const seenAt = [(await clockNow()).getTime()];
    const STEP_MS = 250;
    const deadline = Date.now() + 90_000;
    while (seenAt.length < 4) {
      if (Date.now() > deadline) throw new Error(`only ${seenAt.length} attempts seen`);
      await advanceClock(STEP_MS);
      const count = await attemptCount();
      const now = (await clockNow()).getTime();
      while (seenAt.length < count) seenAt.push(now);
    }
    const gaps = seenAt.slice(1).map((at, index) => at - (seenAt[index] ?? at));
    console.log(
      `[${testInfo.project.name}] gaps between attempts (virtual clock): ${gaps.join(", ")} ms`,
    );
    // Exponential backoff: each wait about doubles the one before. With the step's resolution on
    // both ends of a gap, "doubles" is checked as "at least 1.5 times, less one step".
    for (let index = 1; index < gaps.length; index++) {
      const gap = gaps[index] ?? 0;
      const before = gaps[index - 1] ?? 0;
      expect(gap, `gap ${index + 1} (${gaps.join(", ")} ms)`).toBeGreaterThanOrEqual(
        1.5 * before - STEP_MS,
      );
      expect(gap).toBeGreaterThan(before);
    }

    await expect(status).toHaveAttribute("data-status", "Completed");
    const attempts = retries.result("attempts");
    await expect(attempts).toHaveText(/attempts \(4\)/);
    await expect(attempts).toContainText("attempt 3 of job");
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
