import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeInngest, restFunction, startFakeInngest } from "./fake-inngest";
import { freePort } from "./ports";
import { createRestClient, RestApiError, restError } from "./rest-client";
import { waitFor } from "./wait";

describe("waitFor", () => {
  it("returns the first value that is not undefined or false, polling until then", async () => {
    let calls = 0;
    const value = await waitFor("the third call", () => (++calls < 3 ? undefined : calls));
    expect(value).toBe(3);
  });

  it("fails at its deadline, naming what it waited for and the last error", async () => {
    await expect(
      waitFor(
        "a ready server",
        () => {
          throw new Error("ECONNREFUSED");
        },
        100,
      ),
    ).rejects.toThrow(
      /timed out after 100 ms waiting for a ready server \(last error: ECONNREFUSED\)/,
    );
  });
});

describe("freePort", () => {
  it("answers a port a server can listen on", async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    expect(server.address()).toMatchObject({ port });
    await new Promise((resolve) => server.close(resolve));
  });
});

describe("the REST client against the fake Inngest server", () => {
  let fake: FakeInngest;
  beforeAll(async () => {
    fake = await startFakeInngest();
  });
  afterAll(() => fake.close());

  it("sends events and reads an event's runs, data unwrapped, with the signing key", async () => {
    const client = createRestClient(fake.url, { signingKey: "signkey-test-00" });
    const ids = await client.send([{ name: "a/b", data: { n: 1 } }]);
    expect(ids).toEqual(fake.answeredIds);
    expect(fake.events).toEqual([{ name: "a/b", data: { n: 1 } }]);
    fake.runsByEvent.set("01E", [{ run_id: "r1", function_id: "app-fn", status: "Completed" }]);
    expect(await client.eventRuns("01E")).toEqual([
      { run_id: "r1", function_id: "app-fn", status: "Completed" },
    ]);
    expect(fake.restAuthorizations).toEqual(["Bearer signkey-test-00"]);
  });

  it("reads an app's functions as Inngest lists them: a bare array, [] for an unknown app", async () => {
    const client = createRestClient(fake.url);
    const uuid = "586d4050-1d5e-5ee9-800c-c46753c99135";
    fake.functionsByApp.set("next", [restFunction("next-hello-world", uuid)]);
    expect(await client.appFunctions("next")).toEqual([
      expect.objectContaining({ internal_id: uuid, id: "next-hello-world" }),
    ]);
    expect(await client.functionIds("next")).toEqual(new Map([["next-hello-world", uuid]]));
    expect(await client.appFunctions("nobody")).toEqual([]);
  });

  it("throws Inngest's failures answered with 200 and {error, status} as the body", async () => {
    const client = createRestClient(fake.url);
    fake.errorsAs200 = true;
    try {
      const failure = await client.run("01UNKNOWNRUN").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RestApiError);
      expect(failure).toMatchObject({ status: 500, message: expect.stringContaining("Unable") });
    } finally {
      fake.errorsAs200 = false;
    }
    expect(restError({ error: "x", data: null, status: 404 })).toEqual({ error: "x", status: 404 });
    expect(restError({ data: [] })).toBeUndefined();
  });

  it("caches GETs by their whole URL when told to, as Inngest does", async () => {
    fake.caching = true;
    try {
      fake.runsById.set("01RUN", { run_id: "01RUN", status: "Running" });
      const read = async (query = "") =>
        ((await (await fetch(`${fake.url}/v1/runs/01RUN${query}`)).json()) as { data: unknown })
          .data;
      expect(await read()).toMatchObject({ status: "Running" });
      fake.runsById.set("01RUN", { run_id: "01RUN", status: "Completed" });
      expect(await read()).toMatchObject({ status: "Running" });
      expect(await read("?fresh=1")).toMatchObject({ status: "Completed" });
    } finally {
      fake.reset();
    }
  });

  it("throws the answer's status and body on a non-2xx answer", async () => {
    const client = createRestClient(fake.url);
    const failure = await client.eventRuns("01UNKNOWN").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RestApiError);
    expect(failure).toMatchObject({ status: 404, message: expect.stringContaining("404") });
  });
});
