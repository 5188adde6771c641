import type { Database } from "@repo/db";
import type { FunctionsClient } from "./client";

/**
 * Where the functions get their database: a database, or a function that returns one (an app
 * opens and migrates its database at start, after the functions are created).
 */
export type DatabaseSource = Database | (() => Database | Promise<Database>);

/** What every function is defined with: the client, and the database it writes to. */
export interface FunctionContext {
  inngest: FunctionsClient;
  database(): Promise<Database>;
}

export function databaseOf(source: DatabaseSource): () => Promise<Database> {
  return typeof source === "function" ? async () => source() : async () => source;
}
