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
    const response = await fetch(`${devServer.url}/v1/events?limit=1000`);
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
      const response = await fetch(`${devServer.url}/v1/events/${ids[0]}/runs`);
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
    const apps = (await (await fetch(`${devServer.url}/api/apps`)).json()) as {
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
        /without an x-inngest-signature; a server with a signing key only talks to apps in cloud mode/,
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
      await expect(devServer.sync(url)).rejects.toThrow(/x-inngest-signature does not verify/);
    } finally {
      impostor.closeAllConnections();
      await new Promise((resolve) => impostor.close(resolve));
    }
  });
});

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
