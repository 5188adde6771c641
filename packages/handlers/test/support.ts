import { type Database, webhookLog } from "@repo/db";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { flowResultsReaders } from "@repo/functions";
import { type FakeInngest, type SentEvent, startFakeInngest } from "@repo/test-utils";
import { Inngest } from "inngest";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createRequestHandlers, type RequestHandlers } from "../src/index";

/** PGlite always, PostgreSQL too where it is reachable (it is on every machine of this project). */
export const drivers = await testDrivers();

export const WEBHOOK_SECRET = "test-webhook-secret";
export const ORIGIN = "http://app.test";

export { type FakeInngest, type SentEvent, startFakeInngest };

export function testInngestClient(fake: FakeInngest): Inngest {
  return new Inngest({ id: "test", isDev: true, baseUrl: fake.url });
}

export interface HandlerHarness {
  readonly db: Database;
  /** Sends to a fake event API that accepts everything. */
  readonly inngest: FakeInngest;
  readonly handlers: RequestHandlers;
  /** The same handlers, but sending to an event API that answers 500. */
  readonly failingInngest: FakeInngest;
  readonly failingHandlers: RequestHandlers;
  /** What the handlers logged as errors. */
  readonly logged: unknown[][];
}

/**
 * For the enclosing `describe`: a fresh migrated database of the driver, fake event APIs and the
 * handlers wired to them. Before each test the webhook log and the fakes are emptied, so that
 * every test can assert "nothing stored, nothing sent".
 */
export function useHandlers(driver: (typeof drivers)[number]): HandlerHarness {
  let database: TestDatabase | undefined;
  let inngest: FakeInngest | undefined;
  let failingInngest: FakeInngest | undefined;
  let handlers: RequestHandlers | undefined;
  let failingHandlers: RequestHandlers | undefined;
  const logged: unknown[][] = [];
  const logger = { error: (...args: unknown[]) => void logged.push(args) };

  beforeAll(async () => {
    database = await createTestDatabase(driver);
    inngest = await startFakeInngest();
    failingInngest = await startFakeInngest({ failing: true });
    const db = database.db;
    const common = {
      getDatabase: async () => db,
      webhookSecret: WEBHOOK_SECRET,
      logger,
      results: flowResultsReaders,
    };
    handlers = createRequestHandlers({ ...common, inngest: testInngestClient(inngest) });
    failingHandlers = createRequestHandlers({
      ...common,
      inngest: testInngestClient(failingInngest),
    });
  }, 180_000);

  beforeEach(async () => {
    await database?.db.delete(webhookLog);
    inngest?.reset();
    failingInngest?.reset();
    logged.length = 0;
  });

  afterAll(async () => {
    await Promise.all([inngest?.close(), failingInngest?.close()]);
    await database?.dispose();
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error("the test harness is not ready (used outside a test?)");
    return value;
  };
  return {
    get db() {
      return ready(database).db;
    },
    get inngest() {
      return ready(inngest);
    },
    get handlers() {
      return ready(handlers);
    },
    get failingInngest() {
      return ready(failingInngest);
    },
    get failingHandlers() {
      return ready(failingHandlers);
    },
    logged,
  };
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A body stream that never ends: only a reader that stops at its limit can answer it. */
export function endlessBody(chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(chunkSize).fill(0x61);
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(chunk);
    },
  });
}

export function postStream(
  path: string,
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
) {
  // `duplex` is required by Node's fetch for a stream body, and missing from the DOM types.
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers,
    body,
    duplex: "half",
  } as RequestInit);
}

export async function webhookLogCount(db: Database): Promise<number> {
  return (await db.select({ id: webhookLog.id }).from(webhookLog)).length;
}

export async function readJsonResponse(response: Response | null) {
  if (!response) throw new Error("expected a response, got null (no route matched)");
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
