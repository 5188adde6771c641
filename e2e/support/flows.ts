import { randomBytes } from "node:crypto";
import { test as base, expect, type Locator, type Page, type TestInfo } from "@playwright/test";
import { type FlowId, flows, testIds } from "@repo/contracts/flows";
import { APPS, DEV_SERVER_URL, EXTERNAL_INNGEST_URL } from "./env";
import { waitForListedFunctions } from "./sync";

/**
 * What every spec uses: the flow catalogue's test ids, a page object driving a flow page by them,
 * and the dev server's virtual clock. The three projects share one dev server (and its clock), so
 * nothing here resets it: each test names its subjects (users, datasets, requests) with the
 * project and a random suffix instead, and a page only shows the runs of its own app.
 *
 * The specs read what every Inngest server answers correctly (E2E_INNGEST_URL may name Inngest's
 * own dev server): a run's status as the page shows it (the app reads it from `/v1/runs/:id`), the
 * rows the functions wrote, and a run's output only where the server reports one (Inngest answers
 * `""` for a run whose steps were checkpointed; the page then says so, `UNREPORTED`).
 */

/** What the runs panel shows for an ended run whose output the server does not report (the start
 * of `UNREPORTED` in @repo/ui's flow-page). */
export const UNREPORTED = "not reported by the Inngest server";

/**
 * Matches a run's output cell as the runs panel may truthfully show it: the output, or the
 * server's not reporting one.
 */
export function outputOrUnreported(output: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${literal(output)}|${literal(UNREPORTED)}`);
}

export { testIds };

/** `<prefix>-<project>-<random>`: unique across projects, tests and runs. */
export function uniqueId(testInfo: TestInfo, prefix: string): string {
  return `${prefix}-${testInfo.project.name}-${randomBytes(4).toString("hex")}`;
}

async function devServerJson<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${DEV_SERVER_URL}${path}`, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

let clockCheck: Promise<string | undefined> | undefined;

/** Why the server offers no virtual clock; undefined when it does. */
function noVirtualClock(): Promise<string | undefined> {
  clockCheck ??= (async () => {
    if (EXTERNAL_INNGEST_URL)
      return `E2E_INNGEST_URL names another Inngest server (${EXTERNAL_INNGEST_URL}), which has no virtual clock (our dev server's /test/clock)`;
    try {
      const clock = await devServerJson<{ virtual?: boolean }>("/test/clock");
      if (!clock.virtual)
        return "the dev server's clock is not virtual (start it with --test-mode)";
      return undefined;
    } catch (error) {
      return `the dev server offers no virtual clock (GET /test/clock: ${(error as Error).message})`;
    }
  })();
  return clockCheck;
}

/** Whether the server's clock is virtual: sleeps and timeouts then end only when it is moved. */
export async function hasVirtualClock(): Promise<boolean> {
  return (await noVirtualClock()) === undefined;
}

/**
 * Skips the test, saying why on the console and in the report, unless the dev server offers the
 * virtual clock (test mode). The suite starts it so; one pointed elsewhere may not.
 */
export async function requireVirtualClock(testInfo: TestInfo): Promise<void> {
  const reason = await noVirtualClock();
  if (reason) {
    console.log(`[${testInfo.project.name}] skipping "${testInfo.title}": ${reason}`);
    testInfo.skip(true, reason);
  }
}

/** The virtual clock's time (the dev server's `now`, not the machine's). */
export async function clockNow(): Promise<Date> {
  const clock = await devServerJson<{ now: string }>("/test/clock");
  return new Date(clock.now);
}

export async function advanceClockTo(to: Date): Promise<void> {
  await devServerJson("/test/clock/advance", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ to: to.toISOString() }),
  });
}

export async function advanceClock(ms: number): Promise<void> {
  await devServerJson("/test/clock/advance", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ms }),
  });
}

/**
 * Advances the virtual clock by `stepMs` until `expectation` holds (it is tried after each step
 * with a short timeout): sleeps and timeouts end only when the clock is told to move, and a run
 * may not have reached its sleep yet when the first step is taken.
 */
export async function advanceClockUntil(
  stepMs: number,
  expectation: () => Promise<void>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await advanceClock(stepMs);
    try {
      await expectation();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

/**
 * Lets time pass until `expectation` holds (it is tried with a short timeout of its own): on a
 * virtual clock by advancing it `stepMs` at a time (sleeps and timeouts end only when it moves),
 * on a real one by waiting.
 */
export async function letTimePass(
  stepMs: number,
  expectation: () => Promise<void>,
  timeoutMs = 90_000,
): Promise<void> {
  if (await hasVirtualClock()) return advanceClockUntil(stepMs, expectation, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await expectation();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

const synced = new Set<string>();

/**
 * Resolves once the Inngest server has synced the project's app (events sent before start no
 * run). Asked through the REST API (`GET /v1/apps/:appName/functions`, a bare array of the app's
 * functions on every Inngest server).
 */
async function waitForSync(appName: string): Promise<void> {
  if (synced.has(appName)) return;
  if (!APPS.some((candidate) => candidate.name === appName)) {
    throw new Error(`no app for project "${appName}" (projects: next, astro, remix)`);
  }
  await waitForListedFunctions(appName);
  synced.add(appName);
}

type Values = Record<string, string>;

/** A flow page of the project's app, driven by the catalogue's test ids only. */
export class FlowPage {
  constructor(
    readonly page: Page,
    readonly flowId: FlowId,
  ) {}

  get flow() {
    const flow = flows.find((candidate) => candidate.id === this.flowId);
    if (!flow) throw new Error(`no flow "${this.flowId}" in the catalogue`);
    return flow;
  }

  async goto(): Promise<void> {
    await this.page.goto(this.flow.route);
    // Next and Remix attach the browser module on hydration: a submit before that would be the
    // browser's own form post. The module marks the page when its listeners are in place.
    await expect(this.page.locator('[data-flow-page][data-attached="true"]')).toHaveCount(1);
  }

  field(formId: string, name: string): Locator {
    return this.page.getByTestId(testIds.field(formId, name));
  }

  fieldError(formId: string, name: string): Locator {
    return this.page.getByTestId(testIds.fieldError(formId, name));
  }

  formError(formId: string): Locator {
    return this.page.getByTestId(testIds.formError(formId));
  }

  eventIds(formId: string): Locator {
    return this.page.getByTestId(testIds.eventIds(formId)).locator("code");
  }

  /** The status cells of the runs of one function (one per run). */
  runStatus(functionId: string): Locator {
    return this.page.getByTestId(testIds.runs).getByTestId(testIds.runStatus(functionId));
  }

  /** A result table (or its "none yet" line) by the name the results route gives it. */
  result(name: string): Locator {
    return this.page.getByTestId(testIds.results).locator(`[data-result="${name}"]`);
  }

  /** Fills the form's fields (select fields by option), leaving the others at their defaults. */
  async fill(formId: string, values: Values): Promise<void> {
    const form = this.flow.forms.find((candidate) => candidate.id === formId);
    if (!form) throw new Error(`flow "${this.flowId}" has no form "${formId}"`);
    for (const [name, value] of Object.entries(values)) {
      const field = form.fields.find((candidate) => candidate.name === name);
      if (!field)
        throw new Error(`form "${formId}" of flow "${this.flowId}" has no field "${name}"`);
      const input = this.field(formId, name);
      if (field.type === "select") await input.selectOption(value);
      else await input.fill(value);
    }
  }

  async submit(formId: string, values: Values = {}): Promise<void> {
    await this.fill(formId, values);
    await this.page.getByTestId(testIds.submit(formId)).click();
  }

  /** Submits and waits for the event ids the app answered with. */
  async send(formId: string, values: Values = {}, expectedEvents = 1): Promise<string[]> {
    await this.submit(formId, values);
    await expect(this.eventIds(formId)).toHaveCount(expectedEvents);
    return this.eventIds(formId).allTextContents();
  }
}

/** Opens a flow page (in the test's page, or another tab given) once the app is synced. */
export const test = base.extend<{
  flowPage: (flowId: FlowId, inPage?: Page) => Promise<FlowPage>;
}>({
  flowPage: async ({ page }, use, testInfo) => {
    await use(async (flowId, inPage) => {
      await waitForSync(testInfo.project.name);
      const flowPage = new FlowPage(inPage ?? page, flowId);
      await flowPage.goto();
      return flowPage;
    });
  },
});

export { expect };
