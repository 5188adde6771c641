import { type FakeInngest, restFunction, restRun, startFakeInngest } from "@repo/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppDatabase, createAppDatabase } from "../src/database";
import { loadAppEnv } from "../src/env";
import { type AppRuntime, createAppRuntime } from "../src/runtime";

describe("createAppRuntime", () => {
  let fake: FakeInngest;
  let runtime: AppRuntime;
  let database: AppDatabase;
  const origin = "http://app.test";
  const logger = { info: () => {}, warn: () => {}, error: () => {} };

  const makeRuntime = () => {
    const env = loadAppEnv({
      appId: "unit",
      source: { INNGEST_DEV: fake.url, PGLITE_DATA_DIR: "memory://" },
    });
    return createAppRuntime({ env, database, logger });
  };

  beforeAll(async () => {
    fake = await startFakeInngest();
    database = createAppDatabase({ DATABASE_URL: undefined, PGLITE_DATA_DIR: "memory://" });
    runtime = makeRuntime();
  });
  afterAll(async () => {
    await database.close();
    await fake.close();
  });

  it("creates the client and every function under the env's app id, whatever was imported first", () => {
    const env = loadAppEnv({ appId: "next", source: { INNGEST_APP_ID: "next-2" } });
    const other = createAppRuntime({ env, logger });
    expect(other.inngest.id).toBe("next-2");
    expect(runtime.inngest.id).toBe("unit");
    const ids = runtime.functions.map((fn) => fn.id(runtime.inngest.id));
    expect(ids).toContain("unit-hello-world");
    expect(ids).toContain("unit-process-webhook");
    expect(ids.every((id) => id.startsWith("unit-"))).toBe(true);
    expect(other.functions.map((fn) => fn.id(other.inngest.id))).toContain("next-2-hello-world");
  });

  it("opens and migrates its database on start, once, however often it is started", async () => {
    const first = await runtime.start();
    const second = await makeRuntime().start();
    expect(second).toBe(first);
    const tables = await first.db.execute(
      "select count(*)::int as count from information_schema.tables where table_name = 'users'",
    );
    expect(JSON.stringify(tables)).toContain('"count":1');
  });

  it("runs the functions against the app's database", async () => {
    const { InngestTestEngine } = await import("@inngest/test");
    const signup = runtime.functions.find((fn) => fn.id() === "create-profile");
    if (!signup) throw new Error("no create-profile function");
    const { result, error } = await new InngestTestEngine({ function: signup }).execute({
      events: [
        {
          name: "app/user.signup",
          data: { userId: "u-rt", email: "rt@example.com", name: "Runtime" },
        },
      ],
    });
    expect(error).toBeUndefined();
    expect(result).toEqual({ userId: "u-rt", created: true });
    const { db } = await runtime.start();
    const rows = await db.execute("select id from users where id = 'u-rt'");
    expect(JSON.stringify(rows)).toContain("u-rt");
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
    const [mine, theirs] = [
      "6f1c2f0e-6a43-5a5e-9a8e-1d2f3c4b5a69",
      "0b9e6d4c-2f1a-5c3b-8e7d-6a5b4c3d2e1f",
    ];
    fake.functionsByApp.set("unit", [restFunction("unit-hello-world", mine)]);
    fake.functionsByApp.set("other", [restFunction("other-hello-world", theirs)]);
    const runs = [
      restRun(mine, "Completed", { message: "Hello!" }, "01RUNMINE"),
      restRun(theirs, "Completed", null, "01RUNTHEIRS"),
    ];
    fake.runsByEvent.set("01EVENTR", runs);
    for (const run of runs) fake.runsById.set(run.run_id, run);
    const response = await runtime.handle(new Request(`${origin}/api/events/01EVENTR/runs`));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      eventId: "01EVENTR",
      runs: [
        expect.objectContaining({
          run_id: "01RUNMINE",
          function: "hello-world",
          function_id: mine,
          output: { message: "Hello!" },
          output_reported: true,
        }),
      ],
    });
    const unknown = await runtime.handle(new Request(`${origin}/api/events/01NOPE/runs`));
    expect(unknown.status).toBe(404);
  });

  it("mounts the shared handlers", async () => {
    const results = await runtime.handle(new Request(`${origin}/api/flows/hello/results`));
    expect(results.status).toBe(200);
    expect(await results.json()).toMatchObject({ flow: "hello", results: {} });
    const invalid = await runtime.handle(
      new Request(`${origin}/api/flows/signup/send`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
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
