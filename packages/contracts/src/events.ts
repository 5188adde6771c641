import { z } from "zod";

/**
 * The data of every event the functions react to, as zod schemas: the contract for senders. The
 * shared request handlers validate form bodies with them, and @repo/functions turns them into the
 * SDK's event types, which validate incoming events again at run time. zod only: no server code.
 */

const id = (label: string) =>
  z.string({ error: `${label} must be a string` }).regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, {
    error: `${label} must be 1-64 letters, digits, "_", ".", ":" or "-"`,
  });

const email = z.email({ error: "must be a valid email address" });

export const helloWorldData = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100).optional(),
});

export const userSignupData = z.object({
  userId: id("userId"),
  email,
  name: z.string().trim().min(1, "must not be empty").max(100),
  plan: z.enum(["free", "pro"]).optional(),
});

export const webhookReceivedData = z.object({
  logId: z.number().int().positive(),
  /** The Inngest app id of the app that logged it: the log row lives in that app's database. */
  app: z.string().min(1, "must name the app that logged the webhook"),
});

/**
 * Uploaded records are deliberately loose here: checking each record's fields is the pipeline's
 * `validate` step, which names the record and field that is wrong.
 */
export const dataUploadedData = z.object({
  datasetId: id("datasetId"),
  name: z.string().trim().min(1, "must not be empty").max(200),
  uploadedBy: email,
  records: z
    .array(z.record(z.string(), z.unknown()), { error: "must be an array of records" })
    .min(1, "must hold at least one record")
    .max(1000, "must hold at most 1000 records"),
});

export const approvalRequestedData = z.object({
  requestId: id("requestId"),
  title: z.string().trim().min(1, "must not be empty").max(200),
  requestedBy: email,
  /** How long to wait for a decision before the request expires (default one hour). */
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .optional(),
});

export const approvalDecidedData = z.object({
  requestId: id("requestId"),
  decision: z.enum(["approved", "rejected"]),
  decidedBy: email,
  comment: z.string().max(500).optional(),
});

export const taskCreatedData = z.object({
  userId: id("userId"),
  taskId: id("taskId"),
  /** How long the task's work takes, so that overlapping runs would be visible. */
  durationMs: z.number().int().min(0).max(10_000),
});

export const userSyncRequestedData = z.object({
  userId: id("userId"),
});

export const pageViewedData = z.object({
  userId: id("userId"),
  path: z.string().startsWith("/", "must start with /").max(500),
});

export const jobRequestedData = z.object({
  jobId: id("jobId"),
  /** The job's step fails this many attempts before it succeeds. */
  failTimes: z.number().int().min(0).max(10),
});

/**
 * The benchmark probe's event (`pnpm bench`): `n` is echoed through the steps, so a run's output
 * proves that all three steps ran on the data it was sent.
 */
export const benchThreeStepsData = z.object({
  n: z.number({ error: "n must be a number" }).int().min(0).max(1_000_000_000),
});

/** Every event name with its data schema. */
export const eventSchemas = {
  "test/hello.world": helloWorldData,
  "app/user.signup": userSignupData,
  "webhook/received": webhookReceivedData,
  "app/data.uploaded": dataUploadedData,
  "app/approval.requested": approvalRequestedData,
  "app/approval.decided": approvalDecidedData,
  "app/task.created": taskCreatedData,
  "app/user.sync.requested": userSyncRequestedData,
  "app/page.viewed": pageViewedData,
  "app/job.requested": jobRequestedData,
  "bench/three.steps": benchThreeStepsData,
} as const;

export type EventName = keyof typeof eventSchemas;

/** The data of an event, as its schema parses it. */
export type EventData<Name extends EventName> = z.infer<(typeof eventSchemas)[Name]>;
