import {
  analyticsEvents,
  approvalRequests,
  type Database,
  datasetRecords,
  datasets,
  emailOutbox,
  eventBatches,
  functionFailures,
  jobAttempts,
  profiles,
  reports,
  syncRuns,
  taskRuns,
  users,
  webhookLog,
} from "@repo/db";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { Flow, FlowId, flows } from "./flows";
import { HttpError } from "./http";

/**
 * What each flow left in the database, for its results panel: the rows its functions wrote for one
 * key (a user, a dataset, ...). Dates stay `Date`s here; the JSON answer makes them ISO strings.
 */

export type FlowResults = Record<string, unknown>;
export type ResultsRead = (db: Database) => Promise<FlowResults>;

type KeyedFlowId = Extract<(typeof flows)[number], { resultsKey: string }>["id"];
type UnkeyedFlowId = Exclude<FlowId, KeyedFlowId>;

const first = <T>(rows: T[]): T | null => rows[0] ?? null;

async function readSignup(db: Database, userId: string): Promise<FlowResults> {
  const [user, profile, emails, analytics] = await Promise.all([
    db.select().from(users).where(eq(users.id, userId)).then(first),
    db.select().from(profiles).where(eq(profiles.userId, userId)).then(first),
    db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.dedupeKey, `welcome:${userId}`))
      .orderBy(asc(emailOutbox.id)),
    db
      .select()
      .from(analyticsEvents)
      .where(and(eq(analyticsEvents.userId, userId), eq(analyticsEvents.name, "user.signed_up")))
      .orderBy(asc(analyticsEvents.id)),
  ]);
  return { user, profile, emails, analytics };
}

/** webhook_log ids are PostgreSQL `integer`s: anything else cannot name a row. */
function parseLogId(key: string): number {
  const logId = /^[1-9][0-9]{0,9}$/.test(key) ? Number(key) : Number.NaN;
  if (!(logId <= 2_147_483_647)) {
    throw new HttpError(
      400,
      `key must be a webhook log id (a positive whole number), got "${key}"`,
    );
  }
  return logId;
}

async function readWebhook(db: Database, logId: number): Promise<FlowResults> {
  const webhook = await db.select().from(webhookLog).where(eq(webhookLog.id, logId)).then(first);
  return { webhook };
}

async function readPipeline(db: Database, datasetId: string): Promise<FlowResults> {
  const [dataset, records, emails] = await Promise.all([
    db.select().from(datasets).where(eq(datasets.id, datasetId)).then(first),
    db
      .select()
      .from(datasetRecords)
      .where(eq(datasetRecords.datasetId, datasetId))
      .orderBy(asc(datasetRecords.rowIndex)),
    db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.dedupeKey, `dataset-stored:${datasetId}`))
      .orderBy(asc(emailOutbox.id)),
  ]);
  return { dataset, records, emails };
}

async function readApproval(db: Database, requestId: string): Promise<FlowResults> {
  const request = await db
    .select()
    .from(approvalRequests)
    .where(eq(approvalRequests.id, requestId))
    .then(first);
  return { request };
}

async function readRetries(db: Database, jobId: string): Promise<FlowResults> {
  const [attempts, failures] = await Promise.all([
    db
      .select()
      .from(jobAttempts)
      .where(eq(jobAttempts.jobId, jobId))
      .orderBy(asc(jobAttempts.attempt)),
    db
      .select()
      .from(functionFailures)
      .where(
        and(eq(functionFailures.functionId, "flaky-job"), eq(functionFailures.subjectId, jobId)),
      )
      .orderBy(asc(functionFailures.failedAt), asc(functionFailures.id)),
  ]);
  return { attempts, failures };
}

async function readConcurrency(db: Database, userId: string): Promise<FlowResults> {
  const tasks = await db
    .select()
    .from(taskRuns)
    .where(eq(taskRuns.userId, userId))
    .orderBy(asc(taskRuns.startedAt), asc(taskRuns.id));
  return { tasks };
}

async function readRateLimit(db: Database, userId: string): Promise<FlowResults> {
  const syncs = await db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.userId, userId))
    .orderBy(asc(syncRuns.ranAt), asc(syncRuns.id));
  return { syncs };
}

/** `record-page-views` keys each stored view by its event id: `page.viewed:<event id>`. */
const PAGE_VIEW_KEY_PREFIX = "page.viewed:";

async function readBatching(db: Database, userId: string): Promise<FlowResults> {
  const pageViews = await db
    .select()
    .from(analyticsEvents)
    .where(and(eq(analyticsEvents.userId, userId), eq(analyticsEvents.name, "page.viewed")))
    .orderBy(asc(analyticsEvents.occurredAt), asc(analyticsEvents.id));
  const eventIds = pageViews
    .filter((view) => view.dedupeKey.startsWith(PAGE_VIEW_KEY_PREFIX))
    .map((view) => view.dedupeKey.slice(PAGE_VIEW_KEY_PREFIX.length));
  const batches =
    eventIds.length === 0
      ? []
      : await db
          .select()
          .from(eventBatches)
          .where(
            and(
              eq(eventBatches.functionId, "record-page-views"),
              // jsonb `?|`: the batch's event id array holds at least one of this user's events.
              sql`${eventBatches.eventIds} ?| array[${sql.join(
                eventIds.map((id) => sql`${id}`),
                sql`, `,
              )}]::text[]`,
            ),
          )
          .orderBy(asc(eventBatches.createdAt), asc(eventBatches.id));
  return { pageViews, batches };
}

const LATEST_REPORTS = 10;

async function readReports(db: Database): Promise<FlowResults> {
  const latest = await db
    .select()
    .from(reports)
    .orderBy(desc(reports.reportDate))
    .limit(LATEST_REPORTS);
  return { reports: latest };
}

const keyedReaders: Record<KeyedFlowId, (key: string) => ResultsRead> = {
  signup: (userId) => (db) => readSignup(db, userId),
  webhook: (key) => {
    const logId = parseLogId(key);
    return (db) => readWebhook(db, logId);
  },
  pipeline: (datasetId) => (db) => readPipeline(db, datasetId),
  approval: (requestId) => (db) => readApproval(db, requestId),
  retries: (jobId) => (db) => readRetries(db, jobId),
  concurrency: (userId) => (db) => readConcurrency(db, userId),
  "rate-limit": (userId) => (db) => readRateLimit(db, userId),
  batching: (userId) => (db) => readBatching(db, userId),
};

const unkeyedReaders: Record<UnkeyedFlowId, ResultsRead> = {
  // A run's output is the result here, read from Inngest, not from the database.
  hello: async () => ({}),
  cron: readReports,
};

/**
 * Checks the key for the flow and returns the read to run (so that a bad key is answered before
 * any database is opened). Flows without a `resultsKey` ignore the key.
 */
export function prepareResultsRead(flow: Flow, key: string | null): ResultsRead {
  if (!flow.resultsKey) {
    const read = unkeyedReaders[flow.id as UnkeyedFlowId];
    if (!read) throw new Error(`flow "${flow.id}" has no results reader`);
    return read;
  }
  if (!key) {
    throw new HttpError(
      400,
      `missing query parameter "key" (the ${flow.resultsKey} whose results to show)`,
    );
  }
  const reader = keyedReaders[flow.id as KeyedFlowId];
  if (!reader) throw new Error(`flow "${flow.id}" has no results reader`);
  return reader(key);
}
