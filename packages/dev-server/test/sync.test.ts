import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Inngest, type InngestFunction } from "inngest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer, validateFunctions } from "../src";
import { CHECKPOINTING, freePort, type ServedApp, serveApp, waitFor } from "./harness";

/**
 * Sync (the README's "Modes and sync"): apps given with -u, in-band and out-of-band registration, re-sync on
 * demand, failures recorded with what the app answered, /dev, and functions refused at sync.
 */

interface AppJson {
  url: string;
  app_id: string | null;
  function_count: number;
  functions: string[];
  synced_at: string | null;
  error: string | null;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function server(options: Parameters<typeof startDevServer>[0] = {}): Promise<DevServer> {
  const started = await startDevServer({
    port: 0,
    storage: "memory://",
    checkpointing: CHECKPOINTING,
    ...options,
  });
  cleanup.push(() => started.close());
  return started;
}

async function app(
  id: string,
  devServer: DevServer,
  make: (inngest: Inngest.Any) => InngestFunction.Any[],
  options: { port?: number; baseUrl?: string } = {},
): Promise<ServedApp & { inngest: Inngest.Any; make: typeof make }> {
  const inngest = new Inngest({ id, isDev: true, baseUrl: options.baseUrl ?? devServer.url });
  const served = await serveApp(inngest, make(inngest), { port: options.port });
  cleanup.push(() => served.close());
  return { ...served, inngest, make };
}

const fn = (inngest: Inngest.Any, id: string, options: Record<string, unknown> = {}) =>
  inngest.createFunction(
    { id, triggers: [{ event: `test/${id}` }], ...options },
    async ({ event }) => ({ ran: id, data: event.data }),
  );

async function get<T>(devServer: DevServer, path: string): Promise<T> {
  const response = await fetch(`${devServer.url}${path}`);
  expect(response.headers.get("content-type")).toMatch(/application\/json/);
  return ((await response.json()) as { data: T }).data;
}

/** The apps the server knows; with `url`, only that one (tests share a server). */
const apps = async (devServer: DevServer, url?: string) =>
  (await get<AppJson[]>(devServer, "/api/apps")).filter((record) => !url || record.url === url);
/** The registered function slugs; with `appId`, only that app's. */
const slugs = async (devServer: DevServer, appId?: string) =>
  (await get<{ slug: string; app_id: string }[]>(devServer, "/api/functions"))
    .filter((f) => !appId || f.app_id === appId)
    .map((f) => f.slug)
    .sort();

async function syncNow(devServer: DevServer, url?: string) {
  const response = await fetch(`${devServer.url}/api/apps/sync`, {
    method: "POST",
    body: JSON.stringify(url ? { url } : {}),
  });
  expect(response.status).toBe(200);
  return (
    (await response.json()) as {
      data: { url: string; ok: boolean; error?: string; app?: AppJson }[];
    }
  ).data;
}

describe("apps given with -u", () => {
  it("are synced once the app comes up after the server, then kept fresh", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/api/inngest`;
    const devServer = await server({ sdkUrls: [url], resyncIntervalMs: 200 });

    // The first attempt finds nothing listening; it is recorded, and retried.
    const [first] = await devServer.firstSync;
    expect(first).toMatchObject({ url, ok: false });
    expect(first?.error).toMatch(/could not reach the app: PUT .*ECONNREFUSED/);
    expect((await apps(devServer))[0]?.error).toMatch(/ECONNREFUSED/);

    const served = await app("late", devServer, (inngest) => [fn(inngest, "one")], { port });
    const synced = await waitFor("the late app to sync", async () => {
      const [record] = await apps(devServer);
      return record?.error === null && record.function_count === 1 ? record : undefined;
    });
    expect(synced).toMatchObject({ url, app_id: "late", functions: ["late-one"] });

    // A redeploy with another function list is picked up without anyone asking.
    served.setFunctions([fn(served.inngest, "two"), fn(served.inngest, "three")]);
    await waitFor("the new function list", async () =>
      (await slugs(devServer)).join() === "late-three,late-two" ? true : undefined,
    );

    // And the newly synced function runs.
    const { ids } = await served.inngest.send({ name: "test/three", data: { n: 3 } });
    const run = await waitFor("the run of late-three", async () => {
      const [found] = await get<{ status: string; output: unknown }[]>(
        devServer,
        `/v1/events/${ids[0]}/runs`,
      );
      return found?.status === "Completed" ? found : undefined;
    });
    expect(run.output).toEqual({ ran: "three", data: { n: 3 } });
  });
});

describe("one server, several apps", () => {
  // Starting a server (an embedded database) is the slow part, so these tests share one; each
  // looks only at its own app.
  let devServer: DevServer;
  beforeAll(async () => {
    devServer = await startDevServer({
      port: 0,
      storage: "memory://",
      checkpointing: CHECKPOINTING,
    });
  });
  afterAll(() => devServer.close());

  it("registers an app out of band when anyone PUTs its serve URL", async () => {
    const served = await app("plain-put", devServer, (inngest) => [
      fn(inngest, "a"),
      fn(inngest, "b"),
    ]);

    const answer = await fetch(served.url, { method: "PUT" });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      message: "Successfully registered",
      modified: true,
    });
    expect(await slugs(devServer, "plain-put")).toEqual(["plain-put-a", "plain-put-b"]);
    expect(await apps(devServer, served.url)).toEqual([
      expect.objectContaining({
        url: served.url,
        app_id: "plain-put",
        function_count: 2,
        error: null,
      }),
    ]);

    // The same config again changes nothing.
    const again = await fetch(served.url, { method: "PUT" });
    expect(await again.json()).toMatchObject({ modified: false });
  });

  it("syncs in band by default, and out of band when the app disables in-band sync", async () => {
    // The app talks to the server through a recording proxy, to see which way it registered.
    const registerCalls: string[] = [];
    const proxy: Server = createServer((incoming, outgoing) => {
      registerCalls.push(`${incoming.method} ${incoming.url}`);
      const target = new URL(incoming.url ?? "/", devServer.url);
      const forward = httpRequest(
        target,
        { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    cleanup.push(async () => {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    });
    const baseUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const served = await app("bands", devServer, (inngest) => [fn(inngest, "x")], { baseUrl });

    await devServer.sync(served.url);
    expect(registerCalls).toEqual([]);
    expect(await slugs(devServer, "bands")).toEqual(["bands-x"]);

    served.setFunctions([fn(served.inngest, "x"), fn(served.inngest, "y")]);
    const previous = process.env.INNGEST_ALLOW_IN_BAND_SYNC;
    process.env.INNGEST_ALLOW_IN_BAND_SYNC = "0";
    try {
      const record = await devServer.sync(served.url);
      expect(record).toMatchObject({ url: served.url, functionCount: 2, error: null });
    } finally {
      if (previous === undefined) delete process.env.INNGEST_ALLOW_IN_BAND_SYNC;
      else process.env.INNGEST_ALLOW_IN_BAND_SYNC = previous;
    }
    expect(registerCalls).toEqual(["POST /fn/register"]);
    expect(await slugs(devServer, "bands")).toEqual(["bands-x", "bands-y"]);
  });

  it("re-syncs on demand with POST /api/apps/sync", async () => {
    const served = await app("on-demand", devServer, (inngest) => [fn(inngest, "old")]);
    await devServer.sync(served.url);
    served.setFunctions([fn(served.inngest, "new")]);
    expect(await slugs(devServer, "on-demand")).toEqual(["on-demand-old"]);

    const [result] = await syncNow(devServer, served.url);
    expect(result).toMatchObject({ url: served.url, ok: true, app: { function_count: 1 } });
    // No wait: the answer comes after the new list is in place.
    expect(await slugs(devServer, "on-demand")).toEqual(["on-demand-new"]);

    // Without a URL, every known app is re-synced.
    served.setFunctions([fn(served.inngest, "newer")]);
    const all = await syncNow(devServer);
    expect(all.find((r) => r.url === served.url)).toMatchObject({ ok: true });
    expect(await slugs(devServer, "on-demand")).toEqual(["on-demand-newer"]);
  });

  it("records a sync failure on the app with what it answered, cleared by the next good sync", async () => {
    let healthy = false;
    const inngest = new Inngest({ id: "flaky-site", isDev: true, baseUrl: devServer.url });
    const { serve } = await import("inngest/node");
    const sdkHandler = serve({ client: inngest, functions: [fn(inngest, "f")] });
    // A site whose /api/inngest is not (yet) the SDK: it answers an HTML 404 page.
    const site: Server = createServer((request, response) => {
      if (healthy) return sdkHandler(request, response);
      response.writeHead(404, { "content-type": "text/html" });
      response.end("<html><body><h1>404: This page could not be found</h1></body></html>");
    });
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    cleanup.push(async () => {
      site.closeAllConnections();
      await new Promise((resolve) => site.close(resolve));
    });
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/api/inngest`;

    const [notFound] = await syncNow(devServer, url);
    expect(notFound?.ok).toBe(false);
    expect(notFound?.error).toMatch(/answered 404 without the Inngest SDK/);
    expect(notFound?.error).toContain("<h1>404: This page could not be found</h1>");
    const [recorded] = await apps(devServer, url);
    expect(recorded).toMatchObject({ url, error: notFound?.error });

    healthy = true;
    expect((await syncNow(devServer, url))[0]).toMatchObject({ ok: true });
    expect((await apps(devServer, url))[0]).toMatchObject({ url, error: null, function_count: 1 });
  });

  it("records a refused connection", async () => {
    const url = `http://127.0.0.1:${await freePort()}/api/inngest`;
    await expect(devServer.sync(url)).rejects.toThrow(
      /could not reach the app: PUT .*ECONNREFUSED/,
    );
    expect((await apps(devServer, url))[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it("answers GET /dev as the Go dev server does, with the synced functions and handlers", async () => {
    const served = await app("info", devServer, (inngest) => [fn(inngest, "f")]);
    await devServer.sync(served.url);
    const response = await fetch(`${devServer.url}/dev`);
    const info = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(
      [
        "features",
        "functions",
        "handlers",
        "isMissingEventKeys",
        "isMissingSigningKey",
        "isSingleNodeService",
        "startOpts",
        "version",
      ].sort(),
    );
    expect(info).toMatchObject({
      version: expect.any(String),
      startOpts: { sdkURLs: [], autodiscover: false },
      functions: expect.arrayContaining([
        expect.objectContaining({ id: "info-f", triggers: [{ event: "test/f" }] }),
      ]),
      handlers: expect.arrayContaining([
        expect.objectContaining({ url: served.url, app_id: "info", error: null }),
      ]),
      isSingleNodeService: false,
      isMissingSigningKey: false,
      isMissingEventKeys: false,
      features: {},
    });
  });

  it("refuses invalid functions at sync, naming function and option; the last good ones stay", async () => {
    const served = await app("strict", devServer, (inngest) => [fn(inngest, "good")]);
    await devServer.sync(served.url);

    served.setFunctions([
      fn(served.inngest, "good"),
      fn(served.inngest, "limited", { rateLimit: { limit: 5, period: "48h" } }),
      served.inngest.createFunction(
        { id: "bad-if", triggers: [{ event: "test/x", if: "event.data.n >>> 2" }] },
        async () => null,
      ),
    ]);
    const failure = await devServer.sync(served.url).catch((error: Error) => error.message);
    expect(failure).toMatch(/function strict-limited: rateLimit.period is 48h; the maximum is 1d/);
    expect(failure).toMatch(/function strict-bad-if: triggers\[0\]\.expression does not compile/);
    expect(await slugs(devServer, "strict")).toEqual(["strict-good"]);
    expect((await apps(devServer, served.url))[0]?.error).toMatch(/strict-limited/);

    // Out of band, the SDK's own answer to the PUT carries the reason, with the status.
    const put = await fetch(served.url, { method: "PUT" });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { message: string }).message).toMatch(/strict-limited/);
  });
});

describe("POST /fn/register with bad input", () => {
  const register = (devServer: DevServer, body: string) =>
    fetch(`${devServer.url}/fn/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  const config = (id: string, trigger: Record<string, string>) => ({
    id,
    triggers: [trigger],
    steps: {
      step: {
        id: "step",
        name: "step",
        runtime: { type: "http", url: `http://127.0.0.1:1/api/inngest?fnId=${id}&stepId=step` },
      },
    },
  });

  it("answers 400 naming the field, and a refused app is not created", async () => {
    const devServer = await server();
    const cases: [unknown, RegExp][] = [
      [null, /the body must be a JSON object, got null/],
      [{ appName: "a", functions: [] }, /"url" must be the app's serve URL .*got nothing/],
      [{ url: "ftp://x", appName: "a", functions: [] }, /"url" must be an http\(s\) URL/],
      [{ url: "http://127.0.0.1:1/", functions: [] }, /"appName" must be .*got nothing/],
      [{ url: "http://127.0.0.1:1/", appName: "a", functions: {} }, /"functions" must be an array/],
      [
        {
          url: "http://127.0.0.1:1/",
          appName: "a",
          functions: [config("c", { cron: "61 * * * *" })],
        },
        /function c: triggers\[0\]\.cron/,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await register(devServer, JSON.stringify(body));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(message);
    }
    expect(await get<AppJson[]>(devServer, "/api/apps")).toEqual([]);
  });

  it("takes 10,000 functions, and refuses a body over its size limit with a 413", async () => {
    const devServer = await server();
    const functions = Array.from({ length: 10_000 }, (_, index) =>
      config(`many-${index}`, { event: `test/many-${index}` }),
    );
    const body = { url: "http://127.0.0.1:1/api/inngest", appName: "many", functions };
    const taken = await register(devServer, JSON.stringify(body));
    expect(taken.status).toBe(200);
    expect(await get<unknown[]>(devServer, "/api/functions")).toHaveLength(10_000);

    const pad = "x".repeat(33 * 1024 * 1024);
    const huge = await register(devServer, JSON.stringify({ ...body, appName: "huge", pad }));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toMatch(
      /over the 33554432 byte limit/,
    );
  });
});

describe("validateFunctions", () => {
  const base = {
    id: "app-f",
    name: "f",
    triggers: [{ event: "test/e" }],
    steps: {
      step: {
        id: "step",
        name: "step",
        runtime: { type: "http", url: "http://127.0.0.1:3000/api/inngest?fnId=app-f&stepId=step" },
      },
    },
  };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      "retries over 20",
      { steps: { step: { ...base.steps.step, retries: { attempts: 21 } } } },
      /retries must be a whole number from 0 to 20, got 21/,
    ],
    [
      "a cron with 6 fields",
      { triggers: [{ cron: "0 0 9 * * *" }] },
      /triggers\[0\]\.cron .* has 6 fields/,
    ],
    ["a cron descriptor", { triggers: [{ cron: "@daily" }] }, /triggers\[0\]\.cron .*descriptors/],
    [
      "a bad cron time zone",
      { triggers: [{ cron: "TZ=Mars/Olympus 0 9 * * *" }] },
      /triggers\[0\]\.cron .*not a valid cron/,
    ],
    [
      "a cron jitter over 5m",
      { triggers: [{ cron: "0 9 * * *", jitter: "10m" }] },
      /triggers\[0\]\.jitter is 10m; the maximum is 5m/,
    ],
    [
      "a trigger expression that does not compile",
      { triggers: [{ event: "e", expression: "event.data.x ==" }] },
      /triggers\[0\]\.expression does not compile/,
    ],
    [
      "a negative concurrency limit",
      { concurrency: { limit: -1 } },
      /concurrency\.limit must be a whole number 0 or more, got -1/,
    ],
    [
      "three concurrency limits",
      { concurrency: [{ limit: 1 }, { limit: 2 }, { limit: 3 }] },
      /concurrency has 3 limits; at most 2/,
    ],
    [
      "an unknown concurrency scope",
      { concurrency: [{ limit: 1, scope: "world" }] },
      /concurrency\[0\]\.scope must be "fn", "env" or "account", got "world"/,
    ],
    [
      "a concurrency key that does not compile",
      { concurrency: { limit: 1, key: "event.data.(" } },
      /concurrency\.key does not compile/,
    ],
    [
      "a rate limit of 0",
      { rateLimit: { limit: 0, period: "1m" } },
      /rateLimit\.limit must be a whole number 1 or more/,
    ],
    [
      "a rate limit period over 24h",
      { rateLimit: { limit: 1, period: "25h" } },
      /rateLimit\.period is 25h; the maximum is 1d/,
    ],
    [
      "a throttle period over 7d",
      { throttle: { limit: 1, period: "8d" } },
      /throttle\.period is 8d; the maximum is 7d/,
    ],
    [
      "a throttle period that is no duration",
      { throttle: { limit: 1, period: "soon" } },
      /throttle\.period must be a duration .* got "soon"/,
    ],
    [
      "a fractional throttle burst",
      { throttle: { limit: 1, period: "1m", burst: 1.5 } },
      /throttle\.burst must be a whole number/,
    ],
    [
      "a debounce period under 1s",
      { debounce: { period: "500ms" } },
      /debounce\.period is 500ms; the minimum is 1s/,
    ],
    [
      "a debounce period over 7d",
      { debounce: { period: "8d" } },
      /debounce\.period is 8d; the maximum is 7d/,
    ],
    [
      "a debounce key that does not compile",
      { debounce: { period: "1m", key: "event.data.id +" } },
      /debounce\.key does not compile/,
    ],
    [
      "a batch of 101",
      { batchEvents: { maxSize: 101, timeout: "5s" } },
      /batchEvents\.maxSize must be a whole number from 1 to 100, got 101/,
    ],
    [
      "a batch timeout over 60s",
      { batchEvents: { maxSize: 10, timeout: "2m" } },
      /batchEvents\.timeout is 2m; the maximum is 1m/,
    ],
    [
      "a batch with cancelOn",
      { batchEvents: { maxSize: 10, timeout: "5s" }, cancel: [{ event: "e" }] },
      /batchEvents cannot be combined with cancelOn/,
    ],
    [
      "a finish timeout that is no duration",
      { timeouts: { finish: "forever" } },
      /timeouts\.finish must be a duration/,
    ],
    [
      "a priority that does not compile",
      { priority: { run: "event.data.vip ? 120 :" } },
      /priority\.run does not compile/,
    ],
    [
      "an unknown singleton mode",
      { singleton: { mode: "queue" } },
      /singleton\.mode must be "skip" or "cancel", got "queue"/,
    ],
    [
      "an idempotency key that does not compile",
      { idempotency: "event.data.(id" },
      /idempotency does not compile/,
    ],
    [
      "six cancellations",
      { cancel: Array.from({ length: 6 }, () => ({ event: "e" })) },
      /cancel has 6 entries; at most 5/,
    ],
    [
      "a cancel if that does not compile",
      { cancel: [{ event: "e", if: "async.data.id ==" }] },
      /cancel\[0\]\.if does not compile/,
    ],
    [
      "a cancel timeout that is no duration",
      { cancel: [{ event: "e", timeout: "later" }] },
      /cancel\[0\]\.timeout must be a duration/,
    ],
  ];

  it.each(cases)("refuses %s", (_, change, message) => {
    const problems = validateFunctions([{ ...base, ...change }]);
    expect(problems.join("\n")).toMatch(message);
    for (const problem of problems) expect(problem).toMatch(/^function app-f: /);
  });

  it("accepts every option within its bounds", () => {
    expect(
      validateFunctions([
        {
          ...base,
          triggers: [
            { event: "test/e", expression: "event.data.n > 2" },
            { cron: "TZ=Europe/Paris 0 9 * * 1-5", jitter: "30s" },
          ],
          concurrency: [
            { limit: 2, key: "event.data.userId" },
            { limit: 10, scope: "env", key: '"all"' },
          ],
          rateLimit: { limit: 5, period: "24h", key: "event.data.userId" },
          throttle: { limit: 0, period: "7d", burst: 2 },
          debounce: { period: "1s", timeout: "5m", key: "" },
          timeouts: { start: "10s", finish: "1h" },
          priority: { run: "event.data.vip ? 120 : 0" },
          singleton: { mode: "cancel", key: "event.data.userId" },
          idempotency: "event.data.orderId",
          cancel: [
            {
              event: "test/cancel",
              if: "async.data.id == event.data.id",
              timeout: "2026-01-01T00:00:00Z",
            },
          ],
        },
        {
          ...base,
          id: "app-batched",
          batchEvents: { maxSize: 100, timeout: "60s", key: "event.data.k" },
        },
      ]),
    ).toEqual([]);
  });
});
