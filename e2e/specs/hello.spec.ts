import { advanceClockUntil, expect, requireVirtualClock, test } from "../support/flows";

test.describe("hello", () => {
  test("hello world: the sleep is skipped with the virtual clock and the greeting appears", async ({
    flowPage,
  }, testInfo) => {
    await requireVirtualClock(testInfo);
    const hello = await flowPage("hello");
    const name = `Ada ${testInfo.project.name}`;
    await hello.send("send", { name });

    const status = hello.runStatus("hello-world");
    // The run waits in its 1 s durable sleep, which ends only when the virtual clock moves.
    await expect(status).toHaveCount(1);
    await advanceClockUntil(1_000, () =>
      expect(status).toHaveAttribute("data-status", "Completed", { timeout: 3_000 }),
    );
    // The run's output, as the runs panel shows it.
    await expect(hello.page.getByTestId("runs")).toContainText(`Hello ${name}!`);
  });
});
