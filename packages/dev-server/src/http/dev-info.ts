import type { Hono } from "hono";
import type { Engine } from "../engine/engine";
import type { SdkClient } from "../sdk-client";
import type { Store } from "../store/store";
import {
  type AppListJson,
  appJson,
  type DevInfoJson,
  type FunctionJson,
  functionJson,
  iso,
} from "./wire";

/**
 * What is synced: `GET /api/apps` and `GET /api/functions` (the dev UI's lists), and `GET /dev`,
 * the Go dev server's info endpoint in its shape (its UI and tools read it).
 */
export function registerDevInfo(
  app: Hono,
  deps: {
    engine: Engine;
    store: Store;
    sdk: SdkClient;
    /** How the server was started, as `/dev` reports it. */
    start: { sdkUrls: string[]; resyncMs: number; testMode: boolean };
  },
): void {
  const { engine, store, sdk, start } = deps;

  app.get("/api/apps", async (c) => {
    const functions = engine.functionList();
    return c.json<{ data: AppListJson[] }>({
      data: (await store.listApps()).map((record) => ({
        ...appJson(record),
        functions: functions.filter((fn) => fn.appUrl === record.url).map((fn) => fn.slug),
        synced_since_start: engine.isSynced(record.url),
      })),
    });
  });

  app.get("/api/functions", (c) =>
    c.json<{ data: FunctionJson[] }>({ data: engine.functionList().map(functionJson) }),
  );

  app.get("/dev", async (c) => {
    const functions = engine.functionList();
    return c.json<DevInfoJson>({
      version: "inngest-frameworks-dev-server",
      startOpts: {
        sdkURLs: start.sdkUrls,
        autodiscover: false,
        poll: start.sdkUrls.length > 0,
        pollInterval: Math.round(start.resyncMs / 1000),
        testMode: start.testMode,
        serverKind: sdk.serverKind,
      },
      functions: functions.map((fn) => fn.config),
      handlers: (await store.listApps()).map((record) => ({
        url: record.url,
        sdk: record.sdk,
        framework: record.framework,
        app_id: record.appId,
        functions: functions.filter((fn) => fn.appUrl === record.url).map((fn) => fn.config),
        synced_at: iso(record.syncedAt),
        error: record.error,
      })),
      isSingleNodeService: false,
      // Go reports these only when keys are required, which this server never insists on.
      isMissingSigningKey: false,
      isMissingEventKeys: false,
      features: {},
    });
  });
}
