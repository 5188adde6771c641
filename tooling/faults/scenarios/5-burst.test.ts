import { waitFor } from "@repo/test-utils";
import { afterEach, expect, it } from "vitest";
import { sendNumbered } from "../src/load";
import { allEvents, allRuns, createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 5: a burst of 10,000 events (100 requests of 100, all at once) into a function with
 * `concurrency: 5`. None is lost, every run completes, and the most step bodies seen running at
 * the same time is exactly 5: never more (the limit holds), and 5 (the limit is used).
 */

const EVENTS = 10_000;
const PER_REQUEST = 100;
const LIMIT = 5;

let stage: Stage;
afterEach(async (context) => {
  await stage?.close(context.task.result?.state === "fail");
});

it("5: burst of 10,000 events into concurrency: 5", { timeout: 900_000 }, async () => {
  stage = await createStage("burst");
  await stage.startApp();
  await stage.startServer();
  await stage.synced(2);

  const sentAt = Date.now();
  const eventIds = await sendNumbered(
    stage.rest,
    "faults/burst",
    EVENTS,
    PER_REQUEST,
    EVENTS / PER_REQUEST,
  );
  const ackedMs = Date.now() - sentAt;
  // Each run is two calls (its step, then its return), both under the limit: the step bodies
  // finish long before the last runs end.
  await waitFor(
    "every run to end",
    async () =>
      stage.effects("burst").ends >= EVENTS &&
      (await stage.rest.runs({ functionId: "faults-burst", status: "Running", limit: 1 }))
        .length === 0,
    { timeoutMs: 840_000, intervalMs: 2000 },
  );
  const runs = await allRuns(stage.rest, "faults-burst");
  const doneMs = Date.now() - sentAt;

  const nOf = new Map(eventIds.map((id, n) => [id, n]));
  const completed = runs.filter(
    (run) =>
      run.status === "Completed" && (run.output as { n?: number })?.n === nOf.get(run.event_id),
  );
  const stored = new Set((await allEvents(stage.rest, "faults/burst")).map((e) => e.internal_id));
  const lostEvents = eventIds.filter((id) => !stored.has(id));
  const effects = stage.effects("burst");
  const runsWithoutEffect = new Set(runs.map((run) => run.run_id));
  for (const step of effects.steps.values()) runsWithoutEffect.delete(step.run);

  reportRow({
    scenario: "5 burst",
    load: `${EVENTS.toLocaleString("en")} events, ${EVENTS / PER_REQUEST} requests of ${PER_REQUEST} at once`,
    fault: "burst into concurrency: 5",
    completed: `${completed.length}/${EVENTS}`,
    lost: EVENTS - completed.length + lostEvents.length,
    duplicated: String(effects.duplicated.length),
    worstConcurrency: `${effects.worstConcurrency} (limit ${LIMIT})`,
    recovery: `acked ${seconds(ackedMs)}, all done ${seconds(doneMs)}`,
  });

  expect(lostEvents, "acknowledged events missing").toEqual([]);
  expect(runs).toHaveLength(EVENTS);
  expect(completed).toHaveLength(EVENTS);
  expect([...runsWithoutEffect], "runs whose step body never ran").toEqual([]);
  expect(effects.duplicated.map((step) => `${step.run}/${step.step}`)).toEqual([]);
  expect(effects.worstConcurrency).toBe(LIMIT);
});
