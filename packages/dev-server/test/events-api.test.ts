import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Inngest } from "inngest";
import { decodeTime } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../src/store/store";
import { type Harness, startHarness } from "./harness";

/**
 * The event API (`POST /e/:key`) as `inngest.send()` uses it (the README's "Events and waits"): the answer's
 * exact shape, durability before the answer, all-or-nothing validation, and the id seed that makes
 * a retried send store (and run) nothing twice.
 */

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The 16 bytes of a ULID, decoded independently of the server's encoder. */
function ulidBytes(id: string): Buffer {
  let value = 0n;
  for (const char of id) value = (value << 5n) | BigInt(CROCKFORD.indexOf(char));
  return Buffer.from(value.toString(16).padStart(32, "0"), "hex");
}

async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: { ids: string[]; status: number; error?: string } }> {
  const response = await fetch(url, { method: "POST", body, headers });
  return {
    status: response.status,
    json: (await response.json()) as { ids: string[]; status: number; error?: string },
  };
}

function signup(fn: (data: unknown) => unknown) {
  return (inngest: Inngest.Any) => [
    inngest.createFunction(
      { id: "on-signup", triggers: [{ event: "test/user.signup" }], retries: 0 },
      async ({ event }) => fn(event.data),
    ),
  ];
}

describe("POST /e/:key against the real SDK's send()", () => {
  let h: Harness;
  let sender: Inngest.Any;
  const eventsUrl = () => `${h.server.url}/e/any-key`;
  /** Events sent to the API; the server's own (inngest/function.finished...) are left out. */
  const count = async () => {
    const response = await fetch(`${h.server.url}/v1/events?limit=1000`);
    const events = ((await response.json()) as { data: { name: string }[] }).data;
    return events.filter((event) => !event.name.startsWith("inngest/")).length;
  };
  const runsOf = (id: string) => h.runsOf(id);
  const idle = () => fetch(`${h.server.url}/test/idle`, { method: "POST" });

  beforeAll(async () => {
    h = await startHarness(
      "events",
      signup((data) => ({ welcomed: data })),
    );
    sender = new Inngest({ id: "sender", isDev: true, baseUrl: h.server.url });
  });
  afterAll(() => h.close());

  it("answers inngest.send() with the internal ids; each event is readable at once", async () => {
    const { ids } = await sender.send([
      { name: "test/user.signup", data: { userId: "u1" } },
      { name: "test/other", data: { n: 2 }, id: "my-own-id" },
    ]);
    expect(ids).toHaveLength(2);
    // Stored before the answer: no polling here.
    const [first, second] = await Promise.all(
      ids.map(async (id) => {
        const response = await fetch(`${h.server.url}/v1/events/${id}`);
        expect(response.status).toBe(200);
        return ((await response.json()) as { data: Record<string, unknown> }).data;
      }),
    );
    expect(first).toMatchObject({
      internal_id: ids[0],
      name: "test/user.signup",
      data: { userId: "u1" },
    });
    // The sender's own id is a field; the answer carries the internal ULID.
    expect(second).toMatchObject({ internal_id: ids[1], id: "my-own-id", name: "test/other" });
    expect(ids[1]).not.toBe("my-own-id");

    const [run] = await h.waitForRuns(ids[0] as string);
    expect(run).toMatchObject({ status: "Completed", output: { welcomed: { userId: "u1" } } });
  });

  it("answers exactly {ids, status: 200}, for an array or a single event", async () => {
    const many = await post(
      eventsUrl(),
      JSON.stringify([{ name: "t/a" }, { name: "t/b", data: {} }]),
    );
    expect(many.status).toBe(200);
    expect(many.json).toEqual({ ids: [expect.any(String), expect.any(String)], status: 200 });

    const one = await post(
      eventsUrl(),
      JSON.stringify({ name: "t/one", data: { _inngest: { fn_id: "x" }, k: 1 } }),
    );
    expect(one.json).toEqual({ ids: [expect.any(String)], status: 200 });
    const stored = (await (await fetch(`${h.server.url}/v1/events/${one.json.ids[0]}`)).json()) as {
      data: { data: unknown; ts: unknown };
    };
    // `_inngest` is the server's metadata: a sender cannot forge an invocation with it.
    expect(stored.data.data).toEqual({ k: 1 });
    expect(typeof stored.data.ts).toBe("number");
  });

  const big = "x".repeat(600 * 1024);
  const prefix = new TextEncoder().encode('[{"name":"t/utf8","data":{"s":"caf');
  const notUtf8 = new Uint8Array([...prefix, 0xe9, ...new TextEncoder().encode('"}}]')]);
  const bad: [string, string | Uint8Array, number, RegExp][] = [
    [
      "a body that is not UTF-8 (a Latin-1 é)",
      notUtf8,
      400,
      new RegExp(`not valid UTF-8: the sequence at byte offset ${prefix.length} \\(0xe9\\)`),
    ],
    ["malformed JSON", '[{"name": "t/a"', 400, /malformed JSON/],
    [
      "a missing name",
      JSON.stringify([{ name: "t/ok" }, { data: {} }]),
      400,
      /event 1: "name" must be a non-empty string, got no name/,
    ],
    [
      "a non-string name",
      JSON.stringify([{ name: 42 }]),
      400,
      /event 0: "name" must be a non-empty string, got name a number/,
    ],
    [
      "an empty name",
      JSON.stringify([{ name: "t/ok" }, { name: "t/ok" }, { name: "" }]),
      400,
      /event 2: "name" must be a non-empty string/,
    ],
    [
      "array data",
      JSON.stringify([{ name: "t/ok" }, { name: "t/x", data: [1, 2] }]),
      400,
      /event 1 \(t\/x\): "data" must be an object, got an array/,
    ],
    [
      "string data",
      JSON.stringify([{ name: "t/x", data: "hello" }]),
      400,
      /event 0 \(t\/x\): "data" must be an object, got a string/,
    ],
    [
      "a non-string id",
      JSON.stringify([{ name: "t/x", id: 7 }]),
      400,
      /event 0 \(t\/x\): "id" must be a string, got a number/,
    ],
    [
      "a non-object event",
      JSON.stringify([{ name: "t/ok" }, "t/x"]),
      400,
      /event 1 must be an object/,
    ],
    [
      "a reserved name",
      JSON.stringify([{ name: "inngest/function.failed" }]),
      400,
      /event 0 .*reserved/,
    ],
    [
      "an event over 512 KB",
      JSON.stringify([{ name: "t/ok" }, { name: "t/big", data: { big } }]),
      413,
      /event 1 \(t\/big\) is \d+ bytes, over the 524288 byte limit/,
    ],
    [
      "more than 5,000 events",
      JSON.stringify(Array.from({ length: 5001 }, () => ({ name: "t/many" }))),
      413,
      /5001 events in one request; at most 5000/,
    ],
  ];

  it.each(bad)(
    "refuses %s, names the problem, and stores nothing of the request",
    async (_, body, status, message) => {
      const before = await count();
      const answer = await post(eventsUrl(), body);
      expect(answer.status).toBe(status);
      expect(answer.json).toMatchObject({ ids: [], status });
      expect(answer.json.error).toMatch(message);
      expect(await count()).toBe(before);
    },
  );

  it("derives the ids from the send's seed, as Go does, so a retried send stores nothing twice", async () => {
    const entropy = randomBytes(10);
    const ms = Date.now() - 1000;
    const seed = `${ms},${entropy.toString("base64")}`;
    const body = JSON.stringify([
      { name: "test/user.signup", data: { userId: "seeded" } },
      { name: "t/second" },
    ]);
    const before = await count();
    const first = await post(eventsUrl(), body, { "x-inngest-event-id-seed": seed });
    expect(first.status).toBe(200);
    const ids = first.json.ids;
    // ULID = the seed's ms, then its entropy with the 1-based index added to the last 4 bytes.
    ids.forEach((id, index) => {
      expect(decodeTime(id)).toBe(ms);
      const expected = Buffer.from(entropy);
      expected.writeUInt32BE((expected.readUInt32BE(6) + index + 1) >>> 0, 6);
      expect(ulidBytes(id).subarray(6).toString("hex")).toBe(expected.toString("hex"));
    });
    await h.waitForRuns(ids[0] as string);

    const retry = await post(eventsUrl(), body, { "x-inngest-event-id-seed": seed });
    expect(retry.json).toEqual({ ids, status: 200 });
    await idle();
    expect(await count()).toBe(before + 2);
    expect(await runsOf(ids[0] as string)).toHaveLength(1);

    // Another send is another seed: new events.
    const other = await post(eventsUrl(), body, {
      "x-inngest-event-id-seed": `${ms},${randomBytes(10).toString("base64")}`,
    });
    expect(other.json.ids[0]).not.toBe(ids[0]);
    expect(await count()).toBe(before + 4);
  });

  it("an unusable seed header is ignored: the send gets fresh ids", async () => {
    const body = JSON.stringify([{ name: "t/plain" }]);
    const a = await post(eventsUrl(), body, { "x-inngest-event-id-seed": "not-a-seed" });
    const b = await post(eventsUrl(), body, { "x-inngest-event-id-seed": "not-a-seed" });
    expect(a.status).toBe(200);
    expect(a.json.ids[0]).not.toBe(b.json.ids[0]);
  });

  it("answers 503 with the storage's reason while it cannot write, and stores nothing of the send", async () => {
    const store = h.server.store;
    const commit = store.commit.bind(store);
    store.commit = async () => {
      throw new StorageUnavailableError(
        "the journal /data/journal.log could not be written: ENOSPC",
      );
    };
    let refused: Awaited<ReturnType<typeof post>>;
    try {
      refused = await post(eventsUrl(), JSON.stringify({ name: "t/while-full" }));
    } finally {
      store.commit = commit;
    }
    expect(refused.status).toBe(503);
    expect(refused.json).toEqual({
      error: "storage unavailable: the journal /data/journal.log could not be written: ENOSPC",
      status: 503,
    });
    expect(await h.events("t/while-full")).toEqual([]);
    expect((await post(eventsUrl(), JSON.stringify({ name: "t/while-full" }))).status).toBe(200);
  });

  it("a send() that the SDK retries after a lost answer is stored and run once", async () => {
    // A proxy that loses the answer to the first request after the server has handled it: the
    // SDK sees a network error and retries with the same seed.
    const seen: { seed: string | undefined }[] = [];
    const proxy: Server = createServer((incoming, outgoing) => {
      const attempt = seen.push({ seed: incoming.headers["x-inngest-event-id-seed"] as string });
      const target = new URL(incoming.url ?? "/", h.server.url);
      const forward = httpRequest(
        target,
        { method: incoming.method, headers: { ...incoming.headers, host: target.host } },
        (answer) => {
          if (attempt === 1) {
            answer.resume();
            answer.on("end", () => outgoing.socket?.destroy());
            return;
          }
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const proxied = new Inngest({
        id: "retrying-sender",
        isDev: true,
        baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      });
      const before = await count();
      const { ids } = await proxied.send({ name: "test/user.signup", data: { userId: "retried" } });
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(new Set(seen.map((attempt) => attempt.seed)).size).toBe(1);
      expect(ids).toHaveLength(1);
      const runs = await h.waitForRuns(ids[0] as string);
      await idle();
      expect(runs).toHaveLength(1);
      expect(await runsOf(ids[0] as string)).toHaveLength(1);
      expect(await count()).toBe(before + 1);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe("event ids in test mode (virtual clock)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "events-virtual",
      signup(() => "ok"),
      { testMode: true },
    );
  });
  afterAll(() => h.close());

  const send = (body: unknown, seed: string) =>
    post(`${h.server.url}/e/k`, JSON.stringify(body), { "x-inngest-event-id-seed": seed });
  const newSeed = () => `${Date.now()},${randomBytes(10).toString("base64")}`;

  it("a retried seed gets the same ids, and ids follow the virtual clock in send order", async () => {
    await h.advance(24 * 3600_000);
    const clock = (await (await fetch(`${h.server.url}/test/clock`)).json()) as { now: string };
    const seed = newSeed();
    const first = await send([{ name: "t/a" }], seed);
    const again = await send([{ name: "t/a" }], seed);
    expect(again.json.ids).toEqual(first.json.ids);
    // The seed's wall-clock time would sort these events before everything the virtual clock
    // has scheduled since; the id carries the virtual time instead.
    expect(decodeTime(first.json.ids[0] as string)).toBe(Date.parse(clock.now));

    const later = await send([{ name: "t/b" }], newSeed());
    const listed = (await (await fetch(`${h.server.url}/v1/events?limit=2`)).json()) as {
      data: { internal_id: string }[];
    };
    // Newest first, even though both were sent at the same virtual instant.
    expect(listed.data.map((event) => event.internal_id)).toEqual([
      later.json.ids[0],
      first.json.ids[0],
    ]);
  });
});
