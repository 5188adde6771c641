import { InngestTestEngine } from "@inngest/test";
import type { Database } from "@repo/db";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { afterAll, beforeAll } from "vitest";
import {
  type AppFunctions,
  createFunctions,
  createInngestClient,
  type DatabaseSource,
  type FunctionsClient,
} from "../src";

/** PGlite always, PostgreSQL too where it is reachable (it is on every machine of this project). */
export const drivers = await testDrivers();

/** The app id the functions of the unit tests register under. */
export const TEST_APP_ID = "functions-test";

const noDatabase = () => {
  throw new Error("this test gave the functions no database");
};

/** Every function, created as an app creates them, writing to `db` (none by default). */
export function testFunctions(db: DatabaseSource = noDatabase): AppFunctions {
  return createFunctions({ inngest: createInngestClient({ appId: TEST_APP_ID }), db });
}

/**
 * A fresh, migrated database of the given driver for the enclosing `describe`, and the functions
 * created with it (as an app creates them, with the database passed in).
 */
export function useTestDatabase(driver: (typeof drivers)[number]): {
  readonly db: Database;
  readonly functions: AppFunctions;
  readonly inngest: FunctionsClient;
} {
  let database: TestDatabase | undefined;
  const db = () => {
    if (!database) throw new Error("the test database is not ready (used outside a test?)");
    return database.db;
  };
  const inngest = createInngestClient({ appId: TEST_APP_ID });
  const functions = createFunctions({ inngest, db });
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  }, 180_000);
  afterAll(async () => {
    await database?.dispose();
  });
  return {
    get db() {
      return db();
    },
    functions,
    inngest,
  };
}

type Fn = ConstructorParameters<typeof InngestTestEngine>[0]["function"];
type ExecuteOptions = NonNullable<Parameters<InngestTestEngine["execute"]>[0]>;

let eventCounter = 0;

/** An event as Inngest delivers it: with an id and a timestamp. */
export function event<TData extends Record<string, unknown>>(
  name: string,
  data: TData,
  extra: { id?: string; ts?: number } = {},
) {
  eventCounter += 1;
  return {
    id: extra.id ?? `evt-${Date.now()}-${eventCounter}`,
    ts: extra.ts ?? Date.now(),
    name,
    data,
  };
}

/** Runs a function to its end with the real v4 execution engine (in process, no server). */
export function execute(fn: Fn, events: ReturnType<typeof event>[], options: ExecuteOptions = {}) {
  return new InngestTestEngine({ function: fn }).execute({
    ...options,
    events: events as NonNullable<ExecuteOptions["events"]>,
  });
}
