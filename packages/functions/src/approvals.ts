import type { approvalDecidedData, approvalRequestedData } from "@repo/contracts/events";
import { approvalRequests, type Database } from "@repo/db";
import { and, eq } from "drizzle-orm";
import type { z } from "zod";

export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600;

export type ApprovalOutcome = "approved" | "rejected" | "expired";

/** Stores a new request as pending. Idempotent: a rerun keeps the first row. */
export async function recordApprovalRequest(
  db: Database,
  request: z.infer<typeof approvalRequestedData>,
  now: Date,
) {
  const timeoutSeconds = request.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS;
  await db
    .insert(approvalRequests)
    .values({
      id: request.requestId,
      title: request.title,
      requestedBy: request.requestedBy,
      requestedAt: now,
      expiresAt: new Date(now.getTime() + timeoutSeconds * 1000),
    })
    .onConflictDoNothing({ target: approvalRequests.id });
  return { requestId: request.requestId, timeoutSeconds };
}

/**
 * Ends a pending request: approved or rejected by the decision event, expired when the wait timed
 * out (`decision` null). A request already ended keeps its first outcome.
 */
export async function recordDecision(
  db: Database,
  requestId: string,
  decision: z.infer<typeof approvalDecidedData> | null,
  now: Date,
): Promise<ApprovalOutcome> {
  const outcome: ApprovalOutcome = decision ? decision.decision : "expired";
  const [updated] = await db
    .update(approvalRequests)
    .set({
      status: outcome,
      decidedBy: decision?.decidedBy ?? null,
      comment: decision?.comment ?? null,
      decidedAt: now,
    })
    .where(and(eq(approvalRequests.id, requestId), eq(approvalRequests.status, "pending")))
    .returning({ status: approvalRequests.status });
  if (updated) return outcome;
  const [existing] = await db
    .select({ status: approvalRequests.status })
    .from(approvalRequests)
    .where(eq(approvalRequests.id, requestId));
  if (!existing) throw new Error(`approval request ${requestId} does not exist`);
  return existing.status as ApprovalOutcome;
}
