import { randomBytes } from "node:crypto";
import type { Page, TestInfo } from "@playwright/test";
import { APPS, DEV_SERVER_URL, EXTERNAL_INNGEST_URL } from "./env";

/**
 * What the dev server UI's specs share. They drive the dev server's own pages (the project's
 * baseURL is the dev server); the apps only sync their functions into it. The hello-world function
 * of the next app is the usual subject: it sleeps 1 s, which on the virtual clock lasts until a
 * spec advances it.
 */

export const HELLO_FUNCTION = "next-hello-world";
export const HELLO_EVENT = "test/hello.world";

/** `<prefix> <random>`: tells this test's events and runs from every other's. */
export function uniqueName(prefix: string): string {
  return `${prefix} ${randomBytes(4).toString("hex")}`;
}

async function devServer<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${DEV_SERVER_URL}${path}`, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Skips the test unless the server at DEV_SERVER_URL is ours (E2E_INNGEST_URL may name another
 * kind, whose UI is not this one), then waits until it has synced the function the specs use.
 */
export async function requireDevServerUi(testInfo: TestInfo): Promise<void> {
  // Inngest's own dev server answers any path with its UI's page: only JSON tells ours.
  const ours =
    !EXTERNAL_INNGEST_URL &&
    (await fetch(`${DEV_SERVER_URL}/api/ui/events?limit=1`)
      .then(
        (response) => response.ok && (response.headers.get("content-type") ?? "").includes("json"),
      )
      .catch(() => false));
  if (!ours) {
    const reason = EXTERNAL_INNGEST_URL
      ? `E2E_INNGEST_URL names another server (${EXTERNAL_INNGEST_URL}): these specs drive our dev server's own UI`
      : `the server at ${DEV_SERVER_URL} has no dev server UI API (/api/ui)`;
    console.log(`[${testInfo.project.name}] skipping "${testInfo.title}": ${reason}`);
    testInfo.skip(true, reason);
    return;
  }
  await waitForFunction(HELLO_FUNCTION);
}

export async function waitForFunction(slug: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data } = await devServer<{ data: { slug: string }[] }>("/api/functions").catch(() => ({
      data: [],
    }));
    if (data.some((fn) => fn.slug === slug)) return;
    if (Date.now() > deadline) throw new Error(`the dev server has not synced function ${slug}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Sends an event as an app would (the UI's own Send event is tested by its spec). */
export async function sendEvent(name: string, data: Record<string, unknown>): Promise<string> {
  const { ids } = await devServer<{ ids: string[] }>("/e/dev-ui-spec", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, data }),
  });
  const [id] = ids;
  if (!id) throw new Error(`sending ${name} returned no id`);
  return id;
}

/**
 * The internal id (UUID) of the function with this slug (`<app id>-<function id>`), which its
 * runs' `function_id` is: from its app's function list, a bare array as on Inngest.
 */
async function functionIdOf(slug: string): Promise<string | undefined> {
  const app = APPS.find((candidate) => slug.startsWith(`${candidate.name}-`));
  if (!app) throw new Error(`${slug} is the slug of none of the apps (${APPS.map((a) => a.name)})`);
  const functions = await devServer<{ id: string; internal_id: string }[]>(
    `/v1/apps/${app.name}/functions`,
  );
  return functions.find((fn) => fn.id === slug)?.internal_id;
}

/** The run of `slug` that event `eventId` started, once there is one. */
export async function runOf(eventId: string, slug: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const functionId = await functionIdOf(slug);
    const { data } = await devServer<{ data: { run_id: string; function_id: string }[] }>(
      `/v1/events/${eventId}/runs`,
    );
    const run = data.find((candidate) => functionId && candidate.function_id === functionId);
    if (run) return run.run_id;
    if (Date.now() > deadline) throw new Error(`event ${eventId} started no run of ${slug}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Marks the page's window: the mark survives updates made in place and is gone after a reload,
 * so `stillSamePage` tells a live update from a reload.
 */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as { __devUiMark?: boolean }).__devUiMark = true;
  });
}

export async function stillSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as { __devUiMark?: boolean }).__devUiMark === true);
}
