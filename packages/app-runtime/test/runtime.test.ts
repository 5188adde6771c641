import type { DatabaseHandle } from "@repo/db";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeAppDatabase } from "../src/database";
import { loadAppEnv } from "../src/env";
import { type AppRuntime, createAppRuntime } from "../src/runtime";
import { type FakeInngest, restRun, startFakeInngest } from "./fake-inngest";

describe("createAppRuntime", () => {
  let fake: FakeInngest;
  let runtime: AppRuntime;
  const configured: DatabaseHandle[] = [];
  const origin = "http://app.test";
  const logger = { info: () => {}, warn: () => {}, error: () => {} };

  const makeRuntime = () => {
    const env = loadAppEnv({
      appId: "unit",
      source: { INNGEST_DEV: fake.url, PGLITE_DATA_DIR: "memory://" },
    });
    const inngest = new Inngest({ id: "unit", isDev: true, baseUrl: fake.url });
    return createAppRuntime({
      env,
      inngest,
      configureDatabase: (handle) => configured.push(handle),
      logger,
    });
  };

  beforeAll(async () => {
    fake = await startFakeInngest();
    runtime = makeRuntime();
  });
  afterAll(async () => {
    await closeAppDatabase();
    await fake.close();
  });

  it("refuses a client created before the env module set INNGEST_APP_ID", () => {
    const env = loadAppEnv({ appId: "next", source: {} });
    const early = new Inngest({ id: "inngest-frameworks", isDev: true });
    expect(() => createAppRuntime({ env, inngest: early, configureDatabase: () => {} })).toThrow(
      /app id is "inngest-frameworks", but this app's INNGEST_APP_ID is "next"/,
    );
  });

  it("opens and migrates the database once per process, however often it is created", async () => {
    const first = await runtime.start();
    const second = await makeRuntime().start();
    expect(second).toBe(first);
    expect(configured).toEqual([first]);
    const tables = await first.db.execute(
      "select count(*)::int as count from information_schema.tables where table_name = 'users'",
    );
    expect(JSON.stringify(tables)).toContain('"count":1');
  });

  it("answers GET /api/hello by sending test/hello.world and returning the event id", async () => {
    const response = await runtime.handle(new Request(`${origin}/api/hello`));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; ids: string[] };
    expect(body.id).toMatch(/^01FAKE/);
    expect(body.ids).toEqual([body.id]);
    expect(fake.events.at(-1)).toMatchObject({ name: "test/hello.world" });
  });

  it("reads an event's runs through GET /api/events/:id/runs, this app's only", async () => {
    fake.runsByEvent.set("01EVENTR", [restRun("unit-hello-world"), restRun("other-hello-world")]);
    const response = await runtime.handle(new Request(`${origin}/api/events/01EVENTR/runs`));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      eventId: "01EVENTR",
      runs: [expect.objectContaining({ function: "hello-world", function_id: "unit-hello-world" })],
    });
    const unknown = await runtime.handle(new Request(`${origin}/api/events/01NOPE/runs`));
    expect(unknown.status).toBe(404);
  });

  it("mounts the shared handlers", async () => {
    const results = await runtime.handle(new Request(`${origin}/api/flows/hello/results`));
    expect(results.status).toBe(200);
    expect(await results.json()).toMatchObject({ flow: "hello", results: {} });
    const invalid = await runtime.handle(
      new Request(`${origin}/api/flows/signup/send`, { method: "POST", body: "{}" }),
    );
    expect(invalid.status).toBe(400);
  });

  it("answers 405 to a wrong method and a JSON 404 to an unknown route", async () => {
    const post = await runtime.handle(new Request(`${origin}/api/hello`, { method: "POST" }));
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
    const missing = await runtime.handle(new Request(`${origin}/api/nothing/here`));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "no route GET /api/nothing/here" });
  });
});
