/**
 * Scenario 7's table: bad input on every HTTP surface of the dev server. Each case is one request,
 * the status it must get and a pattern its JSON `error` must match (the field at fault and the
 * problem). The apps' `/api` routes have their own cases in the e2e suite
 * (`e2e/specs/bad-input.spec.ts`), run against each of the three framework apps.
 */

export interface BadInputCase {
  surface: "REST v1" | "event API" | "/fn/register" | "UI API" | "checkpoint" | "test mode";
  name: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  status: number;
  message: RegExp;
}

/** A ULID no record has. */
const UNKNOWN = "01KB0000000000000000000000";

/** A function config as the SDK registers it, at an app URL nothing answers. */
export function functionConfig(id: string, trigger: Record<string, string>, extra = {}) {
  return {
    id,
    name: id,
    triggers: [trigger],
    steps: {
      step: {
        id: "step",
        name: "step",
        runtime: { type: "http", url: `http://127.0.0.1:1/api/inngest?fnId=${id}&stepId=step` },
      },
    },
    ...extra,
  };
}

/** A `/fn/register` body of an app nothing answers at (each case its own URL). */
export function register(name: string, functions: unknown, extra = {}): string {
  return JSON.stringify({
    url: `http://127.0.0.1:1/api/inngest?case=${name}`,
    appName: `bad-input-${name}`,
    framework: "test",
    sdk: "js:v4.0.0",
    deployType: "ping",
    v: "0.1",
    functions,
    ...extra,
  });
}

const post = (path: string, body: unknown) => ({
  method: "POST" as const,
  path,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** 10,000 functions, the last with a cron that does not parse. */
export function manyFunctions(count: number, lastTrigger: Record<string, string>) {
  return Array.from({ length: count }, (_, index) =>
    functionConfig(
      `many-${index}`,
      index === count - 1 ? lastTrigger : { event: `bad-input/many-${index}` },
    ),
  );
}

export function badInputCases(real: { functionSlug: string }): BadInputCase[] {
  const rest: BadInputCase[] = [
    ["limit 0", "/v1/events?limit=0", 400, /limit must be a whole number.*"0"/],
    ["limit not a number", "/v1/events?limit=ten", 400, /limit must be a whole number.*"ten"/],
    ["limit a fraction", "/v1/runs?limit=1.5", 400, /limit must be a whole number.*"1\.5"/],
    ["limit negative", "/v1/runs?limit=-5", 400, /limit must be a whole number.*"-5"/],
    ["events cursor not a ULID", "/v1/events?cursor=abc", 400, /cursor must be a ULID.*"abc"/],
    ["runs cursor not a ULID", "/v1/runs?cursor=zz-top", 400, /cursor must be a ULID.*"zz-top"/],
    ["received_after not a date", "/v1/events?received_after=yesterday", 400, /received_after/],
    ["runs status unknown", "/v1/runs?status=Sleeping", 400, /status must be one of.*"Sleeping"/],
    ["unknown event", `/v1/events/${UNKNOWN}`, 404, new RegExp(`event ${UNKNOWN} not found`)],
    ["event id not a ULID", "/v1/events/nope", 400, /event id must be a ULID.*"nope"/],
    ["runs of an unknown event", `/v1/events/${UNKNOWN}/runs`, 404, /event .* not found/],
    ["unknown run", `/v1/runs/${UNKNOWN}`, 404, new RegExp(`run ${UNKNOWN} not found`)],
    ["run id not a ULID", "/v1/runs/123", 400, /run id must be a ULID.*"123"/],
    ["timeline of an unknown run", `/v1/runs/${UNKNOWN}/timeline`, 404, /run .* not found/],
    ["jobs of an unknown run", `/v1/runs/${UNKNOWN}/jobs`, 404, /run .* not found/],
  ].map(([name, path, status, message]) => ({
    surface: "REST v1",
    name: name as string,
    method: "GET",
    path: path as string,
    status: status as number,
    message: message as RegExp,
  }));
  rest.push(
    {
      surface: "REST v1",
      name: "cancel an unknown run",
      method: "DELETE",
      path: `/v1/runs/${UNKNOWN}`,
      status: 404,
      message: /run .* not found/,
    },
    {
      surface: "REST v1",
      name: "cancel a run id not a ULID",
      method: "DELETE",
      path: "/v1/runs/x",
      status: 400,
      message: /run id must be a ULID/,
    },
  );

  const send = (name: string, body: string | Uint8Array, status: number, message: RegExp) => ({
    surface: "event API" as const,
    name,
    method: "POST" as const,
    path: "/e/key",
    body,
    status,
    message,
  });
  const events: BadInputCase[] = [
    send("malformed JSON", '{"name": "bad-input/x",', 400, /malformed JSON/),
    send("no name", JSON.stringify({ data: {} }), 400, /event 0: "name" must be a non-empty/),
    send("name a number", JSON.stringify({ name: 7 }), 400, /"name" must be .*a number/),
    send(
      "data a string",
      JSON.stringify({ name: "bad-input/x", data: "x" }),
      400,
      /"data" must be an object, got a string/,
    ),
    send(
      "ts a string",
      JSON.stringify({ name: "bad-input/x", ts: "now" }),
      400,
      /"ts" must be a number/,
    ),
    send(
      "reserved inngest/ name",
      JSON.stringify({ name: "inngest/function.finished" }),
      400,
      /"inngest\/" prefix is reserved/,
    ),
    // The first two are good: a bad third must refuse the whole send, not store two of three.
    send(
      "third of three bad",
      JSON.stringify([
        { name: "bad-input/ok", data: {} },
        { name: "bad-input/ok", data: {} },
        { name: "bad-input/ok", user: [] },
      ]),
      400,
      /event 2 \(bad-input\/ok\): "user" must be an object, got an array/,
    ),
    send(
      "5,001 events in one request",
      JSON.stringify(Array.from({ length: 5001 }, () => ({ name: "bad-input/many" }))),
      413,
      /5001 events in one request; at most 5000/,
    ),
    send(
      "one event over 512 KB",
      JSON.stringify({ name: "bad-input/big", data: { blob: "x".repeat(600 * 1024) } }),
      413,
      /event 0 \(bad-input\/big\) is \d+ bytes, over the 524288 byte limit/,
    ),
    send(
      "invalid UTF-8",
      new Uint8Array([
        ...Buffer.from('{"name":"bad-input/x","data":{"s":"'),
        0xff,
        0x22,
        0x7d,
        0x7d,
      ]),
      400,
      /not valid UTF-8.*byte offset 35/,
    ),
    send("an array of strings", JSON.stringify(["bad-input/x"]), 400, /event 0 must be an object/),
  ];

  const fn = (name: string, body: string, status: number, message: RegExp, headers = {}) => ({
    surface: "/fn/register" as const,
    name,
    ...post("/fn/register", body),
    headers: { "content-type": "application/json", ...headers },
    status,
    message,
  });
  const registers: BadInputCase[] = [
    fn("malformed JSON", '{"url": ', 400, /malformed JSON/),
    fn("null body", "null", 400, /the body must be a JSON object, got null/),
    fn(
      "no url",
      JSON.stringify({ appName: "a", functions: [] }),
      400,
      /"url" must be the app.s serve URL .*got nothing/,
    ),
    fn(
      "url not a URL",
      JSON.stringify({ url: "not a url", appName: "a", functions: [] }),
      400,
      /"url" must be an http\(s\) URL/,
    ),
    fn("no appName", register("no-app", [], { appName: "" }), 400, /"appName" must be/),
    fn("functions an object", register("fns-object", {}), 400, /"functions" must be an array/),
    fn(
      "function without id",
      register("no-id", [{ triggers: [] }]),
      400,
      /functions\[0\] has no id/,
    ),
    fn(
      "invalid cron",
      register("cron", [functionConfig("bad-cron", { cron: "61 * * * *" })]),
      400,
      /function bad-cron: triggers\[0\]\.cron/,
    ),
    fn(
      "invalid CEL in a trigger",
      register("cel", [
        functionConfig("bad-cel", { event: "bad-input/x", expression: "event.data.n ==" }),
      ]),
      400,
      /function bad-cel: triggers\[0\]\.expression/,
    ),
    fn(
      "invalid CEL in cancelOn",
      register("cancel-cel", [
        functionConfig(
          "bad-cancel",
          { event: "bad-input/x" },
          { cancel: [{ event: "bad-input/stop", if: "async.data.id == (" }] },
        ),
      ]),
      400,
      /function bad-cancel: cancel\[0\]\.if/,
    ),
    fn(
      "retries over 20",
      register("retries", [
        {
          ...functionConfig("many-retries", { event: "bad-input/x" }),
          steps: {
            step: {
              id: "step",
              name: "step",
              runtime: { type: "http", url: "http://127.0.0.1:1/api/inngest" },
              retries: { attempts: 100 },
            },
          },
        },
      ]),
      400,
      /function many-retries: retries/,
    ),
    fn(
      "two functions with one id",
      register("dup", [
        functionConfig("twice", { event: "bad-input/x" }),
        functionConfig("twice", { event: "bad-input/y" }),
      ]),
      400,
      /function twice: its id is used by two functions/,
    ),
    fn(
      "10,000 functions, the last with a bad cron",
      register("many-bad", manyFunctions(10_000, { cron: "every day" })),
      400,
      /function many-9999: triggers\[0\]\.cron/,
    ),
    fn(
      "a body over 32 MB",
      register("huge", [
        functionConfig("huge", { event: "bad-input/x" }, { pad: "x".repeat(33 * 1024 * 1024) }),
      ]),
      413,
      /request body is \d+ bytes, over the \d+ byte limit/,
    ),
    fn("registered as cloud", register("kind", []), 400, /Expected server kind dev, got cloud/, {
      "x-inngest-expected-server-kind": "cloud",
    }),
  ];

  const ui = (
    name: string,
    method: BadInputCase["method"],
    path: string,
    body: string | undefined,
    status: number,
    message: RegExp,
  ): BadInputCase => ({
    surface: "UI API",
    name,
    method,
    path,
    ...(body === undefined ? {} : { body }),
    headers: { "content-type": "application/json" },
    status,
    message,
  });
  const uiApi: BadInputCase[] = [
    ui(
      "sync: null body",
      "POST",
      "/api/apps/sync",
      "null",
      400,
      /the body must be a JSON object, got null/,
    ),
    ui("sync: malformed JSON", "POST", "/api/apps/sync", "{url", 400, /malformed JSON/),
    ui(
      "sync: url a number",
      "POST",
      "/api/apps/sync",
      '{"url": 5}',
      400,
      /"url" must be an app serve URL/,
    ),
    ui("send: malformed JSON", "POST", "/api/ui/events", "{", 400, /malformed JSON/),
    ui(
      "send: an array",
      "POST",
      "/api/ui/events",
      "[]",
      400,
      /the body must be a JSON object, got an array/,
    ),
    ui(
      "send: empty name",
      "POST",
      "/api/ui/events",
      '{"name": ""}',
      400,
      /"name" must be a non-empty string/,
    ),
    ui(
      "events: limit 0",
      "GET",
      "/api/ui/events?limit=0",
      undefined,
      400,
      /limit must be a whole number/,
    ),
    ui(
      "event id not a ULID",
      "GET",
      "/api/ui/events/nope",
      undefined,
      400,
      /event id must be a ULID/,
    ),
    ui("unknown event", "GET", `/api/ui/events/${UNKNOWN}`, undefined, 404, /event .* not found/),
    ui(
      "replay an unknown event",
      "POST",
      `/api/ui/events/${UNKNOWN}/replay`,
      "",
      404,
      /event .* not found/,
    ),
    ui(
      "invoke an unknown function",
      "POST",
      "/api/ui/functions/nope/invoke",
      "{}",
      404,
      /function nope is not registered/,
    ),
    ui(
      "invoke: data a number",
      "POST",
      `/api/ui/functions/${real.functionSlug}/invoke`,
      '{"data": 5}',
      400,
      /"data" must be an object, got a number/,
    ),
    ui(
      "invoke: user an array",
      "POST",
      `/api/ui/functions/${real.functionSlug}/invoke`,
      '{"user": []}',
      400,
      /"user" must be an object, got an array/,
    ),
    ui(
      "invoke: malformed JSON",
      "POST",
      `/api/ui/functions/${real.functionSlug}/invoke`,
      '{"data":',
      400,
      /malformed JSON/,
    ),
    ui(
      "runs: unknown status",
      "GET",
      "/api/ui/runs?status=Done",
      undefined,
      400,
      /status must be one of.*"Done"/,
    ),
    ui("unknown run", "GET", `/api/ui/runs/${UNKNOWN}`, undefined, 404, /run .* not found/),
    ui(
      "rerun an unknown run",
      "POST",
      `/api/ui/runs/${UNKNOWN}/rerun`,
      "",
      404,
      /run .* not found/,
    ),
    ui(
      "rerun: run id not a ULID",
      "POST",
      "/api/ui/runs/bad/rerun",
      "",
      400,
      /run id must be a ULID/,
    ),
    ui(
      "no such route",
      "GET",
      "/api/ui/nothing",
      undefined,
      404,
      /no route for GET \/api\/ui\/nothing/,
    ),
  ];

  const checkpoint = (name: string, body: string, status: number, message: RegExp) => ({
    surface: "checkpoint" as const,
    name,
    ...post(`/v1/checkpoint/${UNKNOWN}/async`, body),
    status,
    message,
  });
  const checkpoints: BadInputCase[] = [
    checkpoint("malformed JSON", "{", 400, /malformed JSON/),
    checkpoint(
      "no run_id",
      JSON.stringify({ fn_id: "f", qi_id: "q", steps: [] }),
      400,
      /run_id must be a non-empty string/,
    ),
    checkpoint(
      "steps not an array",
      JSON.stringify({ run_id: UNKNOWN, fn_id: "f", qi_id: "q", steps: {} }),
      400,
      /steps must be an array, got an object/,
    ),
    checkpoint(
      "a step of an op that cannot be checkpointed",
      JSON.stringify({
        run_id: UNKNOWN,
        fn_id: "f",
        qi_id: "q",
        steps: [{ id: "s", op: "Sleep" }],
      }),
      400,
      /steps\[0\]\.op "Sleep" cannot be checkpointed/,
    ),
  ];

  const testMode: BadInputCase[] = [
    {
      surface: "test mode",
      name: "advance the clock without test mode",
      ...post("/test/clock/advance", { ms: 1000 }),
      status: 404,
      message: /only there in test mode/,
    },
    {
      surface: "test mode",
      name: "reset without test mode",
      ...post("/test/reset", {}),
      status: 404,
      message: /only there in test mode/,
    },
  ];

  return [...rest, ...events, ...registers, ...uiApi, ...checkpoints, ...testMode];
}
