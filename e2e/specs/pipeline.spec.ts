import { expect, test, uniqueId } from "../support/flows";

test.describe("pipeline", () => {
  test("a valid upload is stored and notified", async ({ flowPage }, testInfo) => {
    const pipeline = await flowPage("pipeline");
    const datasetId = uniqueId(testInfo, "dataset");
    const records = [
      { name: "Ada", email: "ada@example.com", amount: 12.5 },
      { name: "Grace", email: "grace@example.com", amount: 30 },
      { name: "Linus", email: "linus@example.com", amount: 7 },
    ];
    await pipeline.send("send", {
      datasetId,
      uploadedBy: "owner@example.com",
      records: JSON.stringify(records),
    });

    const status = pipeline.runStatus("data-pipeline");
    await expect(status).toHaveCount(1);
    await expect(status).toHaveAttribute("data-status", "Completed");
    await expect(pipeline.result("dataset")).toContainText("stored");
    await expect(pipeline.result("records")).toHaveText(/records \(3\)/);
    await expect(pipeline.result("records")).toContainText("grace@example.com");
    // Notified once: one email to the uploader.
    await expect(pipeline.result("emails")).toHaveText(/emails \(1\)/);
    await expect(pipeline.result("emails")).toContainText("owner@example.com");
  });

  test("an invalid upload ends failed, naming the record and the field", async ({
    flowPage,
  }, testInfo) => {
    const pipeline = await flowPage("pipeline");
    const datasetId = uniqueId(testInfo, "dataset");
    const records = [
      { name: "Ada", email: "ada@example.com", amount: 12.5 },
      { name: "Grace", email: "nope", amount: 30 },
    ];
    await pipeline.send("send", { datasetId, records: JSON.stringify(records) });

    const status = pipeline.runStatus("data-pipeline");
    await expect(status).toHaveCount(1);
    // Bad data is not retried: the run fails on its first attempt.
    await expect(status).toHaveAttribute("data-status", "Failed");
    const dataset = pipeline.result("dataset");
    await expect(dataset).toContainText("failed");
    await expect(dataset).toContainText('record 2: field "email"');
    // Nothing stored, nobody notified.
    await expect(pipeline.result("records")).toHaveText("records: none yet");
    await expect(pipeline.result("emails")).toHaveText("emails: none yet");
  });
});
