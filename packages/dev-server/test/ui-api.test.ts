import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closestTriggers, triggerDistance } from "../src/http/trigger-suggestions";
import { lastBundleMs } from "../src/http/ui-assets";
import type { FunctionRecord } from "../src/types";
import { type Harness, startHarness } from "./harness";

/**
 * The dev UI's server side against a real SDK app: the shell at / and at client routes (without
 * shadowing the API), the bundle, and the /api/ui endpoints behind the UI's actions and hints:
 * invoke, send, replay, rerun, the closest triggers of an event that started nothing, a failed
 * sync's answer and a retrying run's attempts.
 */

interface RunDetail {
  run: { run_id: string; function_id: string; status: string; event_id: string; output: unknown };
  events: { internal_id: string; name: string; data: Record<string, unknown> }[];
  steps: { step_id: string | null; op: string; name: string; attempt: number; error: unknown }[];
  jobs: { kind: string; attempt: number; due_at: string }[];
}

interface EventDetail {
  event: { internal_id: string; name: string; data: Record<string, unknown> };
  runs: { run_id: string; function_id: string; status: string }[];
  suggestions: { function_id: string; trigger: string; distance: number; note?: string }[];
}

describe("dev UI API", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "ui",
      (inngest) => [
        inngest.createFunction(
          { id: "greet", name: "Greet", triggers: [{ event: "ui/hello.world" }] },
          async ({ event, step }) => {
            const name = await step.run("pick-name", () => String(event.data.name ?? "World"));
            await step.sleep("nap", "1s");
            return { message: `Hello ${name}!` };
          },
        ),
        inngest.createFunction(
          { id: "users", triggers: [{ event: "ui/user.*" }] },
          async () => "user event",
        ),
        inngest.createFunction(
          {
            id: "picky",
            triggers: [{ event: "ui/picky", if: "event.data.ok == true" }],
          },
          async () => "picked",
        ),
        inngest.createFunction(
          { id: "flaky", retries: 2, triggers: [{ event: "ui/flaky" }] },
          async ({ step, attempt }) => {
            await step.run("wobble", () => {
              throw new Error(`wobble failed on attempt ${attempt}`);
            });
          },
        ),
      ],
      { testMode: true, retry: { baseMs: 1000, maxMs: 1000 } },
    );
  });
  afterAll(() => h?.close());

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    accept = "application/json",
  ) => {
    const response = await fetch(`${h.server.url}${path}`, {
      method,
      headers: { accept, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined
        ? {}
        : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, type: response.headers.get("content-type") ?? "", text };
  };
  const data = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await call(method, path, body);
    if (answer.status !== 200)
      throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
    return (JSON.parse(answer.text) as { data: T }).data;
  };

  describe("the UI itself", () => {
    it("serves the shell at / and at client routes, a page's reload included", async () => {
      for (const path of [
        "/",
        "/runs",
        "/events",
        "/functions",
        "/apps",
        "/runs/01J00000000000000000000000",
      ]) {
        const page = await call("GET", path, undefined, "text/html,application/xhtml+xml");
        expect(page.status, path).toBe(200);
        expect(page.type).toContain("text/html");
        expect(page.text).toContain('<div id="app">');
        expect(page.text).toContain('src="/ui/app.js"');
      }
    });

    it("bundles the script on first request and serves the stylesheet", async () => {
      const script = await call("GET", "/ui/app.js");
      expect(script.status).toBe(200);
      expect(script.type).toContain("javascript");
      expect(script.text.length).toBeGreaterThan(10_000);
      expect(lastBundleMs).not.toBeNull();
      console.log(`dev UI bundle: ${script.text.length} bytes in ${lastBundleMs} ms`);
      // A wide bound (about 0.15 s is usual): it catches a bundle gone pathological, not a slow
      // machine running every suite at once.
      expect(lastBundleMs).toBeLessThan(30_000);
      const css = await call("GET", "/ui/styles.css");
      expect(css.status).toBe(200);
      expect(css.type).toContain("text/css");
    });

    it("leaves the API's routes alone", async () => {
      expect(JSON.parse((await call("GET", "/dev")).text)).toHaveProperty("startOpts");
      const events = await call("GET", "/v1/events", undefined, "text/html");
      expect(events.type).toContain("application/json");
      // An API client asking a client route for JSON gets the JSON 404, not the page.
      const page = await call("GET", "/events", undefined, "application/json");
      expect(page.status).toBe(404);
      expect(page.type).toContain("application/json");
    });
  });

  describe("invoke", () => {
    it("starts a run of the one function with the payload's data, whatever its triggers", async () => {
      const started = await data<{ event_id: string; run_id: string }>(
        "POST",
        "/api/ui/functions/ui-greet/invoke",
        { data: { name: "Ada" } },
      );
      expect(started.run_id).toMatch(/^[0-9A-Z]{26}$/);
      const run = await data<RunDetail>("GET", `/api/ui/runs/${started.run_id}`);
      expect(run.run.function_id).toBe("ui-greet");
      expect(run.events[0]).toMatchObject({ name: "inngest/function.invoked" });
      expect(run.events[0]?.data).toMatchObject({ name: "Ada" });
      await h.waitForStep(started.run_id, (step) => step.op === "Sleep");
      await h.advance(1_000);
      const ended = await h.waitForEnd(started.run_id);
      expect(ended).toMatchObject({ status: "Completed", output: { message: "Hello Ada!" } });
    });

    it("answers 400 naming the field, 404 for an unknown function", async () => {
      const notObject = await call("POST", "/api/ui/functions/ui-greet/invoke", { data: [1] });
      expect(notObject.status).toBe(400);
      expect(notObject.text).toContain('\\"data\\" must be an object');
      const malformed = await call("POST", "/api/ui/functions/ui-greet/invoke", "{data:");
      expect(malformed.status).toBe(400);
      expect(malformed.text).toContain("malformed JSON");
      const unknown = await call("POST", "/api/ui/functions/ui-nope/invoke", { data: {} });
      expect(unknown.status).toBe(404);
      expect(unknown.text).toContain("ui-nope");
    });
  });

  describe("send and replay", () => {
    it("sends an event as /e/ does, and refuses one without a name", async () => {
      const sent = await data<{ event_id: string }>("POST", "/api/ui/events", {
        name: "ui/user.created",
        data: { id: 1 },
      });
      const runs = await h.waitForRuns(sent.event_id);
      expect(runs.map((run) => run.function_id)).toEqual([await h.functionId("ui-users")]);
      const nameless = await call("POST", "/api/ui/events", { data: {} });
      expect(nameless.status).toBe(400);
      expect(nameless.text).toContain('\\"name\\" must be a non-empty string');
    });

    it("replays an event as a new one with the same name and data, starting its runs again", async () => {
      const [original] = await h.send([
        { name: "ui/user.updated", data: { id: 7 }, id: "sender-id-7" },
      ]);
      await h.waitForRuns(original as string);
      const replay = await data<{ event_id: string; run_ids: string[] }>(
        "POST",
        `/api/ui/events/${original}/replay`,
      );
      expect(replay.event_id).not.toBe(original);
      // The sender's id is not carried over: it would make the replay a duplicate.
      expect(replay.run_ids).toHaveLength(1);
      const detail = await data<EventDetail>("GET", `/api/ui/events/${replay.event_id}`);
      expect(detail.event).toMatchObject({ name: "ui/user.updated", data: { id: 7 } });
      expect(detail.runs.map((run) => run.function_id)).toEqual(["ui-users"]);

      expect((await call("POST", "/api/ui/events/not-an-id/replay")).status).toBe(400);
      expect((await call("POST", "/api/ui/events/01J00000000000000000000000/replay")).status).toBe(
        404,
      );
    });

    it("lists events newest first with their run counts, filtered by a part of the name", async () => {
      const [typo] = await h.send([{ name: "ui/filter-me.typo", data: {} }]);
      const [good] = await h.send([{ name: "ui/user.filter-me", data: { tag: "good" } }]);
      await h.waitForRuns(good as string);
      const rows = await data<
        { internal_id: string; name: string; data: unknown; run_count: number }[]
      >("GET", "/api/ui/events?name=FILTER-ME");
      expect(rows.map((row) => row.internal_id)).toEqual([good, typo]);
      expect(rows.map((row) => row.run_count)).toEqual([1, 0]);
      expect(rows[0]?.data).toEqual({ tag: "good" });
      const all = await data<{ name: string }[]>("GET", "/api/ui/events");
      expect(all.some((row) => row.name.startsWith("inngest/"))).toBe(false);
      const internal = await data<{ name: string }[]>("GET", "/api/ui/events?internal=1");
      expect(internal.some((row) => row.name === "inngest/function.finished")).toBe(true);
    });
  });

  describe("rerun", () => {
    it("starts a new run of the same function with the same trigger event", async () => {
      const [eventId] = await h.send([{ name: "ui/user.deleted", data: { id: 3 }, id: "once" }]);
      const [first] = await h.waitForRuns(eventId as string);
      const rerun = await data<{ run_id: string }>("POST", `/api/ui/runs/${first?.run_id}/rerun`);
      expect(rerun.run_id).not.toBe(first?.run_id);
      const ended = await h.waitForEnd(rerun.run_id);
      expect(ended).toMatchObject({
        function_id: await h.functionId("ui-users"),
        event_id: eventId,
        status: "Completed",
      });
      expect(await h.runsOf(eventId as string)).toHaveLength(2);
      expect((await call("POST", "/api/ui/runs/01J00000000000000000000000/rerun")).status).toBe(
        404,
      );
    });
  });

  describe("troubleshooting", () => {
    it("suggests the closest triggers for an event that started no function", async () => {
      const [typo] = await h.send([{ name: "ui/hello.wrold", data: {} }]);
      await h.idle();
      const detail = await data<EventDetail>("GET", `/api/ui/events/${typo}`);
      expect(detail.runs).toEqual([]);
      expect(detail.suggestions[0]).toMatchObject({
        function_id: "ui-greet",
        trigger: "ui/hello.world",
        distance: 2,
      });
      // A wildcard trigger is compared by its prefix.
      const [wild] = await h.send([{ name: "ui/usr.created", data: {} }]);
      await h.idle();
      const wildDetail = await data<EventDetail>("GET", `/api/ui/events/${wild}`);
      expect(wildDetail.suggestions[0]).toMatchObject({ function_id: "ui-users", distance: 1 });
      // The name matched, the condition did not: said so.
      const [picky] = await h.send([{ name: "ui/picky", data: { ok: false } }]);
      await h.idle();
      const pickyDetail = await data<EventDetail>("GET", `/api/ui/events/${picky}`);
      expect(pickyDetail.suggestions[0]).toMatchObject({ function_id: "ui-picky", distance: 0 });
      expect(pickyDetail.suggestions[0]?.note).toContain("event.data.ok == true");
      // An event that started runs gets none.
      const [good] = await h.send([{ name: "ui/user.x", data: {} }]);
      await h.waitForRuns(good as string);
      expect((await data<EventDetail>("GET", `/api/ui/events/${good}`)).suggestions).toEqual([]);
    });

    it("keeps far-off triggers out and ranks by edits", () => {
      const fn = (slug: string, event: string) =>
        ({
          slug,
          appUrl: "http://app",
          appId: "app",
          name: slug,
          config: { id: slug, triggers: [{ event }], steps: {} },
        }) as FunctionRecord;
      const functions = [fn("a", "shop/order.placed"), fn("b", "shop/order.paid"), fn("c", "x/y")];
      expect(closestTriggers("shop/order.plcaed", functions).map((s) => s.function_id)).toEqual([
        "a",
        "b",
      ]);
      expect(closestTriggers("totally/unrelated.thing", functions)).toEqual([]);
      expect(triggerDistance("app/user.*", "app/user.created")).toBe(0);
      expect(triggerDistance("app/user.*", "app/usr.created")).toBe(1);
      expect(triggerDistance("kitten", "sitting")).toBe(3);
    });

    it("shows each failed attempt's error of a run that keeps retrying, and the next one due", async () => {
      const [eventId] = await h.send([{ name: "ui/flaky", data: {} }]);
      const run = await h.runOf(eventId as string);
      await h.waitForStep(run.run_id, (step) => step.op === "StepError");
      await h.advance(1_000);
      await h.waitForStep(run.run_id, (step) => step.op === "StepError" && step.attempt === 1);
      const detail = await data<RunDetail>("GET", `/api/ui/runs/${run.run_id}`);
      const errors = detail.steps.filter((step) => step.op === "StepError");
      expect(errors.map((step) => [step.name, step.attempt])).toEqual([
        ["wobble", 0],
        ["wobble", 1],
      ]);
      expect(JSON.stringify(errors[0]?.error)).toContain("wobble failed on attempt 0");
      expect(JSON.stringify(errors[1]?.error)).toContain("wobble failed on attempt 1");
      expect(detail.jobs).toEqual([expect.objectContaining({ kind: "call", attempt: 2 })]);
      await h.advance(1_000);
      expect(await h.waitForEnd(run.run_id)).toMatchObject({ status: "Failed" });
    });

    it("refuses a sync body that is not an object, syncing nothing", async () => {
      for (const [body, message] of [
        ["null", /the body must be a JSON object, got null/],
        ["{url", /malformed JSON/],
        ['{"url": 5}', /"url" must be an app serve URL/],
      ] as const) {
        const answer = await call("POST", "/api/apps/sync", body);
        expect(answer.status).toBe(400);
        expect(JSON.parse(answer.text)).toEqual({
          error: expect.stringMatching(message),
          status: 400,
        });
      }
    });

    it("records a failed sync with what the app answered", async () => {
      h.breakApp(502);
      try {
        const [outcome] = await data<{ ok: boolean; error: string }[]>("POST", "/api/apps/sync", {
          url: h.appUrl,
        });
        expect(outcome?.ok).toBe(false);
        const apps = await data<{ url: string; error: string | null }[]>("GET", "/api/apps");
        const app = apps.find((candidate) => candidate.url === h.appUrl);
        expect(app?.error).toContain("502");
        expect(app?.error).toContain("upstream is down");
      } finally {
        h.breakApp(null);
      }
      await data("POST", "/api/apps/sync", { url: h.appUrl });
      const apps = await data<{ url: string; error: string | null }[]>("GET", "/api/apps");
      expect(apps.find((candidate) => candidate.url === h.appUrl)?.error).toBeNull();
    });
  });
});
