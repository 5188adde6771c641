import { expect, test, uniqueId } from "../support/flows";

const FUNCTIONS = ["send-welcome-email", "create-profile", "track-analytics"];

test.describe("signup", () => {
  test("signup fan-out: all three functions' results appear for that user, once each", async ({
    flowPage,
  }, testInfo) => {
    const signup = await flowPage("signup");
    const userId = uniqueId(testInfo, "user");
    const email = `${userId}@example.com`;
    await signup.send("send", { userId, email, name: "Ada Lovelace", plan: "pro" });

    // One event, one run of each function of this app, each completed once.
    for (const fn of FUNCTIONS) {
      await expect(signup.runStatus(fn)).toHaveCount(1);
      await expect(signup.runStatus(fn)).toHaveAttribute("data-status", "Completed");
    }
    // The rows each function wrote for this user: one of each, however often a step was retried.
    await expect(signup.result("profile")).toContainText(userId);
    await expect(signup.result("profile")).toContainText("pro");
    await expect(signup.result("emails")).toHaveText(/emails \(1\)/);
    await expect(signup.result("emails")).toContainText(email);
    await expect(signup.result("analytics")).toHaveText(/analytics \(1\)/);
    await expect(signup.result("analytics")).toContainText("user.signed_up");
  });
});
