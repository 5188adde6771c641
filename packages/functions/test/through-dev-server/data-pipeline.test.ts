import { datasetRecords, datasets, emailOutbox } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, useDevServerStack } from "./support";

describe.each(drivers)("data-pipeline through the dev server, on %s", (driver) => {
  const stack = useDevServerStack(driver);

  const dataset = async (id: string) =>
    (await stack.db.select().from(datasets).where(eq(datasets.id, id)))[0];
  const records = (id: string) =>
    stack.db
      .select({
        rowIndex: datasetRecords.rowIndex,
        name: datasetRecords.name,
        email: datasetRecords.email,
        amountCents: datasetRecords.amountCents,
      })
      .from(datasetRecords)
      .where(eq(datasetRecords.datasetId, id))
      .orderBy(asc(datasetRecords.rowIndex));
  const notification = async (id: string) =>
    (
      await stack.db
        .select()
        .from(emailOutbox)
        .where(eq(emailOutbox.dedupeKey, `dataset-stored:${id}`))
    )[0];

  const upload = (datasetId: string, uploadedRecords: Record<string, unknown>[]) =>
    stack.send({
      name: "app/data.uploaded",
      data: {
        datasetId,
        name: `Orders ${datasetId}`,
        uploadedBy: "ada@example.com",
        records: uploadedRecords,
      },
    });

  it("stores valid records, transformed, and notifies the uploader", async () => {
    const run = await stack.onlyRunOf(
      await upload("ds-good", [
        { name: "  Grace ", email: "Grace@Example.com", amount: 12.5 },
        { name: "Alan", email: "alan@example.com", amount: 0.1 },
      ]),
    );

    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Completed",
      output: { datasetId: "ds-good", recordCount: 2, totalCents: 1260 },
    });
    expect(await dataset("ds-good")).toMatchObject({
      status: "stored",
      recordCount: 2,
      totalCents: 1260,
      error: null,
    });
    expect(await records("ds-good")).toEqual([
      { rowIndex: 0, name: "Grace", email: "grace@example.com", amountCents: 1250 },
      { rowIndex: 1, name: "Alan", email: "alan@example.com", amountCents: 10 },
    ]);
    expect(await notification("ds-good")).toMatchObject({
      recipient: "ada@example.com",
      template: "dataset-stored",
      payload: { datasetId: "ds-good", recordCount: 2, totalCents: 1260 },
    });
    expect((await stack.timeline(run.run_id)).map((step) => [step.op, step.name])).toEqual([
      ["StepRun", "validate"],
      ["StepRun", "transform"],
      ["StepRun", "store"],
      ["StepRun", "notify"],
      ["RunCompleted", "Completed"],
    ]);
  });

  it("an invalid record fails the run at once, naming record and field; nothing stored", async () => {
    const problem = 'record 2: field "email" must be a valid email address (got "not-an-email")';
    const run = await stack.onlyRunOf(
      await upload("ds-bad", [
        { name: "Grace", email: "grace@example.com", amount: 1 },
        { name: "Alan", email: "not-an-email", amount: 2 },
      ]),
    );

    // No clock move: Failed now means no retry was scheduled.
    expect(await stack.waitForEnd(run.run_id)).toMatchObject({
      status: "Failed",
      output: { name: "NonRetriableError", message: `dataset ds-bad: invalid data: ${problem}` },
    });
    expect(await dataset("ds-bad")).toMatchObject({
      status: "failed",
      recordCount: 0,
      error: `invalid data: ${problem}`,
    });
    expect(await records("ds-bad")).toEqual([]);
    expect(await notification("ds-bad")).toBeUndefined();

    await stack.advance(3_600_000);
    const timeline = await stack.timeline(run.run_id);
    expect(timeline.filter((step) => step.attempt > 0)).toEqual([]);
    expect(timeline.map((step) => [step.op, step.name])).toEqual([
      ["StepRun", "validate"],
      ["StepRun", "record-failure"],
      ["FunctionError", "Data pipeline"],
      ["RunFailed", "Failed"],
    ]);
  });
});
