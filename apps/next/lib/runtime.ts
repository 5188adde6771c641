import { type AppDatabase, createAppDatabase, createAppRuntime } from "@repo/app-runtime";
import { env } from "./env";

/**
 * `next dev` evaluates this module again after an edit to a file it imports; the database (a
 * connection pool, or PGlite holding its folder) must stay one per process, so the app keeps it
 * for the process here. The client, the functions and the routes are created afresh each time.
 */
const processState = globalThis as { appDatabase?: AppDatabase };
processState.appDatabase ??= createAppDatabase(env);

/** The client, the functions, the database and the shared `/api/*` routes of this app. */
export const runtime = createAppRuntime({ env, database: processState.appDatabase });
