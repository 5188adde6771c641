import { expect, type FlowPage, test, uniqueId } from "../support/flows";

interface Interval {
  taskId: string;
  startedAt: number;
  finishedAt: number;
}

/** The tasks table of the results panel, read as a person reads it: by its column headers. */
async function taskIntervals(page: FlowPage): Promise<Interval[]> {
  const rows = await page.result("tasks").evaluate((table) => {
    const headers = [...table.querySelectorAll("thead th")].map((th) => th.textContent ?? "");
    return [...table.querySelectorAll("tbody tr")].map((tr) =>
      Object.fromEntries(
        [...tr.querySelectorAll("td")].map((td, index) => [headers[index], td.textContent ?? ""]),
      ),
    );
  });
  return rows.map((row) => ({
    taskId: row.taskId ?? "",
    startedAt: Date.parse(row.startedAt ?? ""),
    finishedAt: Date.parse(row.finishedAt ?? ""),
  }));
}

test.describe("concurrency", () => {
  test("one user's tasks never overlap, and another user is not held up", async ({
    flowPage,
    context,
  }, testInfo) => {
    // Both users' pages are open before anything is sent (the second in a tab of its own), so the
    // second user sends right after the first, while the first user's tasks queue: 3 tasks of
    // 2.5 s leave a window of 5 s before the last of them may start, ample even on a busy machine.
    const busy = await flowPage("concurrency");
    const other = await flowPage("concurrency", await context.newPage());
    const busyUser = uniqueId(testInfo, "busy");
    const otherUser = uniqueId(testInfo, "other");
    await busy.send("send", { userId: busyUser, count: "3", durationMs: "2500" }, 3);
    await other.send("send", { userId: otherUser, count: "1", durationMs: "0" }, 1);

    const done = '[data-status="Completed"]';
    await expect(other.runStatus("process-user-task").and(other.page.locator(done))).toHaveCount(1);
    await expect(busy.runStatus("process-user-task").and(busy.page.locator(done))).toHaveCount(3);
    await expect(busy.result("tasks")).toHaveText(/tasks \(3\)/);
    await expect(other.result("tasks")).toHaveText(/tasks \(1\)/);

    const intervals = (await taskIntervals(busy)).sort((a, b) => a.startedAt - b.startedAt);
    expect(intervals).toHaveLength(3);
    for (const [index, task] of intervals.entries()) {
      expect(task.finishedAt, `task ${task.taskId} has ended`).toBeGreaterThan(task.startedAt);
      const next = intervals[index + 1];
      if (next) {
        expect(
          next.startedAt,
          `${next.taskId} started before ${task.taskId} ended`,
        ).toBeGreaterThanOrEqual(task.finishedAt);
      }
    }
    // The other user's task ran while the first user's were still queued: it did not wait for
    // all of them.
    const [otherTask] = await taskIntervals(other);
    const lastBusy = intervals[intervals.length - 1];
    expect(otherTask?.finishedAt).toBeLessThan(lastBusy?.startedAt ?? 0);
  });
});
