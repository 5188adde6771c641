import type { Hono } from "hono";
import { type AppRegistration, type AppSync, stripQuery } from "../app-sync";
import type { FunctionConfig } from "../functions/config";
import type { SdkClient } from "../sdk-client";
import { hashedSigningKey } from "../signing";
import type { Store } from "../store/store";
import type { JsonObject } from "../types";
import { HttpError, parseObject, readObject, readText, typeNameShowingStrings } from "./request";
import { outcomeJson, type RegisterJson, type SyncOutcomeJson } from "./wire";

/**
 * Sync over HTTP: `POST /fn/register`, where an app registers its functions (out of band, during
 * a sync's PUT), and `POST /api/apps/sync`, which syncs one app or all of them now.
 */
export function registerSyncApi(
  app: Hono,
  deps: { apps: AppSync; store: Store; sdk: SdkClient; signingKey: string | undefined },
): void {
  const { apps, store, sdk } = deps;

  app.post("/fn/register", async (c) => {
    if (sdk.secure) {
      const expected = `Bearer ${hashedSigningKey(deps.signingKey as string)}`;
      if (c.req.header("authorization") !== expected) {
        return c.json<RegisterJson>(
          {
            status: 401,
            error:
              "unauthorized: the app's signing key does not match the server's (the Bearer token " +
              "must be the hash of INNGEST_SIGNING_KEY)",
          },
          401,
        );
      }
    }
    // As Go does: an app synced by another kind of server (dev vs cloud) must not register here.
    const expectedKind = c.req.header("x-inngest-expected-server-kind");
    if (expectedKind && expectedKind !== sdk.serverKind) {
      const error = `Expected server kind ${sdk.serverKind}, got ${expectedKind}`;
      return c.json<RegisterJson>({ status: 400, error }, 400);
    }
    let registration: { url: string; config: AppRegistration };
    try {
      registration = parseRegistration(parseObject(await readText(c.req.raw, MAX_REGISTER_BYTES)));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // Reading and checking the body refuses with a 400, or a 413 when it is too big.
      const status = error.status === 413 ? 413 : 400;
      return c.json<RegisterJson>({ status, error: error.message }, status);
    }
    const result = await apps.registerOutOfBand(registration.url, registration.config);
    // The SDK answers the sync's PUT with the `status` in this body.
    if (result.error) return c.json<RegisterJson>({ status: 400, error: result.error }, 400);
    return c.json<RegisterJson>({
      ok: true,
      modified: result.modified,
      app_id: result.app.appId,
      status: 200,
    });
  });

  app.post("/api/apps/sync", async (c) => {
    // An empty body syncs every app; anything else must be an object (a null or a typo in the
    // JSON is a mistake to answer, not a request to sync everything).
    const body = await readObject(c);
    if (body.url !== undefined && typeof body.url !== "string")
      throw new HttpError(400, '"url" must be an app serve URL');
    const urls =
      typeof body.url === "string" ? [body.url] : (await store.listApps()).map((a) => a.url);
    const results = await Promise.all(urls.map((url) => apps.syncOutcome(url)));
    return c.json<{ data: SyncOutcomeJson[] }>({ data: results.map(outcomeJson) });
  });
}

/**
 * What one `/fn/register` may weigh. Inngest's dev server has no limit on the number of functions
 * (10,000 are taken here); the body is bounded so that a runaway app gets a 413, not the server's
 * memory. A function config is well under 1 KB, so this is tens of thousands of functions.
 */
export const MAX_REGISTER_BYTES = 32 * 1024 * 1024;

/**
 * A register body checked before anything is stored: the app's serve URL, its id (required, as
 * Go's "App ID required") and its functions (an array; each is checked by `validateFunctions`).
 */
export function parseRegistration(body: JsonObject): { url: string; config: AppRegistration } {
  const { url, appName, functions } = body;
  if (typeof url !== "string")
    throw new HttpError(
      400,
      `"url" must be the app's serve URL (an http(s) URL), got ${typeNameShowingStrings(url)}`,
    );
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {}
  if (!parsed || !/^https?:$/.test(parsed.protocol))
    throw new HttpError(
      400,
      `"url" must be an http(s) URL, got ${JSON.stringify(url.slice(0, 100))}`,
    );
  if (typeof appName !== "string" || appName.trim() === "")
    throw new HttpError(
      400,
      `"appName" must be the app's id (a non-empty string), got ${typeNameShowingStrings(appName)}`,
    );
  if (!Array.isArray(functions))
    throw new HttpError(
      400,
      `"functions" must be an array of function configs, got ${typeNameShowingStrings(functions)}`,
    );
  const optionalString = (field: string): string | null => {
    const value = body[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== "string")
      throw new HttpError(400, `"${field}" must be a string, got ${typeNameShowingStrings(value)}`);
    return value;
  };
  return {
    url: stripQuery(url),
    config: {
      appId: appName,
      framework: optionalString("framework"),
      sdk: optionalString("sdk"),
      functions: functions as FunctionConfig[],
    },
  };
}
