import type { Hono } from "hono";
import { type AppSync, stripQuery } from "../app-sync";
import type { FunctionConfig } from "../functions/config";
import type { SdkClient } from "../sdk-client";
import { hashedSigningKey } from "../signing";
import type { Store } from "../store/store";
import type { JsonObject } from "../types";
import { HttpError } from "./request";
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
    const body = (await c.req.json().catch(() => null)) as JsonObject | null;
    if (!body || typeof body.url !== "string" || !Array.isArray(body.functions)) {
      return c.json<RegisterJson>(
        { status: 400, error: "the register body must be JSON with url and functions" },
        400,
      );
    }
    const result = await apps.registerOutOfBand(stripQuery(body.url), {
      appId: String(body.appName ?? ""),
      framework: (body.framework as string | undefined) ?? null,
      sdk: (body.sdk as string | undefined) ?? null,
      functions: body.functions as FunctionConfig[],
    });
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
    const body = (await c.req.json().catch(() => ({}))) as JsonObject;
    if (body.url !== undefined && typeof body.url !== "string")
      throw new HttpError(400, '"url" must be an app serve URL');
    const urls =
      typeof body.url === "string" ? [body.url] : (await store.listApps()).map((a) => a.url);
    const results = await Promise.all(urls.map((url) => apps.syncOutcome(url)));
    return c.json<{ data: SyncOutcomeJson[] }>({ data: results.map(outcomeJson) });
  });
}
