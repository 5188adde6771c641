import { expect, letTimePass, outputOrUnreported, test } from "../support/flows";

test.describe("hello", () => {
  test("hello world: the run sleeps 1 s durably, then the greeting appears", async ({
    flowPage,
  }, testInfo) => {
    const hello = await flowPage("hello");
    const name = `Ada ${testInfo.project.name}`;
    await hello.send("send", { name });

    const status = hello.runStatus("hello-world");
    // The run waits in its 1 s durable sleep: on the virtual clock until it is moved, on a real
    // one for a second.
    await expect(status).toHaveCount(1);
    await letTimePass(1_000, () =>
      expect(status).toHaveAttribute("data-status", "Completed", { timeout: 3_000 }),
    );
    // The run's output, as the runs panel shows it (where the server reports it).
    await expect(hello.page.getByTestId("runs")).toContainText(
      outputOrUnreported(`Hello ${name}!`),
    );
  });
});
