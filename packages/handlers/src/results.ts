import type { Flow, FlowId } from "@repo/contracts/flows";
import type { Database } from "@repo/db";
import { HttpError } from "./http";

/**
 * What each flow left in the database, for its results panel. The readers come from the functions
 * that write the rows (`flowResultsReaders` of @repo/functions): the handlers only check the key
 * and answer what the reader read.
 */

export type FlowResults = Record<string, unknown>;

export interface ResultsReader {
  /** Why the key cannot name anything (answered 400, before any database is opened). */
  keyProblem?(key: string): string | undefined;
  read(db: Database, key: string): Promise<FlowResults>;
}

export type ResultsReaders = Record<FlowId, ResultsReader>;

export type ResultsRead = (db: Database) => Promise<FlowResults>;

/**
 * Checks the key for the flow and returns the read to run (so that a bad key is answered before
 * any database is opened). Flows without a `resultsKey` ignore the key.
 */
export function prepareResultsRead(
  readers: ResultsReaders,
  flow: Flow,
  key: string | null,
): ResultsRead {
  const reader = readers[flow.id as FlowId];
  if (!reader) throw new Error(`flow "${flow.id}" has no results reader`);
  if (!flow.resultsKey) return (db) => reader.read(db, "");
  if (!key) {
    throw new HttpError(
      400,
      `missing query parameter "key" (the ${flow.resultsKey} whose results to show)`,
    );
  }
  const problem = reader.keyProblem?.(key);
  if (problem) throw new HttpError(400, problem);
  return (db) => reader.read(db, key);
}
