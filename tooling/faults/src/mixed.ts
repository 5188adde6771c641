import type { RunJson } from "@repo/test-utils";
import { waitFor } from "@repo/test-utils";
import { allRuns, type Stage } from "./stage";

/**
 * The `mixed` function of the fault app (scenarios 1 and 2): its runs wait for a `faults/go` each,
 * which a releaser sends once the run's wait is recorded (a wait sees only later events), and
 * their output is known from `n`.
 */

export const MIXED_STEPS = ["a", "p", "q", "c"];

export function mixedOutputIsRight(run: RunJson, n: number | undefined): boolean {
  return (
    run.status === "Completed" &&
    JSON.stringify(run.output) ===
      JSON.stringify({ n, a: `a${n}`, p: `p${n}`, q: `q${n}`, go: `token${n}`, c: `c${n}` })
  );
}

/**
 * Polls the runs of `mixed` until `count` have ended, sending each waiting run its `faults/go` on
 * the way; errors of a poll (the server is down) are waited out, within the deadline.
 */
export async function releaseAndComplete(
  stage: Stage,
  nOf: Map<string, number>,
  count: number,
  timeoutMs: number,
  released = new Set<string>(),
): Promise<RunJson[]> {
  return waitFor(
    `${count} runs of mixed to end`,
    async () => {
      const runs = await allRuns(stage.rest, "faults-mixed");
      for (const run of runs) {
        if (run.status !== "Running" || released.has(run.run_id)) continue;
        const { steps } = await stage.rest.timeline(run.run_id);
        if (!steps.some((step) => step.op === "WaitForEvent" && step.ended_at === null)) continue;
        const n = nOf.get(run.event_id);
        await stage.rest.send({ name: "faults/go", data: { n, token: `token${n}` } });
        released.add(run.run_id);
      }
      return runs.filter((run) => run.status !== "Running").length >= count && runs;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * The steps of every `mixed` run that the server shows as memoized (a StepRun in the timeline):
 * committed, since the server applies a commit to what it answers only once it is durable. Keys
 * are `run/step`.
 */
export async function memoizedSteps(stage: Stage): Promise<Set<string>> {
  const runs = await allRuns(stage.rest, "faults-mixed");
  const memoized = new Set<string>();
  await Promise.all(
    runs.map(async (run) => {
      for (const step of (await stage.rest.timeline(run.run_id)).steps) {
        if (step.op === "StepRun") memoized.add(`${run.run_id}/${step.name}`);
      }
    }),
  );
  return memoized;
}
