import { loadavg } from "node:os";
import { waitFor } from "@repo/test-utils";
import { afterEach, expect, it } from "vitest";
import { readEffects, splitByFault } from "../src/effects";
import { sendNumbered } from "../src/load";
import { MIXED_STEPS, mixedOutputIsRight, releaseAndComplete } from "../src/mixed";
import { kill9 } from "../src/processes";
import { createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 2: `kill -9` of the app with 100 runs in flight, restarted on the same port. The server
 * retries the calls that failed (backoff from --retry-base 100ms, doubling) and stays up; every run
 * completes with the right output; once the app is back, no run waits much longer than its backoff
 * allows: the delays double, so the one scheduled last before the app came back is at most the
 * time since the first failure plus the base, and every run's next call comes within twice the
 * downtime plus the base, plus a wide slack for a loaded machine (measured when the call reaches
 * the app, before the SDK handles it). Bodies cut off by the kill run
 * again (counted); no finished step runs again, except one whose answer the kill cut off.
 */

const RUNS = 100;
/** The app's answer to a body finished this long before the kill had reached the server. */
const IN_FLIGHT_WINDOW_MS = 1000;
/** What a loaded machine may add to the backoff bound: queued calls, a sleep of 1 s, a release. */
const SLACK_MS = 30_000;

let stage: Stage;
afterEach(async (context) => {
  await stage?.close(context.task.result?.state === "fail");
});

it("2: kill -9 the app mid-run, restart it", async () => {
  stage = await createStage("app-kill");
  await stage.startApp();
  const server = await stage.startServer();
  await stage.synced(2);

  const eventIds = await sendNumbered(stage.rest, "faults/mixed", RUNS, 10);
  const nOf = new Map(eventIds.map((id, n) => [id, n]));
  await waitFor(
    "a third of the step bodies to finish",
    () => stage.effects("mixed").ends >= (RUNS * MIXED_STEPS.length) / 3,
    { intervalMs: 5 },
  );
  const crashAt = Date.now();
  const killedPid = stage.app?.child.pid;
  await kill9(stage.app);
  // The app stays down until the server has failed to reach it for a dozen runs and is retrying.
  const retrying = () => server.output().match(/retrying until the app answers/g)?.length ?? 0;
  await waitFor("the server to retry a dozen runs", () => retrying() >= 12, { timeoutMs: 60_000 });
  const restarted = await stage.startApp();
  const downMs = restarted.readyAt - crashAt;
  const completed = await releaseAndComplete(stage, nOf, RUNS, 180_000);
  const allDoneMs = Date.now() - restarted.readyAt;

  const rightRuns = completed.filter((run) => mixedOutputIsRight(run, nOf.get(run.event_id)));
  const effects = stage.effects("mixed");
  const { inFlight, unexplained } = splitByFault(
    effects.duplicated,
    { from: crashAt, to: crashAt },
    IN_FLIGHT_WINDOW_MS,
  );
  const steps = [...effects.steps.values()];
  const interrupted = steps.filter((step) =>
    step.starts.some(
      (start, index) => start.pid === killedPid && step.ends[index]?.pid !== killedPid,
    ),
  );
  // How long each unfinished run waited, once the app was back, for the server's next call (its
  // arrival at the app, before the SDK handles it: a flooded app's own slowness is not the backoff).
  const resumeWaits = new Map<string, number>();
  for (const effect of readEffects(stage.effectsFile)) {
    if (effect.kind !== "call" || effect.pid === killedPid || !effect.fn.endsWith("mixed"))
      continue;
    if (!resumeWaits.has(effect.run)) resumeWaits.set(effect.run, effect.at - restarted.readyAt);
  }
  const worstResume = Math.max(0, ...resumeWaits.values());
  const stepsDone = steps.filter((step) => step.ends.length > 0).length;

  reportRow({
    scenario: "2 app kill -9",
    load: `${RUNS} runs (${MIXED_STEPS.length} steps, parallel, sleep, wait)`,
    fault: `kill -9 app, down ${seconds(downMs)} (${retrying()} runs retrying), restart`,
    completed: `${rightRuns.length}/${RUNS}`,
    lost: RUNS - rightRuns.length,
    duplicated: `${unexplained.length} (+${inFlight.length} answered into the kill; ${interrupted.length} cut off, run again)`,
    worstConcurrency: `${effects.worstConcurrency} (no limit)`,
    recovery: `every run called again ≤ ${seconds(worstResume)} after, all done ${seconds(allDoneMs)}`,
  });
  console.log(
    `load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}`,
  );

  expect(server.alive(), "the dev server stayed up").toBe(true);
  expect(
    completed.filter((run) => !rightRuns.includes(run)).map((run) => [run.status, run.output]),
  ).toEqual([]);
  expect(rightRuns).toHaveLength(RUNS);
  expect(stepsDone).toBe(RUNS * MIXED_STEPS.length);
  expect(
    unexplained.map((step) => `${step.run}/${step.step}`),
    "finished steps that ran again",
  ).toEqual([]);
  expect(worstResume, "a run waited longer than its backoff once the app was back").toBeLessThan(
    2 * downMs + 100 + SLACK_MS,
  );
});
