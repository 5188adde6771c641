import { createHash, randomBytes } from "node:crypto";
import { type RunJson, type TimelineStep, waitFor } from "@repo/test-utils";
import { afterEach, expect, it } from "vitest";
import { allEvents, allRuns, createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 8: secure mode. The dev server through its CLI with `--signing-key` and `--event-key`,
 * the fault app in cloud mode with the same signing key (its real SDK behind a small proxy that
 * spoils the answers of the runs whose event asks for it). Signed calls complete with the app's
 * output; an answer that is unsigned, tampered or stale (signed 6 min ago) is refused: the run
 * records none of it, the refusal is in its timeline, the call is retried and the run fails; the
 * server stays up and a good run after them completes. Every request without the right key (the
 * event API, REST v1, the UI API, /fn/register, /v1/checkpoint) gets a 401 and stores, starts or
 * cancels nothing.
 */

const signingKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const otherKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const eventKey = "faults-event-key";
const GOOD = 30;
const SPOILED = [
  {
    answer: "unsigned",
    error: /refused the app's answer \(20[06]\): it carries no x-inngest-signature/,
  },
  { answer: "tampered", error: /x-inngest-signature does not match its body with our signing key/ },
  { answer: "stale", error: /x-inngest-signature is stale: signed 6\.\d min ago/ },
] as const;
/** The fault app's `guarded` has retries: 2. */
const ATTEMPTS = 3;

/** `signkey-<env>-` + sha256 of the key's bytes: what the SDK sends as its Bearer token. */
function hashed(key: string): string {
  const [, prefix = "", hex = ""] = /^(signkey-\w+-)(.*)$/.exec(key) ?? [];
  return prefix + createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex");
}

let stage: Stage;
afterEach(async (context) => {
  await stage?.close(context.task.result?.state === "fail");
});

it("8: secure mode", async () => {
  stage = await createStage("secure-mode", { signingKey, eventKey });
  await stage.startApp({ FAULT_SIGNING_KEY: signingKey });
  const server = await stage.startServer(["--signing-key", signingKey, "--event-key", eventKey]);
  await stage.synced(2);
  const { rest } = stage;
  const guardedRuns = () => allRuns(rest, "faults-guarded");
  const ended = (runs: RunJson[], count: number) =>
    runs.length >= count && runs.every((run) => run.status !== "Running") && runs;

  // Signed calls: every run completes with the app's own output.
  const startedAt = Date.now();
  const goodIds = await rest.send(
    Array.from({ length: GOOD }, (_, n) => ({
      name: "faults/guarded",
      data: { n, answer: "genuine" },
    })),
  );
  const good = await waitFor(
    "the signed runs to end",
    async () => ended(await guardedRuns(), GOOD),
    {
      timeoutMs: 120_000,
      intervalMs: 250,
    },
  );
  const goodMs = Date.now() - startedAt;
  const goodRight = good.filter((run) => {
    const n = goodIds.indexOf(run.event_id);
    return (
      run.status === "Completed" &&
      JSON.stringify(run.output) === JSON.stringify({ n, value: `genuine-${n}` })
    );
  });

  // Spoiled answers: refused, in the timeline, retried, the run Failed with none of it taken.
  const spoiledIds = await rest.send(
    SPOILED.map(({ answer }, index) => ({
      name: "faults/guarded",
      data: { n: 100 + index, answer },
    })),
  );
  const spoiled = await Promise.all(
    SPOILED.map(async ({ answer, error }, index) => {
      const eventId = spoiledIds[index] as string;
      const run = await waitFor(
        `the ${answer} run to end`,
        async () => {
          const [found] = await rest.eventRuns(eventId);
          return found && found.status !== "Running" && found;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      const steps: TimelineStep[] = (await rest.timeline(run.run_id)).steps;
      const refusals = steps.filter(
        (step) =>
          step.op === "FunctionError" &&
          step.error?.name === "AnswerRefusedError" &&
          error.test(String(step.error.message)),
      );
      const right =
        run.status === "Failed" &&
        !JSON.stringify(run.output ?? null).includes("tampered") &&
        !JSON.stringify(steps).includes("tampered") &&
        refusals.length === ATTEMPTS &&
        steps.at(-1)?.op === "RunFailed";
      return { answer, status: run.status, refusals: refusals.length, right, steps };
    }),
  );

  // Requests without the right key: each a 401, and nothing stored, started or cancelled.
  const eventsBefore = (await allEvents(rest, "faults/guarded")).length;
  const runsBefore = await guardedRuns();
  const [someRun] = goodRight;
  // Apps by URL and id (their sync times move: the server re-syncs them every second).
  const appList = async () =>
    JSON.stringify(
      (await rest.get<{ url: string; app_id: string | null }[]>("/api/apps"))
        .map((app) => `${app.app_id} ${app.url}`)
        .sort(),
    );
  const appsBefore = await appList();
  const send = [{ name: "faults/guarded", data: { n: 1000, answer: "genuine" } }];
  const wrongTokens = [undefined, `Bearer ${otherKey}`, `Bearer ${hashed(otherKey)}`];
  const requests: { what: string; method: string; path: string; body?: unknown; auth?: string }[] =
    [
      { what: "event, no key", method: "POST", path: "/e/", body: send },
      { what: "event, wrong key", method: "POST", path: "/e/not-the-key", body: send },
      ...wrongTokens.flatMap((auth) => [
        ...[
          "/v1/events",
          "/v1/runs",
          `/v1/runs/${someRun?.run_id}`,
          `/v1/runs/${someRun?.run_id}/timeline`,
          "/v1/apps/faults/functions",
          "/api/ui/events",
          "/api/ui/runs",
          "/api/apps",
          "/api/functions",
          "/dev",
        ].map((path) => ({ what: `GET ${path}`, method: "GET", path, ...(auth ? { auth } : {}) })),
        ...[
          { path: `/v1/runs/${someRun?.run_id}`, method: "DELETE" },
          { path: "/api/ui/events", body: send[0] },
          { path: "/api/ui/functions/faults-guarded/invoke", body: { data: { n: 1001 } } },
          { path: `/api/ui/runs/${someRun?.run_id}/rerun`, body: {} },
          { path: "/api/apps/sync", body: { url: "http://127.0.0.1:9/api/inngest" } },
          {
            path: "/fn/register",
            body: {
              url: "http://127.0.0.1:9/api/inngest",
              appName: "intruder",
              functions: [],
            },
          },
          {
            path: `/v1/checkpoint/${someRun?.run_id}/async`,
            body: { run_id: someRun?.run_id, fn_id: "f", qi_id: "q", steps: [] },
          },
        ].map((request) => ({
          what: `${request.method ?? "POST"} ${request.path}`,
          method: request.method ?? "POST",
          path: request.path,
          ...(request.body === undefined ? {} : { body: request.body }),
          ...(auth ? { auth } : {}),
        })),
      ]),
    ];
  const answers = await Promise.all(
    requests.map(async (request) => {
      const answer = await fetch(`${stage.serverUrl}${request.path}`, {
        method: request.method,
        headers: {
          "content-type": "application/json",
          ...(request.auth ? { authorization: request.auth } : {}),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      const text = await answer.text();
      return { ...request, status: answer.status, text };
    }),
  );
  const let401 = answers.filter(
    (answer) => answer.status !== 401 || !/"error":"[^"]+"/.test(answer.text),
  );
  const runsAfter = await guardedRuns();
  const leaks = [
    ...((await allEvents(rest, "faults/guarded")).length !== eventsBefore
      ? ["an event was stored"]
      : []),
    ...(runsAfter.length !== runsBefore.length ? ["a run was started"] : []),
    ...runsAfter
      .filter((run) => run.status !== runsBefore.find((r) => r.run_id === run.run_id)?.status)
      .map((run) => `run ${run.run_id} became ${run.status}`),
    ...((await appList()) !== appsBefore ? ["the apps changed"] : []),
  ];

  // After all that, the server is up and a good run completes.
  const recoveryAt = Date.now();
  const [lastId] = await rest.send({ name: "faults/guarded", data: { n: 999, answer: "genuine" } });
  const last = await waitFor(
    "the good run after the refusals to end",
    async () => {
      const [found] = await rest.eventRuns(lastId as string);
      return found && found.status !== "Running" && found;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const lastMs = Date.now() - recoveryAt;
  const lastRight =
    last.status === "Completed" &&
    JSON.stringify(last.output) === JSON.stringify({ n: 999, value: "genuine-999" });

  const effects = stage.effects("guarded");
  const wrongSpoiled = spoiled.filter((outcome) => !outcome.right);
  reportRow({
    scenario: "8 secure mode",
    load: `${GOOD + 1} signed runs, ${SPOILED.length} runs with spoiled answers, ${requests.length} requests without the right key`,
    fault: `answers ${SPOILED.map((s) => s.answer).join(", ")} (6 min old); event API, REST v1, UI API, /dev, /fn/register, /v1/checkpoint with no or a wrong key`,
    completed: `${goodRight.length + (lastRight ? 1 : 0)}/${GOOD + 1} signed, ${SPOILED.length - wrongSpoiled.length}/${SPOILED.length} spoiled refused ×${ATTEMPTS} then Failed, ${requests.length - let401.length}/${requests.length} requests 401, ${leaks.length} stored`,
    lost:
      GOOD -
      goodRight.length +
      (lastRight ? 0 : 1) +
      wrongSpoiled.length +
      let401.length +
      leaks.length,
    duplicated: String(effects.duplicated.length),
    worstConcurrency: `${effects.worstConcurrency} (no limit)`,
    recovery: `signed all done ${seconds(goodMs)}, good run after the refusals ${seconds(lastMs)}`,
  });

  expect(server.alive(), "the dev server stayed up").toBe(true);
  expect(goodRight, "signed runs completed with the app's output").toHaveLength(GOOD);
  expect(
    wrongSpoiled.map(({ answer, status, refusals, steps }) => ({
      answer,
      status,
      refusals,
      steps,
    })),
    "spoiled answers: refused at every attempt, in the timeline, the run Failed, nothing of them kept",
  ).toEqual([]);
  expect(
    let401.map(
      ({ what, auth, status, text }) =>
        `${what} (${auth ?? "no token"}): ${status} ${text.slice(0, 200)}`,
    ),
    "requests without the right key that were not a 401 with a message",
  ).toEqual([]);
  expect(leaks, "what the refused requests stored, started or cancelled").toEqual([]);
  expect(lastRight, "a good run after the refusals completed").toBe(true);
  expect(effects.duplicated.map((step) => `${step.run}/${step.step}`)).toEqual([]);
});
