import type { CallItem, QueueItem } from "../types";

/**
 * Queue item ids. An id names what the item is for, so scheduling the same thing twice replaces
 * the item instead of doubling it (a re-reported planned step, a restarted debounce period).
 */
export const discoveryId = (runId: string) => `${runId}:step`;
export const planId = (runId: string, stepId: string) => `${runId}:plan:${stepId}`;
export const resumeId = (runId: string, stepId: string) => `${runId}:resume:${stepId}`;
export const timeoutId = (runId: string, stepId: string) => `${runId}:timeout:${stepId}`;
export const startTimeoutId = (runId: string) => `${runId}:timeout-start`;
export const finishTimeoutId = (runId: string) => `${runId}:timeout-finish`;
export const singletonCancelId = (runId: string) => `${runId}:singleton-cancel`;
export const batchItemId = (key: string, firstEventId: string) => `batch:${key}:${firstEventId}`;
export const cronItemId = (slug: string, index: number, cron: string) =>
  `cron:${slug}:${index}:${cron}`;

/** The discovery call of a run: the SDK runs the function until it finds what to do next. */
export function discoveryItem(runId: string, dueAt: number): CallItem {
  return {
    id: discoveryId(runId),
    kind: "call",
    runId,
    stepId: "step",
    attempt: 0,
    dueAt,
    data: {},
  };
}

/** A call that runs one planned step. */
export function planItem(runId: string, stepId: string, dueAt: number): CallItem {
  return { id: planId(runId, stepId), kind: "call", runId, stepId, attempt: 0, dueAt, data: {} };
}

export function isDiscovery(item: QueueItem): boolean {
  return item.kind === "call" && item.stepId === "step";
}

export function isPlannedStep(item: QueueItem): boolean {
  return item.kind === "call" && item.stepId !== "step";
}
