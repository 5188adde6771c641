import { benchThreeStepsFn } from "./functions/bench-three-steps";
import { createProfile } from "./functions/create-profile";
import { dailyReport } from "./functions/daily-report";
import { dataPipeline } from "./functions/data-pipeline";
import { flakyJob } from "./functions/flaky-job";
import { helloWorldFn } from "./functions/hello-world";
import { processUserTask } from "./functions/process-user-task";
import { processWebhook } from "./functions/process-webhook";
import { recordPageViews } from "./functions/record-page-views";
import { requestApproval } from "./functions/request-approval";
import { sendWelcomeEmail } from "./functions/send-welcome-email";
import { syncUserData } from "./functions/sync-user-data";
import { trackAnalytics } from "./functions/track-analytics";

export { inngest } from "./client";
export { configureDatabase, getDatabase } from "./database";
export * from "./events";
export { transformRecords, validateRecords } from "./pipeline";
export { interpretWebhook } from "./webhooks";
export {
  benchThreeStepsFn,
  createProfile,
  dailyReport,
  dataPipeline,
  flakyJob,
  helloWorldFn,
  processUserTask,
  processWebhook,
  recordPageViews,
  requestApproval,
  sendWelcomeEmail,
  syncUserData,
  trackAnalytics,
};

/** Every function, served unmodified by each app's `/api/inngest` route. */
export const functions = [
  helloWorldFn,
  sendWelcomeEmail,
  createProfile,
  trackAnalytics,
  processWebhook,
  dataPipeline,
  dailyReport,
  requestApproval,
  processUserTask,
  syncUserData,
  recordPageViews,
  flakyJob,
  benchThreeStepsFn,
];
