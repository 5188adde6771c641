import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * Requests to apps, on node:http with one keep-alive pool per protocol (connections are pooled per
 * host and port). Used instead of `fetch`: in a CPU profile of the server driving runs, undici's
 * fetch (WHATWG streams, abort signals, Request/Response objects per call) was the largest part of
 * the server's own time; a call needs none of that.
 */

export interface AnswerHeaders {
  /** The header's value (several joined by ", "), or null. Names are case-insensitive. */
  get(name: string): string | null;
  has(name: string): boolean;
}

export interface HttpAnswer {
  status: number;
  headers: AnswerHeaders;
  text: string;
}

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The whole exchange, from connecting to the last byte of the answer. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Thrown when no answer came: `code` is the socket's error code, or TIMEOUT / ABORTED. */
export class RequestFailedError extends Error {
  override readonly name = "RequestFailedError";
  constructor(
    readonly code: string,
    message: string,
    /** The request went out on a kept-alive connection used before. */
    readonly reusedSocket = false,
  ) {
    super(message);
  }
}

const agents = {
  "http:": new HttpAgent({ keepAlive: true }),
  "https:": new HttpsAgent({ keepAlive: true }),
};

export async function sendRequest(url: string, options: HttpRequestOptions): Promise<HttpAnswer> {
  try {
    return await attempt(url, options);
  } catch (error) {
    // A pooled connection the app had closed while it sat idle (or the app restarted meanwhile)
    // fails before the request was read: sent again once, on a new connection. As node's docs
    // advise, only for a reused socket that reset.
    if (error instanceof RequestFailedError && error.reusedSocket && error.code === "ECONNRESET") {
      return attempt(url, options);
    }
    throw error;
  }
}

function attempt(url: string, options: HttpRequestOptions): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const agent = agents[target.protocol as "http:" | "https:"];
  if (!agent) {
    return Promise.reject(
      new RequestFailedError("EPROTO", `unsupported protocol ${target.protocol}`),
    );
  }
  const body = Buffer.from(options.body);
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    let answered = false;
    const fail = (code: string, message: string) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(new RequestFailedError(code, message, req.reusedSocket && !answered));
    };
    const req = send(target, {
      method: options.method,
      agent,
      headers: { ...options.headers, "content-length": String(body.length) },
    });
    const timer = setTimeout(() => {
      fail("TIMEOUT", `timed out: no complete answer within ${options.timeoutMs} ms`);
      req.destroy();
    }, options.timeoutMs);
    const onAbort = () => {
      fail("ABORTED", "the request was cancelled");
      req.destroy();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    if (options.signal?.aborted) return onAbort();
    req.on("error", (error: NodeJS.ErrnoException) => fail(error.code ?? "ERROR", error.message));
    req.on("response", (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (error: NodeJS.ErrnoException) => fail(error.code ?? "ERROR", error.message));
      res.on("aborted", () => fail("ECONNRESET", "the connection closed mid-answer"));
      res.on("end", () => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve({
          status: res.statusCode ?? 0,
          headers: answerHeaders(res.headers),
          text: Buffer.concat(chunks).toString("utf8"),
        });
      });
    });
    req.end(body);
  });
}

function answerHeaders(raw: IncomingHttpHeaders): AnswerHeaders {
  const get = (name: string) => {
    const value = raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  };
  return { get, has: (name) => get(name) !== null };
}
