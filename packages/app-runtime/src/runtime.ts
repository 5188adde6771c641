import type { Database, DatabaseHandle } from "@repo/db";
import {
  type AppFunctions,
  createFunctions,
  createInngestClient,
  type FunctionsClient,
  flowResultsReaders,
} from "@repo/functions";
import { createRequestHandlers, type RequestHandlers } from "@repo/handlers";
import { type AppDatabase, createAppDatabase } from "./database";
import type { AppEnv } from "./env";
import { createRunsProxy, RunsProxyError } from "./runs";

export type RuntimeLogger = Pick<Console, "info" | "warn" | "error">;

export interface AppRuntimeOptions {
  env: AppEnv;
  /**
   * The app's database (default: the one the env names, opened on first use). An app whose modules
   * are evaluated again in development passes the one it keeps for the process.
   */
  database?: AppDatabase;
  /** Where the REST API is read from (tests); default the global fetch. */
  fetch?: typeof fetch;
  logger?: RuntimeLogger;
}

export interface AppRuntime {
  readonly env: AppEnv;
  /** The app's Inngest client, registered under `env.INNGEST_APP_ID`. */
  readonly inngest: FunctionsClient;
  /** Every function, created with the client and the app's database: what `/api/inngest` serves. */
  readonly functions: AppFunctions[keyof AppFunctions][];
  /** Opens the database and applies the migrations (once); call it at start. */
  start(): Promise<DatabaseHandle>;
  /**
   * Every `/api/*` route but `/api/inngest` (each framework mounts the SDK's own handler there):
   * the shared handlers of @repo/handlers, `GET /api/hello` and `GET /api/events/:id/runs`.
   * Unknown paths get a JSON 404.
   */
  handle(request: Request): Promise<Response>;
}

const json = (status: number, body: unknown) =>
  Response.json(body, { status, headers: { "cache-control": "no-store" } });

/**
 * Everything an app needs, built from its env: the Inngest client, the functions, the database and
 * the shared routes. Creating it has no side effect (the database opens on `start()` or first use).
 */
export function createAppRuntime(options: AppRuntimeOptions): AppRuntime {
  const { env } = options;
  const logger = options.logger ?? console;
  const database = options.database ?? createAppDatabase(env);

  let announced = false;
  const start = async (): Promise<DatabaseHandle> => {
    const handle = await database.open();
    if (!announced) {
      announced = true;
      const inngestServer =
        env.inngestMode === "dev" ? `dev mode, server ${env.inngestApiBaseUrl}` : "cloud mode";
      logger.info(
        `[${env.INNGEST_APP_ID}] database ${handle.driver} ${handle.location} migrated; ` +
          `Inngest ${inngestServer}, app id ${env.INNGEST_APP_ID}`,
      );
      if (env.inngestMode === "cloud" && !env.DATABASE_URL) {
        logger.warn(
          `[${env.INNGEST_APP_ID}] DATABASE_URL is unset: production data lives in the embedded ` +
            `database in ${handle.location}, on this machine's disk only. Set DATABASE_URL.`,
        );
      }
    }
    return handle;
  };
  const getDatabase = async (): Promise<Database> => (await start()).db;

  const devServerUrl =
    env.inngestMode === "dev" && env.INNGEST_DEV && URL.canParse(env.INNGEST_DEV)
      ? env.INNGEST_DEV
      : undefined;
  const inngest = createInngestClient({
    appId: env.INNGEST_APP_ID,
    isDev: env.inngestMode === "dev",
    baseUrl: env.INNGEST_BASE_URL ?? devServerUrl,
    eventKey: env.INNGEST_EVENT_KEY,
    signingKey: env.INNGEST_SIGNING_KEY,
    signingKeyFallback: env.INNGEST_SIGNING_KEY_FALLBACK,
  });
  const functions = Object.values(createFunctions({ inngest, db: getDatabase }));

  const handlers: RequestHandlers = createRequestHandlers({
    inngest,
    getDatabase,
    webhookSecret: env.WEBHOOK_SECRET,
    results: flowResultsReaders,
    logger,
  });
  const eventRuns = createRunsProxy({
    appId: env.INNGEST_APP_ID,
    apiBaseUrl: env.inngestApiBaseUrl,
    signingKey: env.INNGEST_SIGNING_KEY,
    fetch: options.fetch,
  });

  /** The guide's test from code: `fetch("http://localhost:<port>/api/hello")`. */
  const sendHello = async (): Promise<Response> => {
    try {
      const { ids } = await inngest.send({ name: "test/hello.world", data: {} });
      return json(200, { message: "Event sent!", id: ids[0], ids });
    } catch (error) {
      logger.error(`[${env.INNGEST_APP_ID}] could not send test/hello.world`, error);
      return json(502, {
        error: `could not send the event to Inngest: ${(error as Error).message}`,
      });
    }
  };

  const readRuns = async (eventId: string): Promise<Response> => {
    try {
      return json(200, { eventId, runs: await eventRuns(eventId) });
    } catch (error) {
      if (error instanceof RunsProxyError) return json(error.status, { error: error.message });
      logger.error(`[${env.INNGEST_APP_ID}] reading the runs of ${eventId} failed`, error);
      return json(500, { error: "internal error" });
    }
  };

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname.replace(/(.)\/$/, "$1");
    if (path === "/api/hello") {
      return request.method === "GET" ? sendHello() : methodNotAllowed(request, path, "GET");
    }
    const runs = /^\/api\/events\/([^/]+)\/runs$/.exec(path);
    if (runs) {
      if (request.method !== "GET") return methodNotAllowed(request, path, "GET");
      let eventId: string;
      try {
        eventId = decodeURIComponent(runs[1] ?? "");
      } catch {
        return json(400, { error: `malformed percent-encoding in the path ${path}` });
      }
      return readRuns(eventId);
    }
    return (
      (await handlers.handle(request)) ?? json(404, { error: `no route ${request.method} ${path}` })
    );
  };

  return { env, inngest, functions, start, handle };
}

function methodNotAllowed(request: Request, path: string, allowed: string): Response {
  return Response.json(
    { error: `method ${request.method} is not allowed on ${path}; use ${allowed}` },
    { status: 405, headers: { allow: allowed, "cache-control": "no-store" } },
  );
}
