import { loadavg } from "node:os";
import { type RunJson, type TimelineStep, waitFor } from "@repo/test-utils";
import { afterEach, expect, it } from "vitest";
import { sendNumbered } from "../src/load";
import { allRuns, createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 6: bad answers from an app. A run of `fragile` per fault gets it on its first call; 100
 * runs of `steady` go on meanwhile. Each fragile run is retried (and completes) or fails for good,
 * as Inngest would; the error is in its timeline; the server stays up; the steady runs complete.
 * The 10 MB answer is taken whole (Inngest Cloud would refuse a step output over 4 MB; this server
 * has no cap): the row shows that the server and the other runs are unhurt by it.
 */

/** Short enough to wait out in CI, long enough that the steady runs never hit it on a loaded machine. */
const CALL_TIMEOUT = "10s";
const STEADY = 40;

interface Case {
  fault: string;
  /** What the run ends as. */
  status: "Completed" | "Failed";
  /** A piece of the error its timeline shows. */
  error: RegExp;
}

const cases: Case[] = [
  { fault: "error-500", status: "Completed", error: /attempt 0 fails on purpose/ },
  { fault: "non-retriable", status: "Failed", error: /never retried/ },
  { fault: "proxy-500", status: "Completed", error: /500 without the Inngest SDK/ },
  { fault: "hang", status: "Completed", error: /timed out: no complete answer within/ },
  { fault: "invalid-json", status: "Completed", error: /not JSON ops/ },
  { fault: "unknown-op", status: "Completed", error: /unknown ops only: Teleport/ },
  { fault: "reset", status: "Completed", error: /terminated|reset|socket/i },
  { fault: "huge", status: "Completed", error: /./ },
];

let stage: Stage;
afterEach(async (context) => {
  await stage?.close(context.task.result?.state === "fail");
});

it("6: bad answers from an app", async () => {
  stage = await createStage("bad-answers");
  await stage.startApp();
  const server = await stage.startServer(["--call-timeout", CALL_TIMEOUT]);
  await stage.synced(4);

  const startedAt = Date.now();
  const fragileIds = await stage.rest.send(
    cases.map(({ fault }) => ({ name: "faults/fragile", data: { fault } })),
  );
  const steadyIds = await sendNumbered(stage.rest, "faults/steady", STEADY, 10, 2);
  const steady = await waitFor(
    "the steady runs to end",
    async () => {
      const runs = await allRuns(stage.rest, "faults-steady");
      return runs.length >= STEADY && runs.every((run) => run.status !== "Running") && runs;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  const steadyMs = Date.now() - startedAt;
  const fragile = new Map<string, { run: RunJson; timeline: TimelineStep[] }>();
  for (const [index, eventId] of fragileIds.entries()) {
    const fault = cases[index]?.fault ?? "";
    const run = await waitFor(
      `the ${fault} run to end`,
      async () => {
        const [run] = await stage.rest.eventRuns(eventId);
        return run && run.status !== "Running" && run;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    ).catch(async () => (await stage.rest.eventRuns(eventId))[0] as RunJson);
    fragile.set(fault, { run, timeline: (await stage.rest.timeline(run.run_id)).steps });
  }
  const fragileMs = Date.now() - startedAt;

  const outcomes = cases.map((c) => {
    const { run, timeline } = fragile.get(c.fault) as { run: RunJson; timeline: TimelineStep[] };
    const errors = timeline.flatMap((step) => (step.error ? [String(step.error.message)] : []));
    const output =
      c.status === "Completed"
        ? {
            fault: c.fault,
            first: c.fault === "huge" ? `${10 * 1024 * 1024} bytes` : `first-${c.fault}`,
            second: `second-${c.fault}`,
          }
        : undefined;
    const right =
      run.status === c.status &&
      (output === undefined || JSON.stringify(run.output) === JSON.stringify(output)) &&
      (c.fault === "huge" || errors.some((message) => c.error.test(message)));
    return { fault: c.fault, status: run.status, right, errors };
  });
  const steadyRight = steady.filter(
    (run) =>
      run.status === "Completed" &&
      (run.output as { sum?: number }).sum === 2 * (steadyIds.indexOf(run.event_id) ?? 0) + 1,
  );
  const effects = stage.effects();
  const wrong = outcomes.filter((outcome) => !outcome.right);

  reportRow({
    scenario: "6 bad answers",
    load: `${cases.length} faulty runs among ${STEADY} steady runs`,
    fault: `${cases.map((c) => c.fault).join(", ")} (first call; call timeout ${CALL_TIMEOUT})`,
    completed: `${outcomes.filter((o) => o.right).length}/${cases.length} as expected (${cases.filter((c) => c.status === "Failed").length} failed for good), steady ${steadyRight.length}/${STEADY}`,
    lost: wrong.length + STEADY - steadyRight.length,
    duplicated: String(effects.duplicated.length),
    worstConcurrency: `${effects.worstConcurrency} (no limit)`,
    recovery: `steady all done ${seconds(steadyMs)}, faulty all ended ${seconds(fragileMs)}`,
  });
  console.log(
    `load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}`,
  );

  expect(server.alive(), "the dev server stayed up").toBe(true);
  expect(wrong, "runs that did not end as Inngest would, with the error in their timeline").toEqual(
    [],
  );
  expect(steadyRight).toHaveLength(STEADY);
  expect(effects.duplicated.map((step) => `${step.run}/${step.step}`)).toEqual([]);
});
