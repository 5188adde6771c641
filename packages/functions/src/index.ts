import { type DatabaseSource, databaseOf, type FunctionContext } from "./context";
import { defineBenchThreeSteps } from "./functions/bench-three-steps";
import { defineCreateProfile } from "./functions/create-profile";
import { defineDailyReport } from "./functions/daily-report";
import { defineDataPipeline } from "./functions/data-pipeline";
import { defineFlakyJob } from "./functions/flaky-job";
import { defineHelloWorld } from "./functions/hello-world";
import { defineProcessUserTask } from "./functions/process-user-task";
import { defineProcessWebhook } from "./functions/process-webhook";
import { defineRecordPageViews } from "./functions/record-page-views";
import { defineRequestApproval } from "./functions/request-approval";
import { defineSendWelcomeEmail } from "./functions/send-welcome-email";
import { defineSyncUserData } from "./functions/sync-user-data";
import { defineTrackAnalytics } from "./functions/track-analytics";

export { createInngestClient, type FunctionsClient, type InngestClientOptions } from "./client";
export type { DatabaseSource, FunctionContext } from "./context";
export * from "./events";
export { transformRecords, validateRecords } from "./pipeline";
export { type FlowResults, type FlowResultsReader, flowResultsReaders } from "./results";
export { interpretWebhook } from "./webhooks";

export interface CreateFunctionsOptions {
  /** The client the functions are created with (`createInngestClient({ appId })`). */
  inngest: FunctionContext["inngest"];
  /** The database the functions write to, or a function that returns it when a step needs it. */
  db: DatabaseSource;
}

/**
 * Every function, created with the app's client and database. Nothing here runs at import: the
 * app calls this once it knows its app id and database, so import order does not matter.
 */
export function createFunctions({ inngest, db }: CreateFunctionsOptions) {
  const context: FunctionContext = { inngest, database: databaseOf(db) };
  return {
    helloWorld: defineHelloWorld(context),
    sendWelcomeEmail: defineSendWelcomeEmail(context),
    createProfile: defineCreateProfile(context),
    trackAnalytics: defineTrackAnalytics(context),
    processWebhook: defineProcessWebhook(context),
    dataPipeline: defineDataPipeline(context),
    dailyReport: defineDailyReport(context),
    requestApproval: defineRequestApproval(context),
    processUserTask: defineProcessUserTask(context),
    syncUserData: defineSyncUserData(context),
    recordPageViews: defineRecordPageViews(context),
    flakyJob: defineFlakyJob(context),
    benchThreeSteps: defineBenchThreeSteps(context),
  };
}

export type AppFunctions = ReturnType<typeof createFunctions>;
