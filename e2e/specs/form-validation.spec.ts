import { expect, test, uniqueId } from "../support/flows";

test.describe("form-validation", () => {
  test("bad input shows the field errors next to their fields and sends nothing", async ({
    flowPage,
  }, testInfo) => {
    const signup = await flowPage("signup");
    const sent: string[] = [];
    signup.page.on("request", (request) => {
      if (request.method() === "POST") sent.push(request.url());
    });
    await signup.submit("send", {
      userId: uniqueId(testInfo, "user"),
      email: "not-an-email",
      name: "",
    });

    await expect(signup.fieldError("send", "email")).toBeVisible();
    await expect(signup.fieldError("send", "email")).not.toBeEmpty();
    await expect(signup.fieldError("send", "name")).toHaveText(/is required/);
    await expect(signup.field("send", "email")).toHaveAttribute("aria-invalid", "true");
    // A field that was fine shows no error.
    await expect(signup.fieldError("send", "userId")).toBeHidden();
    // The form's endpoint refused it (one POST, answered 400): no event was sent, so no ids, no runs.
    expect(sent).toHaveLength(1);
    await expect(signup.eventIds("send")).toHaveCount(0);
    await expect(signup.page.getByTestId("runs")).not.toContainText("send-welcome-email");
  });

  test("a number out of its bounds is named with its bounds", async ({ flowPage }, testInfo) => {
    const rateLimit = await flowPage("rate-limit");
    await rateLimit.submit("send", { userId: uniqueId(testInfo, "user"), count: "99" });
    await expect(rateLimit.fieldError("send", "count")).toHaveText(
      /must be a whole number from 1 to 20/,
    );
    await expect(rateLimit.eventIds("send")).toHaveCount(0);
  });
});
