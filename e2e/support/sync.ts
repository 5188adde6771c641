import { APPS, type AppName, appUrl, DEV_SERVER_URL } from "./env";

/**
 * Syncing the apps with the Inngest server, and telling when it has: through what every Inngest
 * server offers (the SDK's out-of-band sync, REST API v1), so it works against ours and against
 * Inngest's own dev server alike.
 */

/** An app's function as `GET /v1/apps/:app/functions` lists it (a bare array, as on Inngest). */
export interface ListedFunction {
  /** The UUID its runs' `function_id` is. */
  internal_id: string;
  /** The slug: `<app id>-<function id>`. */
  id: string;
  name: string;
}

/**
 * The app's functions as the Inngest server lists them; `[]` before it has synced them. A failure
 * (Inngest answers a failed GET with 200 and `{error, status}`) throws, naming it.
 */
export async function listedFunctions(appName: string): Promise<ListedFunction[]> {
  const path = `/v1/apps/${encodeURIComponent(appName)}/functions`;
  const response = await fetch(`${DEV_SERVER_URL}${path}`);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as unknown;
  if (!Array.isArray(body)) throw new Error(`GET ${path} answered no array: ${text.slice(0, 300)}`);
  return body as ListedFunction[];
}

/**
 * Asks the app to sync itself with the Inngest server it points at: the SDK's out-of-band sync, a
 * `PUT` of its serve endpoint (as `inngest-cli` and the Inngest dashboard do). Answers what the app
 * said.
 */
export async function syncApp(app: { name: string; port: number }): Promise<string> {
  const url = `${appUrl(app.port)}/api/inngest`;
  // A JSON body: Astro refuses a cross-site PUT whose content type a form could send (403).
  const response = await fetch(url, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`PUT ${url} (the ${app.name} app's sync): ${response.status} ${text}`);
  return text.slice(0, 200);
}

/** Resolves once the server lists functions of the app; throws, saying what it saw, at the deadline. */
export async function waitForListedFunctions(
  appName: AppName | string,
  timeoutMs = 120_000,
): Promise<ListedFunction[]> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const functions = await listedFunctions(appName);
      if (functions.length > 0) return functions;
      last = "it lists no functions of the app";
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `the Inngest server at ${DEV_SERVER_URL} has not synced the ${appName} app (${last})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every app synced by its own PUT, then listed by the server (external-server mode). */
export async function syncAllApps(log: (line: string) => void): Promise<void> {
  for (const app of APPS) {
    const answer = await syncApp(app);
    log(`synced the ${app.name} app with ${DEV_SERVER_URL} (PUT /api/inngest: ${answer})`);
  }
  for (const app of APPS) {
    const functions = await waitForListedFunctions(app.name);
    log(`${DEV_SERVER_URL} lists ${functions.length} functions of the ${app.name} app`);
  }
}
