import {
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

// Signup fan-out: `create-profile` writes both rows; the user id comes from the event.
export const users = pgTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const profiles = pgTable("profiles", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  displayName: text("display_name").notNull(),
  plan: text("plan").notNull().default("free"),
  createdAt: createdAt(),
});

/**
 * Every email the system sends is one row. `dedupeKey` makes sending idempotent: a rerun of the
 * function that sends it finds the row already there and sends nothing twice.
 */
export const emailOutbox = pgTable(
  "email_outbox",
  {
    id: serial("id").primaryKey(),
    dedupeKey: text("dedupe_key").notNull(),
    recipient: text("recipient").notNull(),
    template: text("template").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    sentAt: timestamp("sent_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("email_outbox_dedupe_key_idx").on(t.dedupeKey),
    index("email_outbox_recipient_idx").on(t.recipient),
  ],
);

export const webhookStatus = pgEnum("webhook_status", ["received", "processed", "failed"]);

/** Webhooks are logged (raw, as received) before anything processes them. */
export const webhookLog = pgTable("webhook_log", {
  id: serial("id").primaryKey(),
  source: text("source").notNull(),
  payload: text("payload").notNull(),
  signatureValid: boolean("signature_valid").notNull(),
  status: webhookStatus("status").notNull().default("received"),
  result: jsonb("result").$type<Record<string, unknown>>(),
  error: text("error"),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp("processed_at", { withTimezone: true }),
});

export const datasetStatus = pgEnum("dataset_status", ["processing", "stored", "failed"]);

export const datasets = pgTable("datasets", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  uploadedBy: text("uploaded_by").notNull(),
  status: datasetStatus("status").notNull().default("processing"),
  recordCount: integer("record_count").notNull().default(0),
  totalCents: integer("total_cents"),
  error: text("error"),
  uploadedAt: timestamp("uploaded_at", { withTimezone: true }).notNull().defaultNow(),
  completedAt: timestamp("completed_at", { withTimezone: true }),
});

export const datasetRecords = pgTable(
  "dataset_records",
  {
    id: serial("id").primaryKey(),
    datasetId: text("dataset_id")
      .notNull()
      .references(() => datasets.id, { onDelete: "cascade" }),
    rowIndex: integer("row_index").notNull(),
    name: text("name").notNull(),
    email: text("email").notNull(),
    amountCents: integer("amount_cents").notNull(),
  },
  (t) => [uniqueIndex("dataset_records_dataset_row_idx").on(t.datasetId, t.rowIndex)],
);

/** One report per day: the cron's scheduled date is the key, so a rerun replaces nothing. */
export const reports = pgTable("reports", {
  id: serial("id").primaryKey(),
  reportDate: date("report_date", { mode: "string" }).notNull().unique(),
  periodStart: timestamp("period_start", { withTimezone: true }).notNull(),
  periodEnd: timestamp("period_end", { withTimezone: true }).notNull(),
  stats: jsonb("stats").$type<ReportStats>().notNull(),
  createdAt: createdAt(),
});

export interface ReportStats {
  signups: number;
  emailsSent: number;
  webhooksProcessed: number;
  webhooksFailed: number;
  datasetsStored: number;
  recordsStored: number;
  analyticsEvents: number;
}

export const analyticsEvents = pgTable(
  "analytics_events",
  {
    id: serial("id").primaryKey(),
    dedupeKey: text("dedupe_key").notNull(),
    userId: text("user_id").notNull(),
    name: text("name").notNull(),
    properties: jsonb("properties").$type<Record<string, unknown>>().notNull().default({}),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("analytics_events_dedupe_key_idx").on(t.dedupeKey),
    index("analytics_events_user_idx").on(t.userId),
  ],
);

/** One row per batch a batching function received: how many events, in one statement. */
export const eventBatches = pgTable("event_batches", {
  id: serial("id").primaryKey(),
  runId: text("run_id").notNull().unique(),
  functionId: text("function_id").notNull(),
  size: integer("size").notNull(),
  eventIds: jsonb("event_ids").$type<string[]>().notNull(),
  createdAt: createdAt(),
});

export const approvalStatus = pgEnum("approval_status", [
  "pending",
  "approved",
  "rejected",
  "expired",
]);

export const approvalRequests = pgTable("approval_requests", {
  id: text("id").primaryKey(),
  title: text("title").notNull(),
  requestedBy: text("requested_by").notNull(),
  status: approvalStatus("status").notNull().default("pending"),
  decidedBy: text("decided_by"),
  comment: text("comment"),
  requestedAt: timestamp("requested_at", { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  decidedAt: timestamp("decided_at", { withTimezone: true }),
});

/** The retry demo writes one row per attempt of its flaky step, with the attempt's time. */
export const jobAttempts = pgTable(
  "job_attempts",
  {
    id: serial("id").primaryKey(),
    jobId: text("job_id").notNull(),
    attempt: integer("attempt").notNull(),
    succeeded: boolean("succeeded").notNull(),
    error: text("error"),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("job_attempts_job_attempt_idx").on(t.jobId, t.attempt)],
);

/** Written by failure handlers once a function has run out of retries. */
export const functionFailures = pgTable(
  "function_failures",
  {
    id: serial("id").primaryKey(),
    functionId: text("function_id").notNull(),
    runId: text("run_id").notNull(),
    eventName: text("event_name").notNull(),
    eventData: jsonb("event_data").$type<Record<string, unknown>>().notNull(),
    subjectId: text("subject_id"),
    error: text("error").notNull(),
    failedAt: timestamp("failed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("function_failures_function_run_idx").on(t.functionId, t.runId),
    index("function_failures_subject_idx").on(t.subjectId),
  ],
);

/**
 * The concurrency demo records when each run's work starts and ends, so that overlap between runs
 * of the same key (which the concurrency limit forbids) can be checked from the data.
 */
export const taskRuns = pgTable(
  "task_runs",
  {
    id: serial("id").primaryKey(),
    taskId: text("task_id").notNull().unique(),
    userId: text("user_id").notNull(),
    runId: text("run_id").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, precision: 6 }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true, precision: 6 }),
  },
  (t) => [index("task_runs_user_idx").on(t.userId)],
);

/** The rate-limit demo: one row per run that was allowed to start. */
export const syncRuns = pgTable(
  "sync_runs",
  {
    id: serial("id").primaryKey(),
    eventId: text("event_id").notNull().unique(),
    userId: text("user_id").notNull(),
    runId: text("run_id").notNull(),
    ranAt: timestamp("ran_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sync_runs_user_idx").on(t.userId)],
);
