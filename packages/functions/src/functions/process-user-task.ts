import { setTimeout as delay } from "node:timers/promises";
import { type Database, taskRuns } from "@repo/db";
import { asc, eq } from "drizzle-orm";
import type { FunctionContext } from "../context";
import { taskCreated } from "../events";

/** At most this many of one user's tasks execute at once; other users are not held up. */
export const TASKS_PER_USER = 1;

/**
 * Concurrency limited per user. The work is one step that records its start and end, so that the
 * recorded intervals of one user's tasks can be checked for overlap.
 */
export function defineProcessUserTask({ inngest, database }: FunctionContext) {
  return inngest.createFunction(
    {
      id: "process-user-task",
      name: "Process user task",
      triggers: [taskCreated],
      concurrency: { limit: TASKS_PER_USER, key: "event.data.userId" },
    },
    async ({ event, step, logger, runId }) => {
      const { userId, taskId, durationMs } = event.data;
      const interval = await step.run("perform-task", async () => {
        const db = await database();
        const startedAt = new Date();
        await db
          .insert(taskRuns)
          .values({ taskId, userId, runId, startedAt })
          .onConflictDoUpdate({
            target: taskRuns.taskId,
            set: { runId, startedAt, finishedAt: null },
          });
        await delay(durationMs); // the task's work
        const finishedAt = new Date();
        await db.update(taskRuns).set({ finishedAt }).where(eq(taskRuns.taskId, taskId));
        return { startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString() };
      });
      logger.info("process-user-task: done", {
        runId,
        eventId: event.id,
        userId,
        taskId,
        ...interval,
      });
      return { taskId, ...interval };
    },
  );
}

/** The recorded start and end of each of a user's tasks, in start order. */
export async function readTasks(db: Database, userId: string) {
  const tasks = await db
    .select()
    .from(taskRuns)
    .where(eq(taskRuns.userId, userId))
    .orderBy(asc(taskRuns.startedAt), asc(taskRuns.id));
  return { tasks };
}
