import { type FakeInngest, restRun, startFakeInngest } from "@repo/test-utils";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRunsProxy, ownRuns, RunsProxyError } from "./runs";

describe("ownRuns: one Inngest server, three apps serving the same functions", () => {
  it("keeps this app's runs, named by the app's function id", () => {
    const runs = ownRuns("next", [
      restRun("next-hello-world"),
      restRun("astro-hello-world"),
      restRun("remix-hello-world"),
      restRun("next-flaky-job-failure"),
    ]);
    expect(runs.map((run) => [run.function_id, run.function])).toEqual([
      ["next-hello-world", "hello-world"],
      ["next-flaky-job-failure", "flaky-job-failure"],
    ]);
  });

  it("keeps runs whose function the server names otherwise (Inngest Cloud's UUIDs)", () => {
    const uuid = "6f1c2f0e-6a43-4a5e-9a8e-1d2f3c4b5a69";
    expect(ownRuns("next", [restRun(uuid)])).toEqual([
      expect.objectContaining({ function_id: uuid, function: null }),
    ]);
  });
});

describe("createRunsProxy", () => {
  let fake: FakeInngest;
  beforeAll(async () => {
    fake = await startFakeInngest();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.restStatus = null;
    fake.restAuthorizations.length = 0;
  });

  it("reads the event's runs from the REST API, with the signing key as bearer token", async () => {
    fake.runsByEvent.set("01EVENTA", [restRun("next-hello-world"), restRun("astro-hello-world")]);
    const eventRuns = createRunsProxy({
      appId: "next",
      apiBaseUrl: fake.url,
      signingKey: "signkey-prod-abc123",
    });
    expect(await eventRuns("01EVENTA")).toEqual([
      expect.objectContaining({ function: "hello-world", status: "Completed" }),
    ]);
    expect(fake.restAuthorizations).toEqual(["Bearer signkey-prod-abc123"]);
  });

  it("sends no Authorization header without a signing key (dev mode)", async () => {
    fake.runsByEvent.set("01EVENTB", []);
    const eventRuns = createRunsProxy({
      appId: "next",
      apiBaseUrl: fake.url,
      signingKey: undefined,
    });
    expect(await eventRuns("01EVENTB")).toEqual([]);
    expect(fake.restAuthorizations).toEqual([undefined]);
  });

  it("keeps a 404 for an unknown event, and turns the server's failures into a 502", async () => {
    const eventRuns = createRunsProxy({
      appId: "next",
      apiBaseUrl: fake.url,
      signingKey: undefined,
    });
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
    const eventRuns = createRunsProxy({
      appId: "next",
      apiBaseUrl: fake.url,
      signingKey: undefined,
    });
    await expect(eventRuns("../../v1/runs")).rejects.toBeInstanceOf(RunsProxyError);
    expect(fake.restAuthorizations).toEqual([]);
  });
});
