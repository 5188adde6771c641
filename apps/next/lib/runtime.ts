// First, on its own line: @repo/app-runtime imports @repo/functions, whose client reads
// INNGEST_APP_ID when it is created, and the env module sets it.
import "./env";

import { createAppRuntime } from "@repo/app-runtime";
import { env } from "./env";
import { configureDatabase, inngest } from "./inngest";

/** Env, database and the shared `/api/*` routes: started by instrumentation.ts at boot. */
export const runtime = createAppRuntime({ env, inngest, configureDatabase });
