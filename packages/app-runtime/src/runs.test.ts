import { type FakeInngest, restFunction, restRun, startFakeInngest } from "@repo/test-utils";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { appRun, createRunsProxy, RunsProxyError, restError } from "./runs";

/**
 * The runs proxy against a fake of what Inngest's servers answer (measured on the real dev
 * server): runs named by function UUIDs, an app's functions as a bare array, `""` as the output of
 * a checkpointed run, a stale status in an event's run list, GETs cached by URL, and failed GETs
 * answered 200 with `{error, status}`.
 */

// Three apps on one server, each serving hello-world: each function has its own UUID.
const NEXT_HELLO = "586d4050-1d5e-5ee9-800c-c46753c99135";
const NEXT_FLAKY_FAILURE = "1b7f3e52-0c3d-5b6a-9e8f-2a4c6e8f0a1b";
const ASTRO_HELLO = "9c2d4e6f-8a0b-5c1d-9e2f-3a4b5c6d7e8f";
const REMIX_HELLO = "2e4f6a8c-0b2d-5e4f-8a6b-7c8d9e0f1a2b";

function addRun(fake: FakeInngest, eventId: string, run: ReturnType<typeof restRun>): void {
  fake.runsByEvent.set(eventId, [...(fake.runsByEvent.get(eventId) ?? []), run]);
  fake.runsById.set(run.run_id, run);
}

describe("appRun", () => {
  it("names the function by the app's id within the slug", () => {
    expect(appRun(restRun(NEXT_HELLO), "next-hello-world", "next")).toMatchObject({
      function_id: NEXT_HELLO,
      function: "hello-world",
    });
  });

  it('reports no output for an ended run Inngest answers with "" (a checkpointed run)', () => {
    expect(appRun(restRun(NEXT_HELLO, "Completed", ""), "next-hello-world", "next")).toMatchObject({
      status: "Completed",
      output: null,
      output_reported: false,
    });
    const { output: _, ...omitted } = restRun(NEXT_HELLO, "Completed");
    expect(appRun(omitted, "next-hello-world", "next")).toMatchObject({
      output: null,
      output_reported: false,
    });
    expect(
      appRun(restRun(NEXT_HELLO, "Completed", { message: "Hi" }), "next-hello-world", "next"),
    ).toMatchObject({ output: { message: "Hi" }, output_reported: true });
    expect(appRun(restRun(NEXT_HELLO, "Running"), "next-hello-world", "next")).toMatchObject({
      output: null,
      output_reported: false,
    });
  });
});

describe("restError", () => {
  it("tells Inngest's error bodies (answered with 200) from answers", () => {
    expect(restError({ error: "Unable to load function run", data: null, status: 500 })).toEqual({
      error: "Unable to load function run",
      status: 500,
    });
    expect(restError({ error: "nope" })).toEqual({ error: "nope", status: 500 });
    expect(restError({ data: [], metadata: {} })).toBeUndefined();
    expect(restError([])).toBeUndefined();
  });
});

describe("createRunsProxy", () => {
  let fake: FakeInngest;
  beforeAll(async () => {
    fake = await startFakeInngest();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.reset();
    fake.runsByEvent.clear();
    fake.runsById.clear();
    fake.functionsByApp.clear();
    fake.functionsByApp.set("next", [
      restFunction("next-hello-world", NEXT_HELLO),
      restFunction("next-flaky-job-failure", NEXT_FLAKY_FAILURE),
    ]);
    fake.functionsByApp.set("astro", [restFunction("astro-hello-world", ASTRO_HELLO)]);
    fake.functionsByApp.set("remix", [restFunction("remix-hello-world", REMIX_HELLO)]);
  });
  const proxy = (appId = "next") =>
    createRunsProxy({ appId, apiBaseUrl: fake.url, signingKey: undefined });

  it("keeps this app's runs, named through its function list, and leaves other apps' out", async () => {
    for (const [id, fn] of [
      ["01RUN1", NEXT_HELLO],
      ["01RUN2", ASTRO_HELLO],
      ["01RUN3", REMIX_HELLO],
      ["01RUN4", NEXT_FLAKY_FAILURE],
    ] as const)
      addRun(fake, "01EVENTA", restRun(fn, "Completed", null, id));
    const runs = await proxy()("01EVENTA");
    expect(runs.map((run) => [run.run_id, run.function_id, run.function])).toEqual([
      ["01RUN1", NEXT_HELLO, "hello-world"],
      ["01RUN4", NEXT_FLAKY_FAILURE, "flaky-job-failure"],
    ]);
    expect((await proxy("astro")("01EVENTA")).map((run) => run.function)).toEqual(["hello-world"]);
  });

  it("reads the function list once, and again when an id it does not know shows up", async () => {
    const eventRuns = proxy();
    addRun(fake, "01EVENTB", restRun(NEXT_HELLO, "Completed", null, "01RUNB1"));
    await eventRuns("01EVENTB");
    await eventRuns("01EVENTB");
    const listReads = () =>
      fake.restRequests.filter((path) => path === "/v1/apps/next/functions").length;
    expect(listReads()).toBe(1);

    // The app syncs a new function; its first run names an id the proxy has not seen.
    const added = "7a8b9c0d-1e2f-5a3b-8c4d-5e6f7a8b9c0d";
    fake.functionsByApp.get("next")?.push(restFunction("next-track-analytics", added));
    addRun(fake, "01EVENTB", restRun(added, "Completed", null, "01RUNB2"));
    expect((await eventRuns("01EVENTB")).map((run) => run.function)).toEqual([
      "hello-world",
      "track-analytics",
    ]);
    expect(listReads()).toBe(2);
    // Another app's id is looked up once, then known as not this app's.
    addRun(fake, "01EVENTB", restRun(ASTRO_HELLO, "Completed", null, "01RUNB3"));
    await eventRuns("01EVENTB");
    await eventRuns("01EVENTB");
    expect(listReads()).toBe(3);
  });

  it("takes each run's status from GET /v1/runs/:id, not from the event's (stale) list", async () => {
    // Measured on Inngest: the event's list says Completed while the run sleeps.
    fake.runsByEvent.set("01EVENTC", [restRun(NEXT_HELLO, "Completed", "", "01RUNC")]);
    fake.runsById.set("01RUNC", restRun(NEXT_HELLO, "Running", null, "01RUNC"));
    const eventRuns = proxy();
    expect(await eventRuns("01EVENTC")).toEqual([
      expect.objectContaining({ run_id: "01RUNC", status: "Running", ended_at: null }),
    ]);
    fake.runsById.set("01RUNC", restRun(NEXT_HELLO, "Completed", "", "01RUNC"));
    expect(await eventRuns("01EVENTC")).toEqual([
      expect.objectContaining({ status: "Completed", output: null, output_reported: false }),
    ]);
    // Ended: read no more.
    const reads = fake.restRequests.filter((path) => path.startsWith("/v1/runs/01RUNC")).length;
    await eventRuns("01EVENTC");
    expect(fake.restRequests.filter((path) => path.startsWith("/v1/runs/01RUNC"))).toHaveLength(
      reads,
    );
  });

  it("is never answered from Inngest's URL cache: a new run and a new status show at once", async () => {
    fake.caching = true;
    const eventRuns = proxy();
    addRun(fake, "01EVENTD", restRun(NEXT_HELLO, "Running", null, "01RUND1"));
    expect((await eventRuns("01EVENTD")).map((run) => [run.run_id, run.status])).toEqual([
      ["01RUND1", "Running"],
    ]);
    // Within the cache's 15 s (event's runs) and 3 s (a run): a second run starts, the first ends.
    addRun(fake, "01EVENTD", restRun(NEXT_HELLO, "Running", null, "01RUND2"));
    fake.runsById.set("01RUND1", restRun(NEXT_HELLO, "Completed", { ok: true }, "01RUND1"));
    expect((await eventRuns("01EVENTD")).map((run) => [run.run_id, run.status])).toEqual([
      ["01RUND1", "Completed"],
      ["01RUND2", "Running"],
    ]);
    // Each read had a URL of its own.
    const reads = fake.restRequests.filter((path) => path.startsWith("/v1/events/01EVENTD/runs"));
    expect(new Set(reads).size).toBe(reads.length);
  });

  it("reads Inngest's failures answered with 200 and {error, status} as failures", async () => {
    fake.errorsAs200 = true;
    const eventRuns = proxy();
    await expect(eventRuns("01UNKNOWN")).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("answered 404"),
    });
    fake.restStatus = 500;
    await expect(eventRuns("01EVENTA")).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining("answered 500"),
    });
    fake.restStatus = null;
    // A listed run whose own read fails is left for the next read; the others are answered.
    addRun(fake, "01EVENTE", restRun(NEXT_HELLO, "Completed", null, "01RUNE1"));
    fake.runsByEvent.set("01EVENTE", [
      ...(fake.runsByEvent.get("01EVENTE") ?? []),
      restRun(NEXT_HELLO, "Completed", null, "01RUNE2"),
    ]);
    expect((await eventRuns("01EVENTE")).map((run) => run.run_id)).toEqual(["01RUNE1"]);
    // None readable: the failure is answered.
    fake.runsByEvent.set("01EVENTF", [restRun(NEXT_HELLO, "Completed", null, "01RUNF")]);
    await expect(eventRuns("01EVENTF")).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining("Unable to load function run"),
    });
  });

  it("answers an app's function list that is not Inngest's bare array as a bad gateway", async () => {
    fake.functionsByApp.set("next", { data: { functions: [] } } as unknown as unknown[]);
    addRun(fake, "01EVENTG", restRun(NEXT_HELLO, "Completed", null, "01RUNG"));
    await expect(proxy()("01EVENTG")).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining("not an array"),
    });
  });

  it("reads with the signing key as bearer token, and with none in dev mode", async () => {
    addRun(fake, "01EVENTH", restRun(NEXT_HELLO, "Completed", null, "01RUNH"));
    const signed = createRunsProxy({
      appId: "next",
      apiBaseUrl: fake.url,
      signingKey: "signkey-prod-abc123",
    });
    expect(await signed("01EVENTH")).toHaveLength(1);
    expect(new Set(fake.restAuthorizations)).toEqual(new Set(["Bearer signkey-prod-abc123"]));
    fake.restAuthorizations.length = 0;
    await proxy()("01EVENTH");
    expect(new Set(fake.restAuthorizations)).toEqual(new Set([undefined]));
  });

  it("keeps a 404 for an unknown event, and turns the server's failures into a 502", async () => {
    const eventRuns = proxy();
    await expect(eventRuns("01UNKNOWN")).rejects.toMatchObject({ status: 404 });
    fake.restStatus = 500;
    await expect(eventRuns("01EVENTA")).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining("answered 500"),
    });
  });

  it("names the server it cannot reach", async () => {
    const eventRuns = createRunsProxy({
      appId: "next",
      apiBaseUrl: "http://127.0.0.1:9",
      signingKey: undefined,
    });
    await expect(eventRuns("01EVENTA")).rejects.toMatchObject({
      status: 502,
      message: expect.stringContaining("could not reach the Inngest server at http://127.0.0.1:9"),
    });
  });

  it("refuses what is not an event id before it reaches a URL", async () => {
    await expect(proxy()("../../v1/runs")).rejects.toBeInstanceOf(RunsProxyError);
    expect(fake.restRequests).toEqual([]);
  });
});
