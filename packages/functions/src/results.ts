import type { FlowId } from "@repo/contracts/flows";
import type { Database } from "@repo/db";
import { readProfile } from "./functions/create-profile";
import { readReports } from "./functions/daily-report";
import { readPipeline } from "./functions/data-pipeline";
import { readRetries } from "./functions/flaky-job";
import { readTasks } from "./functions/process-user-task";
import { readWebhook, webhookLogIdProblem } from "./functions/process-webhook";
import { readPageViews } from "./functions/record-page-views";
import { readApproval } from "./functions/request-approval";
import { readWelcomeEmails } from "./functions/send-welcome-email";
import { readSyncs } from "./functions/sync-user-data";
import { readSignupAnalytics } from "./functions/track-analytics";

/**
 * What each flow's functions left in the database, for the flow's results panel: the rows they
 * wrote for one key (the flow's `resultsKey` in the catalogue: a user, a dataset, ...). Each
 * reader lives beside the function that writes those rows; this only puts them together per flow.
 * Dates stay `Date`s here; a JSON answer makes them ISO strings.
 */

export type FlowResults = Record<string, unknown>;

export interface FlowResultsReader {
  /** Why the key cannot name anything (checked before any database is opened); else undefined. */
  keyProblem?(key: string): string | undefined;
  read(db: Database, key: string): Promise<FlowResults>;
}

export const flowResultsReaders: Record<FlowId, FlowResultsReader> = {
  // A run's output is the result here, read from Inngest, not from the database.
  hello: { read: async () => ({}) },
  signup: {
    async read(db, userId) {
      const [profile, emails, analytics] = await Promise.all([
        readProfile(db, userId),
        readWelcomeEmails(db, userId),
        readSignupAnalytics(db, userId),
      ]);
      return { ...profile, ...emails, ...analytics };
    },
  },
  webhook: { keyProblem: webhookLogIdProblem, read: (db, logId) => readWebhook(db, Number(logId)) },
  pipeline: { read: readPipeline },
  approval: { read: readApproval },
  retries: { read: readRetries },
  concurrency: { read: readTasks },
  "rate-limit": { read: readSyncs },
  batching: { read: readPageViews },
  cron: { read: (db) => readReports(db) },
};
