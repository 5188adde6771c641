import { approvalRequests, type Database } from "@repo/db";
import { eq } from "drizzle-orm";
import { recordApprovalRequest, recordDecision } from "../approvals";
import type { FunctionContext } from "../context";
import { approvalDecided, approvalRequested } from "../events";
import { first } from "../rows";

/**
 * Human in the loop: store the request, then wait (durably, holding no resources) for the matching
 * `app/approval.decided`, or expire when the timeout passes.
 */
export function defineRequestApproval({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    { id: "request-approval", name: "Request approval", triggers: [approvalRequested] },
    async ({ event, step, logger, runId }) => {
      const { requestId } = event.data;
      const { timeoutSeconds } = await step.run("store-request", async () =>
        recordApprovalRequest(await database(), event.data, new Date()),
      );

      const decision = await step.waitForEvent("wait-for-decision", {
        event: approvalDecided,
        timeout: `${timeoutSeconds}s`,
        if: "async.data.requestId == event.data.requestId",
      });

      const status = await step.run("record-decision", async () =>
        recordDecision(await database(), requestId, decision?.data ?? null, new Date()),
      );
      logger.info("request-approval: ended", { runId, eventId: event.id, requestId, status });
      return { requestId, status, decidedBy: decision?.data.decidedBy ?? null };
    },
  );
}

/** The request request-approval stored and ended (null for an unknown id). */
export async function readApproval(db: Database, requestId: string) {
  const request = await db
    .select()
    .from(approvalRequests)
    .where(eq(approvalRequests.id, requestId))
    .then(first);
  return { request };
}
