import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RequestFailedError, sendRequest } from "./http-client";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
}

const post = (body = "{}", timeoutMs = 5000) => ({
  method: "POST",
  headers: { "content-type": "application/json", "x-run-id": "r1" },
  body,
  timeoutMs,
});

describe("sendRequest", () => {
  it("sends the method, headers and body, and returns status, headers and text", async () => {
    const url = await listen((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        res.setHeader("x-echo", `${req.method} ${req.headers["x-run-id"]}`);
        res.setHeader("Retry-After", "7");
        res.statusCode = 206;
        res.end(`got ${body}`);
      });
    });
    const answer = await sendRequest(url, post('{"a":"ü"}'));
    expect(answer.status).toBe(206);
    expect(answer.text).toBe('got {"a":"ü"}');
    expect(answer.headers.get("x-echo")).toBe("POST r1");
    expect(answer.headers.get("RETRY-AFTER")).toBe("7");
    expect(answer.headers.has("x-missing")).toBe(false);
  });

  it("keeps the connection alive between requests", async () => {
    const ports = new Set<number>();
    const url = await listen((req, res) => {
      ports.add(req.socket.remotePort as number);
      res.end("ok");
    });
    for (let i = 0; i < 5; i++) await sendRequest(url, post());
    expect(ports.size).toBe(1);
  });

  it("sends again on a new connection when the app closed the kept-alive one", async () => {
    let served = 0;
    const server = createServer((_, res) => {
      served++;
      res.end("ok");
    });
    servers.push(server);
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    await sendRequest(url, post());
    // The app drops its idle connections (a restart, an idle timeout) without the client noticing.
    server.closeIdleConnections();
    expect((await sendRequest(url, post())).text).toBe("ok");
    expect(served).toBe(2);
  });

  it("names the socket error when nobody listens", async () => {
    const url = await listen((_, res) => res.end());
    await new Promise((done) => (servers.pop() as Server).close(done));
    await expect(sendRequest(url, post())).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("gives up after the timeout, counting the whole exchange", async () => {
    const url = await listen((_, res) => {
      res.write("partial"); // then nothing more
    });
    const error = await sendRequest(url, post("{}", 200)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect(error).toMatchObject({
      code: "TIMEOUT",
      message: "timed out: no complete answer within 200 ms",
    });
  });

  it("fails when the connection resets mid-answer", async () => {
    const url = await listen((req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("only part");
      setImmediate(() => req.socket.destroy());
    });
    await expect(sendRequest(url, post())).rejects.toBeInstanceOf(RequestFailedError);
  });

  it("stops when its signal is aborted", async () => {
    const url = await listen(() => {
      // never answers
    });
    const controller = new AbortController();
    const pending = sendRequest(url, { ...post(), signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
  });
});
