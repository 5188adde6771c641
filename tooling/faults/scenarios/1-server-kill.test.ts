import { loadavg } from "node:os";
import { type RunJson, waitFor } from "@repo/test-utils";
import { afterEach, expect, it } from "vitest";
import { splitByFault } from "../src/effects";
import { sendNumbered, startTrickle } from "../src/load";
import { MIXED_STEPS, memoizedSteps, mixedOutputIsRight, releaseAndComplete } from "../src/mixed";
import { kill9 } from "../src/processes";
import { allEvents, createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 1: `kill -9` of the dev server with 100 runs in flight (steps, parallel steps, sleeps,
 * waitForEvent), restarted on the same journal folder. Every run completes with the right output;
 * no memoized step's body runs again (a body in flight at the kill may: counted); every event the
 * server acknowledged, before or around the kill, is there after it.
 */

const RUNS = 100;
const STEPS_PER_RUN = MIXED_STEPS.length;
/**
 * How long before the kill a body not shown as memoized may have finished and still be in flight
 * (its answer queued for a commit on a loaded machine); the memoized ones are known exactly.
 */
const IN_FLIGHT_WINDOW_MS = 15_000;

let stage: Stage;
afterEach(async (context) => {
  await stage?.close(context.task.result?.state === "fail");
});

it("1: kill -9 the dev server with 100 runs in flight, restart on the same store", async () => {
  stage = await createStage("server-kill");
  await stage.startApp();
  await stage.startServer();
  await stage.synced(2);

  const eventIds = await sendNumbered(stage.rest, "faults/mixed", RUNS, 10);
  const trickle = startTrickle(stage.serverUrl, "faults/ping");
  // The kill comes once about a third of the step bodies have finished: runs are then spread over
  // every state, with steps in flight.
  await waitFor(
    "a third of the step bodies to finish",
    () => stage.effects("mixed").ends >= (RUNS * STEPS_PER_RUN) / 3,
    { intervalMs: 5 },
  );
  // What the server shows as memoized just before the kill was committed: none of it may run again.
  const memoizedBefore = await memoizedSteps(stage);
  const crashAt = Date.now();
  await kill9(stage.server);
  const restarted = await stage.startServer();
  await stage.synced(2);

  const nOf = new Map(eventIds.map((id, n) => [id, n]));
  const completed = await releaseAndComplete(stage, nOf, RUNS, 180_000);
  const allDoneMs = Date.now() - restarted.spawnedAt;
  await trickle.stop();

  const right = (run: RunJson) => mixedOutputIsRight(run, nOf.get(run.event_id));
  const rightRuns = completed.filter(right);
  const stored = new Set(
    [
      ...(await allEvents(stage.rest, "faults/mixed")),
      ...(await allEvents(stage.rest, "faults/ping")),
    ].map((event) => event.internal_id),
  );
  const acked = [...eventIds, ...trickle.acked];
  const lostEvents = acked.filter((id) => !stored.has(id));
  const effects = stage.effects("mixed");
  // A step memoized before the kill that ran again is the failure; any other step that ran twice
  // was in flight at the kill (running, or answered but not yet committed), however long a loaded
  // machine took to commit it, as long as its first body started before the kill.
  const { inFlight, unexplained } = splitByFault(
    effects.duplicated.filter((step) => !memoizedBefore.has(`${step.run}/${step.step}`)),
    // A call sent just before the kill may reach the (loaded) app after it: a body of the killed
    // server's calls may start until the new server is up (it calls nothing while it boots).
    { from: crashAt, to: restarted.readyAt },
    IN_FLIGHT_WINDOW_MS,
  );
  const rerunMemoized = effects.duplicated.filter((step) =>
    memoizedBefore.has(`${step.run}/${step.step}`),
  );
  unexplained.push(...rerunMemoized);
  const stepsDone = [...effects.steps.values()].filter((step) => step.ends.length > 0).length;

  reportRow({
    scenario: "1 server kill -9",
    load: `${RUNS} runs (${STEPS_PER_RUN} steps, parallel, sleep, wait) + ${acked.length - RUNS} events trickled`,
    fault: "kill -9 dev server, restart on its journal",
    completed: `${rightRuns.length}/${RUNS}`,
    lost: RUNS - rightRuns.length + lostEvents.length,
    duplicated: `${unexplained.length} (+${inFlight.length} in flight at the kill)`,
    worstConcurrency: `${effects.worstConcurrency} (no limit)`,
    recovery: `ready ${seconds(restarted.readyAt - restarted.spawnedAt)}, all done ${seconds(allDoneMs)}`,
  });
  console.log(
    `load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}; trickle refused ${trickle.refused} sends while down`,
  );

  expect(lostEvents, "acknowledged events missing after the restart").toEqual([]);
  expect(completed.filter((run) => !right(run)).map((run) => [run.status, run.output])).toEqual([]);
  expect(rightRuns).toHaveLength(RUNS);
  expect(stepsDone).toBe(RUNS * STEPS_PER_RUN);
  expect(
    unexplained.map(
      (step) =>
        `${step.run}/${step.step} ended at ${step.ends.map((end) => end.at - crashAt).join(", ")} ms from the kill`,
    ),
    "memoized steps that ran again",
  ).toEqual([]);
  // The trickle really ran across the kill: some sends were refused while the server was down.
  expect(trickle.acked.length).toBeGreaterThan(0);
});
