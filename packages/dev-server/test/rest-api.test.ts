import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventJson, type Harness, type RunJson, startHarness, waitFor } from "./harness";

/**
 * The REST API v1 as Inngest answers it: the `{data, metadata}` wrapping,
 * JSON errors for bad and unknown ids, the event list's filters and paging (newest first), the runs
 * of an event, a run's status and output (its `function_id` a UUID), cancelling with DELETE, and an
 * app's functions (a bare array, each with its UUID and slug).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface AppFunction {
  internal_id: string;
  env_id: string;
  app_id: string;
  id: string;
  name: string;
  config: { id: string; name?: string; triggers: unknown[] };
  created_at: string;
  archived_at: string;
}

interface Wrapped<T> {
  data: T;
  metadata: { fetched_at: string; cached_until: string | null };
}

describe("REST API v1", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "rest",
      (inngest) => [
        inngest.createFunction(
          { id: "ok", triggers: [{ event: "rest/a" }] },
          async ({ event }) => ({
            n: event.data.n,
          }),
        ),
        inngest.createFunction({ id: "also", triggers: [{ event: "rest/a" }] }, async () => "also"),
        inngest.createFunction(
          { id: "fails", triggers: [{ event: "rest/fail" }], retries: 0 },
          async () => {
            throw new Error("the fails function broke");
          },
        ),
        inngest.createFunction(
          { id: "sleepy", triggers: [{ event: "rest/sleep" }] },
          async ({ step }) => {
            await step.run("before", () => "before");
            await step.sleep("nap", "1h");
            return step.run("after", () => "after");
          },
        ),
      ],
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  const get = async <T>(path: string, init?: RequestInit) => {
    const response = await fetch(`${h.server.url}${path}`, init);
    return { status: response.status, body: (await response.json()) as T };
  };
  const clockNow = async () =>
    Date.parse(((await (await fetch(`${h.server.url}/test/clock`)).json()) as { now: string }).now);

  it("wraps every answer in {data, metadata: {fetched_at, cached_until}}", async () => {
    const before = Date.now();
    const { status, body } = await get<Wrapped<EventJson[]>>("/v1/events");
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["data", "metadata"]);
    expect(Array.isArray(body.data)).toBe(true);
    expect(body.metadata.cached_until).toBeNull();
    // RFC 3339, and the wall-clock time of the answer.
    expect(body.metadata.fetched_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(body.metadata.fetched_at)).toBeGreaterThanOrEqual(before - 1000);
  });

  const unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  it.each([
    ["GET", `/v1/events/${unknown}`, 404, /event 01ARZ3NDEKTSV4RRFFQ69G5FAV not found/],
    ["GET", `/v1/events/${unknown}/runs`, 404, /event 01ARZ3NDEKTSV4RRFFQ69G5FAV not found/],
    ["GET", `/v1/runs/${unknown}`, 404, /run 01ARZ3NDEKTSV4RRFFQ69G5FAV not found/],
    ["DELETE", `/v1/runs/${unknown}`, 404, /run 01ARZ3NDEKTSV4RRFFQ69G5FAV not found/],
    ["GET", "/v1/events/not-an-id", 400, /event id must be a ULID, got "not-an-id"/],
    ["GET", "/v1/runs/12345", 400, /run id must be a ULID, got "12345"/],
    ["DELETE", "/v1/runs/nope", 400, /run id must be a ULID/],
    ["GET", "/v1/events?limit=zero", 400, /limit must be a whole number of 1 or more, got "zero"/],
    ["GET", "/v1/events?limit=0", 400, /limit must be a whole number/],
    ["GET", "/v1/events?cursor=abc", 400, /cursor must be a ULID/],
    ["GET", "/v1/runs?status=Sleeping", 400, /status must be one of .*got "Sleeping"/],
    ["GET", "/v1/runs?cursor=zz", 400, /cursor must be a ULID/],
    ["GET", "/v1/events?received_after=yesterday", 400, /received_after must be an RFC 3339 date/],
    [
      "GET",
      "/v1/events?received_before=13/13/2020",
      400,
      /received_before must be an RFC 3339 date/,
    ],
    ["GET", "/v1/nothing-here", 404, /no route for GET \/v1\/nothing-here/],
  ])("%s %s answers %i with a JSON error", async (method, path, status, message) => {
    const response = await get<{ error: string; status: number }>(path, { method });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: expect.stringMatching(message), status });
  });

  it("lists events newest first, filtered by name and received time, paged by cursor", async () => {
    const t0 = await clockNow();
    const [first = ""] = await h.send([{ name: "rest/list", data: { i: 1 } }]);
    await h.advance(1000);
    const [second = ""] = await h.send([{ name: "rest/other", data: { i: 2 } }]);
    await h.advance(1000);
    const [third = ""] = await h.send([{ name: "rest/list", data: { i: 3 } }]);

    const list = async (query: string) =>
      (await get<Wrapped<EventJson[]>>(`/v1/events?${query}`)).body.data.map((e) => e.internal_id);

    expect(await list("name=rest/list")).toEqual([third, first]);
    const all = await list("limit=1000");
    expect(all.indexOf(third)).toBeLessThan(all.indexOf(second));
    expect(all.indexOf(second)).toBeLessThan(all.indexOf(first));

    // Paging: the cursor is the last id of the previous page.
    const page1 = await list("name=rest/list&limit=1");
    expect(page1).toEqual([third]);
    expect(await list(`name=rest/list&limit=1&cursor=${page1[0]}`)).toEqual([first]);
    expect(await list(`name=rest/list&limit=1&cursor=${first}`)).toEqual([]);

    const at = (ms: number) => new Date(ms).toISOString();
    expect(await list(`name=rest/list&received_after=${at(t0 + 500)}`)).toEqual([third]);
    expect(await list(`name=rest/list&received_before=${at(t0 + 500)}`)).toEqual([first]);
    expect(await list(`received_after=${at(t0 + 500)}&received_before=${at(t0 + 1500)}`)).toEqual([
      second,
    ]);

    const one = (await get<Wrapped<EventJson>>(`/v1/events/${second}`)).body.data;
    expect(one).toMatchObject({ internal_id: second, name: "rest/other", data: { i: 2 } });
    expect(Date.parse(one.received_at)).toBe(t0 + 1000);
  });

  it("lists the runs an event started, and answers each run's status and output", async () => {
    const [eventId = ""] = await h.send([{ name: "rest/a", data: { n: 7 } }]);
    const runs = await h.waitForRuns(eventId, { count: 2 });
    const listed = (await get<Wrapped<RunJson[]>>(`/v1/events/${eventId}/runs`)).body.data;
    const [okId, alsoId] = [await h.functionId("rest-ok"), await h.functionId("rest-also")];
    expect(listed.map((run) => run.function_id).sort()).toEqual([okId, alsoId].sort());
    expect(listed.every((run) => run.event_id === eventId)).toBe(true);

    const ok = runs.find((run) => run.function_id === okId);
    const { body } = await get<Wrapped<RunJson>>(`/v1/runs/${ok?.run_id}`);
    expect(body.data).toMatchObject({
      run_id: ok?.run_id,
      function_id: okId,
      event_id: eventId,
      status: "Completed",
      output: { n: 7 },
    });
    expect(body.data.ended_at).not.toBeNull();

    const [quiet = ""] = await h.send([{ name: "rest/nobody-listens" }]);
    expect((await get<Wrapped<RunJson[]>>(`/v1/events/${quiet}/runs`)).body.data).toEqual([]);
  });

  it("answers a failed run with the serialized error as its output", async () => {
    const [eventId = ""] = await h.send([{ name: "rest/fail" }]);
    const [run] = await h.waitForRuns(eventId);
    const { body } = await get<Wrapped<RunJson>>(`/v1/runs/${run?.run_id}`);
    expect(body.data.status).toBe("Failed");
    expect(body.data.output).toMatchObject({ message: "the fails function broke" });
  });

  it("cancels a running run with DELETE, and the run does not go on", async () => {
    const [eventId = ""] = await h.send([{ name: "rest/sleep" }]);
    const sleeping = await waitFor("the run to reach its sleep", async () => {
      const [run] = await h.runsOf(eventId);
      if (!run) return undefined;
      const steps = await h.timeline(run.run_id);
      return steps.some((step) => step.op === "Sleep") ? run : undefined;
    });

    const cancelled = await get<Wrapped<RunJson>>(`/v1/runs/${sleeping.run_id}`, {
      method: "DELETE",
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ run_id: sleeping.run_id, status: "Cancelled" });
    expect(cancelled.body.data.ended_at).not.toBeNull();

    // The sleep's end comes and goes: nothing runs after a cancel.
    await h.advance(2 * 3600_000);
    const after = (await get<Wrapped<RunJson>>(`/v1/runs/${sleeping.run_id}`)).body.data;
    expect(after.status).toBe("Cancelled");
    const steps = await h.timeline(sleeping.run_id);
    expect(steps.map((step) => step.name)).not.toContain("after");

    // Cancelling again changes nothing and still answers the run.
    const again = await get<Wrapped<RunJson>>(`/v1/runs/${sleeping.run_id}`, { method: "DELETE" });
    expect(again.body.data.status).toBe("Cancelled");
  });

  it("lists an app's functions as Inngest does: a bare array, each with its UUID and slug", async () => {
    const { status, body } = await get<AppFunction[]>("/v1/apps/rest/functions");
    expect(status).toBe(200);
    // Not wrapped in {data}: the array itself, ordered by internal id as Go orders it.
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((fn) => fn.id).sort()).toEqual([
      "rest-also",
      "rest-fails",
      "rest-ok",
      "rest-sleepy",
    ]);
    expect(body.map((fn) => fn.internal_id)).toEqual(body.map((fn) => fn.internal_id).sort());
    const ok = body.find((fn) => fn.id === "rest-ok");
    // Go's cqrs.Function, field for field.
    expect(Object.keys(ok ?? {}).sort()).toEqual(
      [
        "internal_id",
        "env_id",
        "app_id",
        "id",
        "name",
        "config",
        "created_at",
        "archived_at",
      ].sort(),
    );
    expect(ok).toMatchObject({
      internal_id: expect.stringMatching(UUID),
      env_id: "00000000-0000-0000-0000-000000000000",
      // Inngest's DeterministicAppUUID("rest"): uuid.NewSHA1(uuid.NameSpaceOID, "rest").
      app_id: "4d961ed1-f477-5a1b-a16e-5658c529eab4",
      id: "rest-ok",
      name: "ok",
      config: { id: "rest-ok", triggers: [{ event: "rest/a" }] },
      archived_at: "0001-01-01T00:00:00Z",
    });
    expect(Number.isNaN(Date.parse(ok?.created_at ?? ""))).toBe(false);
    expect(new Set(body.map((fn) => fn.internal_id)).size).toBe(4);
  });

  it("answers an empty array for an app it does not know, as Inngest does", async () => {
    const { status, body } = await get<unknown>("/v1/apps/no-such-app/functions");
    expect(status).toBe(200);
    expect(body).toEqual([]);
  });

  it("names a run's function by the internal id its app's function list gives it", async () => {
    const [eventId = ""] = await h.send([{ name: "rest/a", data: { n: 1 } }]);
    const runs = await h.waitForRuns(eventId, { count: 2 });
    const functions = (await get<AppFunction[]>("/v1/apps/rest/functions")).body;
    const slugOf = new Map(functions.map((fn) => [fn.internal_id, fn.id]));
    for (const run of runs) expect(run.function_id).toMatch(UUID);
    expect(runs.map((run) => slugOf.get(run.function_id)).sort()).toEqual(["rest-also", "rest-ok"]);

    // The same id after the app syncs again, and on every answer that carries a run.
    const okId = functions.find((fn) => fn.id === "rest-ok")?.internal_id ?? "";
    await h.server.sync(h.appUrl);
    const again = (await get<AppFunction[]>("/v1/apps/rest/functions")).body;
    expect(again.find((fn) => fn.id === "rest-ok")?.internal_id).toBe(okId);
    const ok = runs.find((run) => run.function_id === okId);
    const timeline = await get<Wrapped<{ run: RunJson }>>(`/v1/runs/${ok?.run_id}/timeline`);
    expect(timeline.body.data.run.function_id).toBe(okId);

    // The runs list (not on Inngest) filters by the internal id, or by the slug.
    const byId = (await get<Wrapped<RunJson[]>>(`/v1/runs?function_id=${okId}`)).body.data;
    expect(byId.length).toBeGreaterThan(0);
    expect(byId.every((run) => run.function_id === okId)).toBe(true);
    const bySlug = (await get<Wrapped<RunJson[]>>("/v1/runs?function_id=rest-ok")).body.data;
    expect(bySlug.map((run) => run.run_id)).toEqual(byId.map((run) => run.run_id));
    const none = "00000000-0000-5000-8000-000000000000";
    expect((await get<Wrapped<RunJson[]>>(`/v1/runs?function_id=${none}`)).body.data).toEqual([]);
  });
});
