import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, expect, it } from "vitest";
import { type BadInputCase, badInputCases, functionConfig, register } from "../src/bad-input";
import { repoRoot } from "../src/processes";
import { createStage, reportRow, type Stage } from "../src/stage";
import { seconds } from "../src/table";

/**
 * Scenario 7: bad input on every HTTP surface of the dev server (REST v1, the event API,
 * `/fn/register`, the UI API, checkpoints, test mode), one request per case of
 * `src/bad-input.ts`. Each gets the 4xx of its case (never a 500) with a JSON `error` naming the
 * field and the problem; the server's state (events, runs, apps, functions, as its APIs list them)
 * is the same after as before; and the server still answers and takes a good event afterwards.
 * The apps' `/api` routes have their cases in `e2e/specs/bad-input.spec.ts` (each app's build).
 */

/**
 * The apps' cases, in the e2e suite (`e2e/specs/bad-input.spec.ts`, one object per case in its
 * `cases`), each run on Next, Astro and Remix: counted from the file, for the table.
 */
const APP_SPEC = resolve(repoRoot, "e2e/specs/bad-input.spec.ts");
const APP_CASES = (readFileSync(APP_SPEC, "utf8").match(/^ {2}\{\n {4}name: /gm) ?? []).length;
const APPS = 3;

let stage: Stage;
afterEach(async (context) => {
  await stage?.close(context.task.result?.state === "fail");
});

/** What the server holds, as its own APIs list it (sync times left out: a resync moves them). */
async function state(serverUrl: string): Promise<string> {
  // biome-ignore lint/suspicious/noExplicitAny: the lists' shapes are read field by field below
  const read = async (path: string): Promise<any> => {
    const response = await fetch(`${serverUrl}${path}`);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
    return response.json();
  };
  const [events, runs, uiEvents, apps, functions] = await Promise.all([
    read("/v1/events?limit=1000"),
    read("/v1/runs?limit=1000"),
    read("/api/ui/events?internal=1&limit=1000"),
    read("/api/apps"),
    read("/api/functions"),
  ]);
  return JSON.stringify({
    events: events.data.map((event: { internal_id: string }) => event.internal_id),
    runs: runs.data.map((run: { run_id: string; status: string }) => `${run.run_id}:${run.status}`),
    uiEvents: uiEvents.data.length,
    apps: apps.data.map(({ synced_at: _, ...app }: { synced_at: unknown }) => app),
    functions: functions.data.map((fn: { slug: string }) => fn.slug),
  });
}

interface Outcome {
  kase: BadInputCase;
  status: number;
  error: string;
  stored: boolean;
}

async function attempt(serverUrl: string, kase: BadInputCase): Promise<Outcome> {
  const before = await state(serverUrl);
  const response = await fetch(`${serverUrl}${kase.path}`, {
    method: kase.method,
    ...(kase.body === undefined ? {} : { body: kase.body }),
    ...(kase.headers ? { headers: kase.headers } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let error = "";
  try {
    error = String((JSON.parse(text) as { error?: unknown }).error ?? "");
  } catch {
    error = `(not JSON) ${text.slice(0, 200)}`;
  }
  const after = await state(serverUrl);
  return { kase, status: response.status, error, stored: before !== after };
}

it("7: bad input on every HTTP surface of the dev server", { timeout: 300_000 }, async () => {
  stage = await createStage("bad-input");
  await stage.startApp();
  const server = await stage.startServer();
  await stage.synced(4);

  const cases = badInputCases({ functionSlug: "faults-steady" });
  const outcomes: Outcome[] = [];
  for (const kase of cases) outcomes.push(await attempt(stage.serverUrl, kase));
  const wrong = outcomes.filter(
    (outcome) =>
      outcome.status !== outcome.kase.status ||
      !outcome.kase.message.test(outcome.error) ||
      outcome.stored,
  );
  for (const outcome of outcomes) {
    const mark = wrong.includes(outcome) ? "WRONG" : "ok";
    console.log(
      `${mark} ${outcome.kase.surface} | ${outcome.kase.name} | ${outcome.status} ${outcome.error.slice(0, 160)}${outcome.stored ? " | STORED" : ""}`,
    );
  }

  // "10,000 functions": taken, as Inngest's dev server takes them (it has no count limit); the
  // body's size limit (32 MB) is what bounds an app. They are listed, and the server still answers.
  const many = Array.from({ length: 10_000 }, (_, index) =>
    functionConfig(`accepted-${index}`, { event: `bad-input/accepted-${index}` }),
  );
  const registeredAt = Date.now();
  const accepted = await fetch(`${stage.serverUrl}/fn/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: register("accepted", many),
  });
  const acceptedMs = Date.now() - registeredAt;
  const acceptedBody = await accepted.text();
  const functions = (await (await fetch(`${stage.serverUrl}/api/functions`)).json()) as {
    data: { slug: string }[];
  };
  const listed = functions.data.filter((fn) => fn.slug.startsWith("accepted-")).length;

  // Afterwards the server is up and takes a good event.
  const good = await stage.rest.send({ name: "faults/steady", data: { n: 0 } });
  const stored = await stage.rest.event(good[0] as string);

  const byStatus = new Map<number, number>();
  for (const outcome of outcomes)
    byStatus.set(outcome.status, (byStatus.get(outcome.status) ?? 0) + 1);
  const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${n}×${status}`);
  const storedCount = outcomes.filter((outcome) => outcome.stored).length;
  reportRow({
    scenario: "7 bad input",
    load: `${cases.length} on the dev server + ${APP_CASES} × ${APPS} apps (e2e bad-input.spec)`,
    fault: `${statuses.join(", ")}; ${storedCount} stored anything`,
    completed: `${cases.length - wrong.length}/${cases.length} as expected; 10,000 fns taken in ${seconds(acceptedMs)}`,
    lost: wrong.length,
    duplicated: "0",
    worstConcurrency: "n/a",
    recovery: server.alive() ? "server up throughout" : "server died",
  });

  expect(
    wrong.map(
      (o) =>
        `${o.kase.surface} ${o.kase.name}: ${o.status} ${o.error}${o.stored ? " (stored)" : ""}`,
    ),
  ).toEqual([]);
  expect(cases.length).toBeGreaterThanOrEqual(40);
  expect(APP_CASES, "the e2e suite's app cases, counted from its spec").toBeGreaterThan(10);
  expect(accepted.status, acceptedBody).toBe(200);
  expect(listed).toBe(10_000);
  expect(stored.name).toBe("faults/steady");
  expect(server.alive(), "the dev server stayed up").toBe(true);
});
