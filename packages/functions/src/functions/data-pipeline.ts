import { type Database, datasetRecords, datasets, emailOutbox } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import { NonRetriableError } from "inngest";
import type { FunctionContext } from "../context";
import { dataUploaded } from "../events";
import { transformRecords, validateRecords } from "../pipeline";
import { first } from "../rows";

/** validate → transform → store → notify, each a durable step; bad data fails without retries. */
export function defineDataPipeline({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    { id: "data-pipeline", name: "Data pipeline", triggers: [dataUploaded] },
    async ({ event, step, logger, runId }) => {
      const { datasetId, name, uploadedBy, records } = event.data;

      const validation = await step.run("validate", () => validateRecords(records));
      if (!validation.ok) {
        await step.run("record-failure", async () => {
          const db = await database();
          const failure = {
            status: "failed" as const,
            error: validation.message,
            completedAt: new Date(),
          };
          await db
            .insert(datasets)
            .values({ id: datasetId, name, uploadedBy, recordCount: 0, ...failure })
            .onConflictDoUpdate({ target: datasets.id, set: failure });
        });
        logger.warn("data-pipeline: rejected", {
          runId,
          eventId: event.id,
          datasetId,
          error: validation.message,
        });
        throw new NonRetriableError(`dataset ${datasetId}: ${validation.message}`);
      }

      const transformed = await step.run("transform", () => transformRecords(validation.records));

      const stored = await step.run("store", async () => {
        const db = await database();
        const totalCents = transformed.reduce((sum, record) => sum + record.amountCents, 0);
        const done = {
          status: "stored" as const,
          recordCount: transformed.length,
          totalCents,
          error: null,
          completedAt: new Date(),
        };
        await db.transaction(async (tx) => {
          await tx
            .insert(datasets)
            .values({ id: datasetId, name, uploadedBy, ...done })
            .onConflictDoUpdate({ target: datasets.id, set: done });
          await tx
            .insert(datasetRecords)
            .values(transformed.map((record) => ({ datasetId, ...record })))
            .onConflictDoNothing({ target: [datasetRecords.datasetId, datasetRecords.rowIndex] });
        });
        return { recordCount: transformed.length, totalCents };
      });

      await step.run("notify", async () => {
        const db = await database();
        await db
          .insert(emailOutbox)
          .values({
            dedupeKey: `dataset-stored:${datasetId}`,
            recipient: uploadedBy,
            template: "dataset-stored",
            payload: { datasetId, name, ...stored },
          })
          .onConflictDoNothing({ target: emailOutbox.dedupeKey });
      });

      logger.info("data-pipeline: stored", { runId, eventId: event.id, datasetId, ...stored });
      return { datasetId, ...stored };
    },
  );
}

/** What data-pipeline wrote for a dataset: the dataset, its stored records, its notification. */
export async function readPipeline(db: Database, datasetId: string) {
  const [dataset, records, emails] = await Promise.all([
    db.select().from(datasets).where(eq(datasets.id, datasetId)).then(first),
    db
      .select()
      .from(datasetRecords)
      .where(eq(datasetRecords.datasetId, datasetId))
      .orderBy(asc(datasetRecords.rowIndex)),
    db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.dedupeKey, `dataset-stored:${datasetId}`))
      .orderBy(asc(emailOutbox.id)),
  ]);
  return { dataset, records, emails };
}
