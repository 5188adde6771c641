import {
  approvalDecidedData,
  approvalRequestedData,
  benchThreeStepsData,
  dataUploadedData,
  helloWorldData,
  jobRequestedData,
  pageViewedData,
  taskCreatedData,
  userSignupData,
  userSyncRequestedData,
  webhookReceivedData,
} from "@repo/contracts/events";
import { eventType } from "inngest";

/**
 * The SDK's event types, built from the data schemas of @repo/contracts: a function triggered by
 * one gets `event.data` typed, and the SDK validates incoming events with the schema.
 */

export const helloWorld = eventType("test/hello.world", { schema: helloWorldData });
export const userSignup = eventType("app/user.signup", { schema: userSignupData });
export const webhookReceived = eventType("webhook/received", { schema: webhookReceivedData });
export const dataUploaded = eventType("app/data.uploaded", { schema: dataUploadedData });
export const approvalRequested = eventType("app/approval.requested", {
  schema: approvalRequestedData,
});
export const approvalDecided = eventType("app/approval.decided", { schema: approvalDecidedData });
export const taskCreated = eventType("app/task.created", { schema: taskCreatedData });
export const userSyncRequested = eventType("app/user.sync.requested", {
  schema: userSyncRequestedData,
});
export const pageViewed = eventType("app/page.viewed", { schema: pageViewedData });
export const jobRequested = eventType("app/job.requested", { schema: jobRequestedData });
export const benchThreeSteps = eventType("bench/three.steps", { schema: benchThreeStepsData });

/** The events that a person or another system sends (cron and failure events are Inngest's). */
export const events = {
  helloWorld,
  userSignup,
  webhookReceived,
  dataUploaded,
  approvalRequested,
  approvalDecided,
  taskCreated,
  userSyncRequested,
  pageViewed,
  jobRequested,
  benchThreeSteps,
} as const;
