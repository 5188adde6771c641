import { datasetRecords, datasets, emailOutbox } from "@repo/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { drivers, event, execute, useTestDatabase } from "../../test/support";
import { transformRecords, validateRecords } from "../pipeline";

describe("validateRecords", () => {
  it("names the record (1-based) and field of each problem", () => {
    const outcome = validateRecords([
      { name: "Ada", email: "ada@example.com", amount: 1 },
      { name: "Bob", email: "bob@example.com", amount: -3 },
      { name: " ", email: "nope", amount: 2 },
    ]);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems).toEqual([
      'record 2: field "amount" must not be negative (got -3)',
      'record 3: field "name" must not be empty (got " ")',
      'record 3: field "email" must be a valid email address (got "nope")',
    ]);
    expect(outcome.message).toBe(`invalid data: ${outcome.problems.join("; ")}`);
  });

  it("reports a missing field and a record that is not an object", () => {
    const outcome = validateRecords([{ name: "Ada", email: "ada@example.com" }, 7]);
    expect(outcome.ok ? [] : outcome.problems).toEqual([
      'record 1: field "amount" must be a number (got nothing)',
      "record 2 must be an object with name, email and amount (got 7)",
    ]);
  });

  it("caps the message at 10 problems and says how many more", () => {
    const outcome = validateRecords(
      Array.from({ length: 12 }, () => ({ name: "x", email: "x@example.com" })),
    );
    expect(outcome.ok ? "" : outcome.message).toMatch(/record 10: .*; and 2 more$/);
  });
});

describe("transformRecords", () => {
  it("trims names, lower-cases emails and stores amounts in cents", () => {
    expect(transformRecords([{ name: " Ada ", email: "Ada@Example.COM", amount: 12.345 }])).toEqual(
      [{ rowIndex: 0, name: "Ada", email: "ada@example.com", amountCents: 1235 }],
    );
  });
});

describe.each(drivers)("data-pipeline on %s", (driver) => {
  const database = useTestDatabase(driver);
  const { dataPipeline } = database.functions;
  const upload = (datasetId: string, records: unknown[]) =>
    event("app/data.uploaded", {
      datasetId,
      name: "Sales",
      uploadedBy: "ada@example.com",
      records,
    });

  it("validates, transforms, stores and notifies", async () => {
    const records = [
      { name: "Ada", email: "ADA@example.com", amount: 12.5 },
      { name: "Grace", email: "grace@example.com", amount: 30 },
    ];
    const { result, error, ctx } = await execute(dataPipeline, [upload("ds-ok", records)]);
    expect(error).toBeUndefined();
    expect(result).toEqual({ datasetId: "ds-ok", recordCount: 2, totalCents: 4250 });
    expect(ctx.step.run.mock.calls.map(([id]) => id)).toEqual([
      "validate",
      "transform",
      "store",
      "notify",
    ]);

    expect(await database.db.select().from(datasets).where(eq(datasets.id, "ds-ok"))).toMatchObject(
      [{ status: "stored", recordCount: 2, totalCents: 4250, error: null }],
    );
    const stored = await database.db
      .select({
        rowIndex: datasetRecords.rowIndex,
        email: datasetRecords.email,
        cents: datasetRecords.amountCents,
      })
      .from(datasetRecords)
      .where(eq(datasetRecords.datasetId, "ds-ok"))
      .orderBy(datasetRecords.rowIndex);
    expect(stored).toEqual([
      { rowIndex: 0, email: "ada@example.com", cents: 1250 },
      { rowIndex: 1, email: "grace@example.com", cents: 3000 },
    ]);
    expect(
      await database.db
        .select()
        .from(emailOutbox)
        .where(eq(emailOutbox.dedupeKey, "dataset-stored:ds-ok")),
    ).toMatchObject([{ recipient: "ada@example.com", template: "dataset-stored" }]);

    // A rerun of the same upload duplicates nothing.
    await execute(dataPipeline, [upload("ds-ok", records)]);
    expect(
      await database.db.select().from(datasetRecords).where(eq(datasetRecords.datasetId, "ds-ok")),
    ).toHaveLength(2);
    expect(await database.db.select().from(emailOutbox)).toHaveLength(1);
  });

  it("fails without retries on invalid data, naming the record and field, storing no record", async () => {
    const { result, error, ctx } = await execute(dataPipeline, [
      upload("ds-bad", [
        { name: "Ada", email: "ada@example.com", amount: 1 },
        { name: "Bob", email: "not-an-email", amount: 2 },
      ]),
    ]);
    expect(result).toBeUndefined();
    expect(error).toMatchObject({
      name: "NonRetriableError",
      message:
        'dataset ds-bad: invalid data: record 2: field "email" must be a valid email address (got "not-an-email")',
    });
    expect(ctx.step.run.mock.calls.map(([id]) => id)).toEqual(["validate", "record-failure"]);
    expect(
      await database.db.select().from(datasets).where(eq(datasets.id, "ds-bad")),
    ).toMatchObject([
      {
        status: "failed",
        recordCount: 0,
        error: expect.stringContaining('record 2: field "email"'),
      },
    ]);
    expect(
      await database.db.select().from(datasetRecords).where(eq(datasetRecords.datasetId, "ds-bad")),
    ).toEqual([]);
  });
});
