import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Inngest } from "inngest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../src";
import { canonicalJson, hashedSigningKey, signatureHeader, verifySignature } from "../src/signing";
import { CHECKPOINTING, perMode, type ServedApp, serveApp, waitFor } from "./harness";

/**
 * Secure mode (the README's "Secure mode"): with a signing key, the server signs every call to an app and
 * checks every answer's signature, and apps in cloud mode (which refuse anything unsigned) work
 * with it; /fn/register needs the key's hash; with an event key, other keys send nothing.
 */

const signingKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const otherKey = `signkey-test-${randomBytes(32).toString("hex")}`;
const eventKey = "secure-event-key";
/** What the REST API v1 and the UI API need in secure mode. */
const bearer = { authorization: `Bearer ${signingKey}` };

function cloudApp(devServer: DevServer, key = signingKey) {
  // isDev: false is cloud mode whatever INNGEST_DEV says in the environment.
  return new Inngest({
    id: "secure-app",
    isDev: false,
    signingKey: key,
    eventKey,
    baseUrl: devServer.url,
  });
}

function functionsOf(inngest: Inngest.Any) {
  return [
    inngest.createFunction(
      { id: "double", triggers: [{ event: "secure/double" }], retries: 0 },
      async ({ event, step }) => {
        const n = await step.run("read", () => event.data.n as number);
        const doubled = await step.run("double", () => n * 2);
        return { doubled };
      },
    ),
  ];
}

describe("secure mode", () => {
  let devServer: DevServer;
  let inngest: Inngest.Any;
  let app: ServedApp;
  const events = async () => {
    const response = await fetch(`${devServer.url}/v1/events?limit=1000`, { headers: bearer });
    return ((await response.json()) as { data: { name: string }[] }).data.filter(
      (event) => !event.name.startsWith("inngest/"),
    ).length;
  };

  beforeAll(async () => {
    devServer = await startDevServer({
      port: 0,
      storage: "memory://",
      signingKey,
      eventKey,
      retry: { baseMs: 10, maxMs: 100 },
      checkpointing: CHECKPOINTING,
    });
    inngest = cloudApp(devServer);
    app = await serveApp(inngest, functionsOf(inngest));
  });
  afterAll(async () => {
    await app?.close();
    await devServer?.close();
  });

  it("syncs an app in cloud mode with signed calls, and runs its functions to completion", async () => {
    const record = await devServer.sync(app.url);
    expect(record).toMatchObject({ appId: "secure-app", functionCount: 1, error: null });

    // The client sends with its event key, which the server requires.
    const { ids } = await inngest.send({ name: "secure/double", data: { n: 21 } });
    const run = await waitFor("the signed run to end", async () => {
      const response = await fetch(`${devServer.url}/v1/events/${ids[0]}/runs`, {
        headers: bearer,
      });
      const [found] = ((await response.json()) as { data: { status: string; output: unknown }[] })
        .data;
      return found && found.status !== "Running" ? found : undefined;
    });
    expect(run).toMatchObject({ status: "Completed", output: { doubled: 42 } });
    // Checkpointing: the SDK's checkpoints carried the key's hash, or it would have fallen back
    // to answering each step (206, 206, 206).
    expect(app.calls.map((call) => call.status)).toEqual(
      perMode({ classic: [206, 206, 200], checkpointing: [206] }),
    );
  });

  it("/v1/checkpoint needs the signing key's hash as Bearer token", async () => {
    const runId = "01JAAAAAAAAAAAAAAAAAAAAAAA";
    const checkpoint = (authorization?: string) =>
      fetch(`${devServer.url}/v1/checkpoint/${runId}/async`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ run_id: runId, fn_id: "f", qi_id: "q", steps: [] }),
      });
    const missing = await checkpoint();
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^authorization: /);
    expect((await checkpoint(`Bearer ${hashedSigningKey(otherKey)}`)).status).toBe(401);
    // The right hash gets past the check: the run is not one with a call in flight.
    expect((await checkpoint(`Bearer ${hashedSigningKey(signingKey)}`)).status).toBe(409);
  });

  it("the cloud-mode app refuses unsigned and wrongly signed calls (so ours were signed)", async () => {
    const body = canonicalJson({
      event: { name: "secure/double", data: { n: 1 }, id: "x", ts: Date.now(), user: {} },
      events: [{ name: "secure/double", data: { n: 1 }, id: "x", ts: Date.now(), user: {} }],
      steps: {},
      ctx: {
        run_id: "01JAAAAAAAAAAAAAAAAAAAAAAA",
        attempt: 0,
        max_attempts: 1,
        disable_immediate_execution: false,
        use_api: false,
        stack: { stack: [], current: 0 },
      },
      version: 2,
    });
    const call = (signature?: string) =>
      fetch(`${app.url}?fnId=secure-app-double&stepId=step`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(signature ? { "x-inngest-signature": signature } : {}),
        },
        body,
      });

    expect((await call()).status).toBe(401);
    expect((await call(signatureHeader(otherKey, body))).status).toBe(401);
    // A stale signature is refused too: a captured request cannot be replayed later.
    expect((await call(signatureHeader(signingKey, body, Date.now() - 10 * 60_000))).status).toBe(
      401,
    );

    // The same request signed with the right key goes through, and its answer is signed.
    const signed = await call(signatureHeader(signingKey, body));
    expect(signed.status).not.toBe(401);
    const text = await signed.text();
    expect(verifySignature(signingKey, text, signed.headers.get("x-inngest-signature"))).toBe(true);
  });

  it("/fn/register needs the signing key's hash as Bearer token", async () => {
    const register = (authorization: string) =>
      fetch(`${devServer.url}/fn/register`, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify({
          url: "http://127.0.0.1:1/api/inngest",
          appName: "intruder",
          functions: [],
        }),
      });
    const wrong = await register(`Bearer ${hashedSigningKey(otherKey)}`);
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/signing key does not match/);
    expect((await register("Bearer undefined")).status).toBe(401);
    const apps = (await (await fetch(`${devServer.url}/api/apps`, { headers: bearer })).json()) as {
      data: { app_id: string | null }[];
    };
    expect(apps.data.map((record) => record.app_id)).not.toContain("intruder");

    // The SDK's own out-of-band registration carries the right hash and is accepted.
    const previous = process.env.INNGEST_ALLOW_IN_BAND_SYNC;
    process.env.INNGEST_ALLOW_IN_BAND_SYNC = "0";
    try {
      const answer = await fetch(app.url, { method: "PUT" });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ message: "Successfully registered" });
    } finally {
      if (previous === undefined) delete process.env.INNGEST_ALLOW_IN_BAND_SYNC;
      else process.env.INNGEST_ALLOW_IN_BAND_SYNC = previous;
    }
  });

  it("accepts events only at /e/<event key>", async () => {
    const before = await events();
    const other = await fetch(`${devServer.url}/e/someone-elses-key`, {
      method: "POST",
      body: JSON.stringify([{ name: "secure/double", data: { n: 1 } }]),
    });
    expect(other.status).toBe(401);
    expect(await other.json()).toMatchObject({ ids: [], status: 401, error: expect.any(String) });
    for (const path of ["/e", "/e/"]) {
      const none = await fetch(`${devServer.url}${path}`, {
        method: "POST",
        body: JSON.stringify([{ name: "secure/double", data: { n: 1 } }]),
      });
      expect(none.status, path).toBe(401);
      expect(await none.json()).toMatchObject({
        ids: [],
        error: expect.stringMatching(/no event key/),
      });
    }

    const wrongKeyClient = new Inngest({
      id: "wrong-key",
      isDev: false,
      signingKey,
      eventKey: "not-the-key",
      baseUrl: devServer.url,
    });
    await expect(wrongKeyClient.send({ name: "secure/double", data: { n: 1 } })).rejects.toThrow(
      /401/,
    );
    expect(await events()).toBe(before);

    const { ids } = await inngest.send({ name: "secure/double", data: { n: 2 } });
    expect(ids).toHaveLength(1);
    expect(await events()).toBe(before + 1);
  });

  it("refuses an app in dev mode: its answers carry no signature", async () => {
    const devApp = new Inngest({ id: "dev-mode-app", isDev: true, baseUrl: devServer.url });
    const served = await serveApp(devApp, functionsOf(devApp));
    try {
      await expect(devServer.sync(served.url)).rejects.toThrow(
        /refused the app's answer \(200\): it carries no x-inngest-signature; a server with a signing key only talks to apps in cloud mode/,
      );
    } finally {
      await served.close();
    }
  });

  it("refuses an answer whose signature does not verify", async () => {
    // Something that looks like an SDK but signs with another key (or tampers with the body).
    const impostor: Server = createServer((_, response) => {
      const body = JSON.stringify({ app_id: "impostor", functions: [], url: "http://x" });
      response.writeHead(200, {
        "content-type": "application/json",
        "x-inngest-sdk": "inngest-js:v4.24.0",
        "x-inngest-sync-kind": "in_band",
        "x-inngest-signature": signatureHeader(otherKey, body),
      });
      response.end(body);
    });
    await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}/api/inngest`;
      await expect(devServer.sync(url)).rejects.toThrow(
        /its x-inngest-signature does not match its body with our signing key/,
      );
    } finally {
      impostor.closeAllConnections();
      await new Promise((resolve) => impostor.close(resolve));
    }
  });

  it("REST v1, the UI API, /dev and /test need Bearer <signing key> (or its hash): 401 naming why", async () => {
    const paths = [
      "/v1/events",
      "/v1/runs",
      "/v1/apps/secure-app/functions",
      "/api/ui/events",
      "/api/ui/runs",
      "/api/apps",
      "/api/functions",
      "/dev",
      "/test/clock",
    ];
    const get = (path: string, authorization?: string) =>
      fetch(`${devServer.url}${path}`, { headers: authorization ? { authorization } : {} });
    for (const path of paths) {
      const missing = await get(path);
      expect(missing.status, `${path} without a token`).toBe(401);
      expect(await missing.json()).toEqual({
        error: expect.stringMatching(/^authorization: missing: the server runs in secure mode/),
        status: 401,
      });
      const basic = await get(path, `Basic ${Buffer.from(`x:${signingKey}`).toString("base64")}`);
      expect(basic.status, `${path} with Basic`).toBe(401);
      expect(((await basic.json()) as { error: string }).error).toMatch(/not a Bearer token/);
      for (const wrong of [otherKey, hashedSigningKey(otherKey), `${signingKey}x`, "undefined"]) {
        const refused = await get(path, `Bearer ${wrong}`);
        expect(refused.status, `${path} with a wrong token`).toBe(401);
        const body = (await refused.json()) as { error: string; data?: unknown };
        expect(body.error).toMatch(/^authorization: wrong token/);
        expect(body.data).toBeUndefined();
      }
      expect((await get(path, `Bearer ${signingKey}`)).status, `${path} with the key`).toBe(200);
      expect(
        (await get(path, `Bearer ${hashedSigningKey(signingKey)}`)).status,
        `${path} with the key's hash`,
      ).toBe(200);
    }
    // The UI's page itself loads, so that it can ask for the key.
    expect((await get("/")).status).toBe(200);
  });

  it("an unauthenticated action of the UI API or REST v1 stores, starts and cancels nothing", async () => {
    const before = await events();
    const runsBefore = (await (
      await fetch(`${devServer.url}/api/ui/runs`, { headers: bearer })
    ).json()) as {
      data: { run_id: string; status: string }[];
    };
    const post = (path: string, body: unknown, authorization?: string) =>
      fetch(`${devServer.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify(body),
      });
    const refusedActions = [
      ["/api/ui/events", { name: "secure/double", data: { n: 5 } }],
      ["/api/ui/functions/secure-app-double/invoke", { data: { n: 5 } }],
      ["/api/apps/sync", { url: "http://127.0.0.1:1/api/inngest" }],
      ...runsBefore.data.map((run) => [`/api/ui/runs/${run.run_id}/rerun`, {}] as const),
      ["/test/reset", {}],
    ] as const;
    for (const [path, body] of refusedActions) {
      for (const authorization of [undefined, `Bearer ${otherKey}`]) {
        const answer = await post(path, body, authorization);
        expect(answer.status, `${path} (${authorization ?? "no token"})`).toBe(401);
      }
    }
    for (const run of runsBefore.data) {
      const cancel = await fetch(`${devServer.url}/v1/runs/${run.run_id}`, { method: "DELETE" });
      expect(cancel.status).toBe(401);
    }
    expect(await events()).toBe(before);
    const runsAfter = (await (
      await fetch(`${devServer.url}/api/ui/runs`, { headers: bearer })
    ).json()) as {
      data: { run_id: string; status: string }[];
    };
    // No run more (invoke, rerun), none cancelled.
    expect(runsAfter.data.map((run) => run.run_id)).toEqual(
      runsBefore.data.map((run) => run.run_id),
    );
    expect(runsAfter.data.filter((run) => run.status === "Cancelled")).toEqual([]);
    const apps = (await (await fetch(`${devServer.url}/api/apps`, { headers: bearer })).json()) as {
      data: { url: string }[];
    };
    expect(apps.data.map((record) => record.url)).not.toContain("http://127.0.0.1:1/api/inngest");

    // The same send with the key is taken: the refusals above were the token's doing.
    const sent = await post(
      "/api/ui/events",
      { name: "secure/none", data: {} },
      `Bearer ${signingKey}`,
    );
    expect(sent.status).toBe(200);
    expect(await events()).toBe(before + 1);
  });

  it("an unsigned, tampered or stale answer is a failed call: retried, then the run fails with the error in its timeline, its output not taken", async () => {
    // The real SDK app in cloud mode, behind a proxy that spoils its answers as the event says.
    const guarded = cloudApp(devServer);
    const fn = guarded.createFunction(
      { id: "guarded", triggers: [{ event: "secure/guarded" }], retries: 1 },
      async ({ event, step }) => {
        const value = await step.run("value", () => `genuine-${event.data.n}`);
        return { value };
      },
    );
    const served = await serveApp(guarded, [fn]);
    const proxy = await spoilingProxy(served.url);
    try {
      await devServer.sync(proxy.url);
      const send = async (answer: string, n: number) => {
        const { ids } = await guarded.send({ name: "secure/guarded", data: { answer, n } });
        return ids[0] as string;
      };
      const ended = (eventId: string) =>
        waitFor(`the run of ${eventId} to end`, async () => {
          const answer = await fetch(`${devServer.url}/v1/events/${eventId}/runs`, {
            headers: bearer,
          });
          const [run] = (
            (await answer.json()) as { data: { run_id: string; status: string; output: unknown }[] }
          ).data;
          return run && run.status !== "Running" ? run : undefined;
        });
      const timeline = async (runId: string) =>
        (
          (await (
            await fetch(`${devServer.url}/v1/runs/${runId}/timeline`, { headers: bearer })
          ).json()) as {
            data: {
              steps: {
                op: string;
                attempt: number;
                error: { name: string; message: string } | null;
              }[];
            };
          }
        ).data.steps;

      const cases = [
        ["unsigned", /refused the app's answer \(20[06]\): it carries no x-inngest-signature/],
        ["tampered", /does not match its body with our signing key/],
        ["stale", /x-inngest-signature is stale: signed 6\.0 min ago, over the 5 min allowed/],
      ] as const;
      const eventIds = await Promise.all(cases.map(([answer], index) => send(answer, index)));
      for (const [index, [answer, error]] of cases.entries()) {
        const run = await ended(eventIds[index] as string);
        expect(run.status, answer).toBe("Failed");
        expect(JSON.stringify(run.output ?? null)).not.toMatch(/tampered/);
        const steps = await timeline(run.run_id);
        const refusals = steps.filter(
          (step) => step.op === "FunctionError" && step.error?.name === "AnswerRefusedError",
        );
        // The run failed with it.
        expect(steps.at(-1)).toMatchObject({
          op: "RunFailed",
          error: { name: "AnswerRefusedError" },
        });
        // retries: 1 is two attempts, each refused.
        expect(
          refusals.map((step) => step.attempt),
          answer,
        ).toEqual([0, 1]);
        for (const step of refusals) expect(step.error?.message).toMatch(error);
        expect(JSON.stringify(steps)).not.toMatch(/tampered/);
      }
      expect(proxy.spoiled()).toBeGreaterThanOrEqual(6);

      // A good run still completes, through the same proxy, with the app's own output.
      const good = await ended(await send("genuine", 7));
      expect(good).toMatchObject({ status: "Completed", output: { value: "genuine-7" } });
    } finally {
      await proxy.close();
      await served.close();
    }
  });
});

/**
 * A proxy in front of an SDK app that spoils its answers to calls whose event says so
 * (`data.answer`): `unsigned` drops the signature, `tampered` changes the body after it was signed,
 * `stale` signs it again as of 6 minutes ago. Anything else goes through unchanged.
 */
async function spoilingProxy(target: string) {
  let spoiled = 0;
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const url = new URL(request.url ?? "/", target);
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers))
      if (typeof value === "string" && !["host", "content-length", "connection"].includes(name))
        headers.set(name, value);
    const answer = await fetch(new URL(`${url.pathname}${url.search}`, target), {
      method: request.method ?? "GET",
      headers,
      ...(request.method === "GET" || request.method === "HEAD" ? {} : { body }),
    });
    let text = await answer.text();
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name))
        out[name] = value;
    });
    let mode = "";
    try {
      mode = String(
        (JSON.parse(body) as { event?: { data?: { answer?: string } } }).event?.data?.answer ?? "",
      );
    } catch {
      // a sync's body
    }
    if (mode === "unsigned") delete out["x-inngest-signature"];
    if (mode === "tampered") {
      const changed = text.replaceAll("genuine", "tampered");
      text = changed === text ? `${text} ` : changed;
    }
    if (mode === "stale")
      out["x-inngest-signature"] = signatureHeader(signingKey, text, Date.now() - 6 * 60_000);
    if (["unsigned", "tampered", "stale"].includes(mode)) spoiled += 1;
    response.writeHead(answer.status, out).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${new URL(target).pathname}`,
    spoiled: () => spoiled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("a server without a signing key", () => {
  it("tells why it cannot sync an app in cloud mode", async () => {
    const devServer = await startDevServer({ port: 0, storage: "memory://" });
    const inngest = cloudApp(devServer);
    const app = await serveApp(inngest, functionsOf(inngest));
    try {
      await expect(devServer.sync(app.url)).rejects.toThrow(
        /the app wants signed requests \(401.*\); it is in cloud mode/,
      );
    } finally {
      await app.close();
      await devServer.close();
    }
  });

  it("refuses a signing key that the SDK could not hash", async () => {
    await expect(
      startDevServer({ port: 0, storage: "memory://", signingKey: "secret" }),
    ).rejects.toThrow(/signkey-<env>-<hex>/);
  });
});
