import { type Database, webhookLog } from "@repo/db";
import { eq } from "drizzle-orm";
import { NonRetriableError } from "inngest";
import type { FunctionContext } from "../context";
import { webhookReceived } from "../events";
import { first } from "../rows";
import { interpretWebhook } from "../webhooks";

/**
 * The receiver logged the raw webhook before sending `webhook/received { logId, app }`; this
 * function processes it from the log, so that nothing received is lost if processing fails, and the
 * event stays small whatever the payload's size.
 *
 * The log id means something only in the database of the app that logged it. Several apps serving
 * these functions can share one Inngest server (the three apps here do), and an event starts every
 * function it triggers in every app: the trigger's `if` keeps each app to its own webhooks, so no
 * app looks up another's log id in its own database.
 */
export function defineProcessWebhook({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    {
      id: "process-webhook",
      name: "Process webhook",
      triggers: [{ event: webhookReceived, if: `event.data.app == ${JSON.stringify(inngest.id)}` }],
    },
    async ({ event, step, logger, runId }) => {
      const { logId } = event.data;

      const log = await step.run("load-webhook", async () => {
        const db = await database();
        const [row] = await db.select().from(webhookLog).where(eq(webhookLog.id, logId));
        if (!row) throw new NonRetriableError(`webhook log ${logId} does not exist`);
        return { source: row.source, payload: row.payload, status: row.status };
      });
      if (log.status !== "received") {
        logger.info("process-webhook: already handled", { runId, logId, status: log.status });
        return { logId, status: log.status, skipped: true };
      }

      const outcome = await step.run("process-payload", () => interpretWebhook(log.payload));

      if (!outcome.ok) {
        await step.run("mark-failed", async () => {
          const db = await database();
          await db
            .update(webhookLog)
            .set({ status: "failed", error: outcome.error, processedAt: new Date() })
            .where(eq(webhookLog.id, logId));
        });
        logger.warn("process-webhook: failed", { runId, logId, error: outcome.error });
        throw new NonRetriableError(`webhook ${logId} from ${log.source}: ${outcome.error}`);
      }

      await step.run("mark-processed", async () => {
        const db = await database();
        await db
          .update(webhookLog)
          .set({
            status: "processed",
            result: outcome.result,
            error: null,
            processedAt: new Date(),
          })
          .where(eq(webhookLog.id, logId));
      });
      logger.info("process-webhook: processed", { runId, logId, type: outcome.result.type });
      return { logId, status: "processed" as const, result: outcome.result };
    },
  );
}

/** webhook_log ids are PostgreSQL `integer`s: anything else cannot name a row. */
export function webhookLogIdProblem(key: string): string | undefined {
  const logId = /^[1-9][0-9]{0,9}$/.test(key) ? Number(key) : Number.NaN;
  if (logId <= 2_147_483_647) return undefined;
  return `key must be a webhook log id (a positive whole number), got "${key}"`;
}

/** The log row process-webhook works from and marks (null for an unknown id). */
export async function readWebhook(db: Database, logId: number) {
  const webhook = await db.select().from(webhookLog).where(eq(webhookLog.id, logId)).then(first);
  return { webhook };
}
