import type { FunctionConfig } from "./functions/config";
import { type AnswerHeaders, RequestFailedError, sendRequest } from "./http-client";
import { canonicalJson, signatureHeader, signatureProblem } from "./signing";
import type { JsonObject } from "./types";

/**
 * The HTTP side of talking to an app's serve endpoint: sync (PUT) and call requests (POST), signed
 * in secure mode, with the answer's signature checked.
 */

export interface CallResponse {
  status: number;
  headers: AnswerHeaders;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** False when the answer did not come from an Inngest SDK (no `x-inngest-sdk` header). */
  fromSdk: boolean;
}

export class AppUnreachableError extends Error {
  override readonly name: string = "AppUnreachableError";
}

/**
 * The app refused the request's authentication: a configuration problem (keys, modes) that no
 * retry of the same call fixes, but that fixing the config does. Runs wait.
 */
export class AppAuthError extends AppUnreachableError {
  override readonly name = "AppAuthError";
}

/**
 * Secure mode: the app's answer failed our check (unsigned, tampered, stale). Nothing of it is
 * used; to a call, it is a failed attempt, retried as Inngest retries a failed call.
 */
export class AnswerRefusedError extends Error {
  override readonly name = "AnswerRefusedError";
  constructor(
    /** The status the answer claimed. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SdkClientOptions {
  signingKey?: string | undefined;
  /** Per-call timeout (the SDK's own step timeout is far shorter; this guards hung apps). */
  callTimeoutMs?: number;
  serverKind?: "dev" | "cloud";
}

export interface InBandSync {
  kind: "in_band";
  appId: string;
  framework: string | null;
  sdk: string | null;
  url: string;
  functions: FunctionConfig[];
}

export type SyncAnswer =
  | InBandSync
  | { kind: "out_of_band"; status: number; body: unknown; fromSdk: boolean };

export class SdkClient {
  constructor(private readonly options: SdkClientOptions = {}) {}

  get secure(): boolean {
    return Boolean(this.options.signingKey);
  }

  get serverKind(): "dev" | "cloud" {
    return this.options.serverKind ?? (this.secure ? "cloud" : "dev");
  }

  private headers(body: string): Record<string, string> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      // Echoed by the SDK on /fn/register; a server with a signing key acts as a cloud server.
      "x-inngest-server-kind": this.serverKind,
    };
    if (this.options.signingKey)
      headers["x-inngest-signature"] = signatureHeader(this.options.signingKey, body);
    return headers;
  }

  private async send(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string },
    timeoutMs: number,
    cancel?: AbortSignal,
  ) {
    let response: Awaited<ReturnType<typeof sendRequest>>;
    try {
      response = await sendRequest(url, { ...init, timeoutMs, signal: cancel });
    } catch (error) {
      if (!(error instanceof RequestFailedError)) throw error;
      throw new AppUnreachableError(
        `${init.method} ${url}: ${error.code === "TIMEOUT" || error.code === "ABORTED" ? error.message : error.code}`,
      );
    }
    const { text } = response;
    const fromSdk = response.headers.has("x-inngest-sdk");
    if (response.status === 401 && !fromSdk && response.headers.has("x-inngest-sdk-handled")) {
      // The SDK strips its headers but this one when a request fails its signature check.
      throw new AppAuthError(
        this.options.signingKey
          ? `${init.method} ${url}: the app refused our signature (401 ${text.slice(0, 200)}); ` +
              "its INNGEST_SIGNING_KEY must be the server's --signing-key"
          : `${init.method} ${url}: the app wants signed requests (401 ${text.slice(0, 200)}); ` +
              "it is in cloud mode: set INNGEST_DEV=1 in the app, or start the server with " +
              "--signing-key <the app's INNGEST_SIGNING_KEY>",
      );
    }
    // In secure mode nothing of an answer is used unless it is signed with our key, within 5
    // minutes: the SDK signs every answer to a request it verified, whatever the status. Only a
    // 5xx that did not come from the SDK (a proxy's, the app is down) is left to the caller, which
    // reads no more of it than that the app is not there.
    if (this.options.signingKey && (fromSdk || response.status < 500)) {
      const problem = signatureProblem(
        this.options.signingKey,
        text,
        response.headers.get("x-inngest-signature"),
      );
      if (problem) {
        const unsigned = !response.headers.get("x-inngest-signature");
        throw new AnswerRefusedError(
          response.status,
          `${init.method} ${url}: refused the app's answer (${response.status}): ${problem}` +
            (unsigned
              ? "; a server with a signing key only talks to apps in cloud mode " +
                "(INNGEST_DEV unset, INNGEST_SIGNING_KEY set to the same key)"
              : ""),
        );
      }
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text for the error message
    }
    return { status: response.status, headers: response.headers, body, fromSdk };
  }

  /**
   * Asks the app to sync in band (it answers with its config); apps that refuse sync out of band.
   * `cancel` ends a sync that nobody waits for any more (the server is shutting down).
   */
  async sync(url: string, cancel?: AbortSignal): Promise<SyncAnswer> {
    const body = canonicalJson({ url });
    const response = await this.send(
      url,
      { method: "PUT", headers: { ...this.headers(body), "x-inngest-sync-kind": "in_band" }, body },
      30_000,
      cancel,
    );
    if (response.headers.get("x-inngest-sync-kind") === "in_band" && response.status === 200) {
      const config = response.body as JsonObject;
      return {
        kind: "in_band",
        appId: String(config.app_id ?? ""),
        framework: (config.framework as string | undefined) ?? null,
        sdk: (config.sdk as string | undefined) ?? null,
        url: String(config.url ?? url),
        functions: (config.functions as FunctionConfig[] | undefined) ?? [],
      };
    }
    return {
      kind: "out_of_band",
      status: response.status,
      body: response.body,
      fromSdk: response.fromSdk,
    };
  }

  /** One call request (see "A call" in the README). */
  async call(
    stepUrl: string,
    payload: JsonObject,
    extraHeaders: Record<string, string>,
  ): Promise<CallResponse> {
    // The SDK checks a signature over the canonical form of the body it parsed, so a signed call
    // is sent in that form; unsigned, plain JSON.stringify does (canonicalize was 1.4% of the
    // server's CPU driving runs).
    const body = this.options.signingKey ? canonicalJson(payload) : JSON.stringify(payload);
    return this.send(
      stepUrl,
      { method: "POST", headers: { ...this.headers(body), ...extraHeaders }, body },
      this.options.callTimeoutMs ?? 300_000,
    );
  }
}
