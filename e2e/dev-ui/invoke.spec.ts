import { expect, test } from "@playwright/test";
import { HELLO_FUNCTION, requireDevServerUi, uniqueName } from "../support/dev-ui";

test.describe("dev UI: invoke", () => {
  test("invoking a function from the Functions tab checks the payload, starts a run and opens it", async ({
    page,
  }, testInfo) => {
    await requireDevServerUi(testInfo);
    await page.goto("/functions");
    const row = page.locator(`[data-testid="function-row"][data-function-id="${HELLO_FUNCTION}"]`);
    // The function's trigger and options are listed with it.
    await expect(row).toContainText("test/hello.world");
    await expect(row).toContainText("Hello world");
    await row.getByTestId("invoke").click();

    const dialog = page.getByTestId("invoke-dialog");
    const editor = dialog.getByTestId("invoke-dialog-editor");
    const problem = dialog.getByTestId("invoke-dialog-error");
    // Not JSON: refused before sending, with where.
    await editor.fill('{\n  "data": {"name": }\n}');
    await expect(problem).toHaveAttribute("data-valid", "false");
    await expect(problem).toContainText("Invalid JSON at line 2, column");
    await expect(dialog.getByTestId("invoke-dialog-submit")).toBeEnabled();
    await dialog.getByTestId("invoke-dialog-submit").click();
    await expect(page).toHaveURL(/\/functions$/);
    // JSON, but not the shape: data must be an object.
    await editor.fill('{"data": ["Ada"]}');
    await expect(problem).toContainText('"data" must be an object');

    const name = uniqueName("Invoked");
    await editor.fill(JSON.stringify({ data: { name } }, null, 2));
    await expect(problem).toHaveAttribute("data-valid", "true");
    await dialog.getByTestId("invoke-dialog-submit").click();

    // The run opens: the function, running (its 1 s sleep waits for the virtual clock), and the
    // invocation event carrying the payload.
    await expect(page).toHaveURL(/\/runs\/[0-9A-Z]{26}$/);
    await expect(page.getByTestId("run-function")).toHaveText("Hello world");
    await expect(page.getByTestId("run-status")).toHaveAttribute(
      "data-status",
      /Running|Completed/,
    );
    const trigger = page.getByTestId("trigger-event");
    await expect(trigger).toContainText("inngest/function.invoked");
    await expect(trigger).toContainText(name);
    await expect(
      page.locator('[data-testid="timeline-step"][data-step-name="wait-a-moment"]'),
    ).toHaveAttribute("data-kind", "step.sleep");
  });
});
