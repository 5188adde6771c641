import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeInngest, startFakeInngest } from "./fake-inngest";
import { freePort } from "./ports";
import { createRestClient, RestApiError } from "./rest-client";
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

  it("throws the answer's status and body on a non-2xx answer", async () => {
    const client = createRestClient(fake.url);
    const failure = await client.eventRuns("01UNKNOWN").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RestApiError);
    expect(failure).toMatchObject({ status: 404, message: expect.stringContaining("404") });
  });
});
