// First, on its own line: @repo/app-runtime imports @repo/functions, whose client reads
// INNGEST_APP_ID when it is created, and the env module sets it.
import "./env.server";

import { createAppRuntime } from "@repo/app-runtime";
import { env } from "./env.server";
import { configureDatabase, inngest } from "./inngest.server";

/** Env, database and the shared `/api/*` routes: started with the server (./start.server.ts). */
export const runtime = createAppRuntime({ env, inngest, configureDatabase });
