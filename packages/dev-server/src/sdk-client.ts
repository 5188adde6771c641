import { canonicalJson, signatureHeader, verifySignature } from "./signing";
import type { FunctionConfig, JsonObject } from "./types";

/**
 * The HTTP side of talking to an app's serve endpoint: sync (PUT) and call requests (POST), signed
 * in secure mode, with the answer's signature checked.
 */

export interface CallResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** False when the answer did not come from an Inngest SDK (no `x-inngest-sdk` header). */
  fromSdk: boolean;
}

export class AppUnreachableError extends Error {
  override readonly name = "AppUnreachableError";
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

export type SyncAnswer = InBandSync | { kind: "out_of_band"; status: number; body: unknown };

export class SdkClient {
  constructor(private readonly options: SdkClientOptions = {}) {}

  get secure(): boolean {
    return Boolean(this.options.signingKey);
  }

  private headers(body: string): Record<string, string> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "x-inngest-server-kind": this.options.serverKind ?? "dev",
    };
    if (this.options.signingKey)
      headers["x-inngest-signature"] = signatureHeader(this.options.signingKey, body);
    return headers;
  }

  private async send(url: string, init: RequestInit & { body: string }, timeoutMs: number) {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new AppUnreachableError(
        `${init.method} ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    if (this.options.signingKey && response.headers.get("x-inngest-sdk")) {
      const signed = response.headers.get("x-inngest-signature");
      if (response.status < 300 && !verifySignature(this.options.signingKey, text, signed)) {
        throw new Error(`${init.method} ${url}: the answer's x-inngest-signature does not verify`);
      }
    }
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text for the error message
    }
    return {
      status: response.status,
      headers: response.headers,
      body,
      fromSdk: response.headers.has("x-inngest-sdk"),
    };
  }

  /** Asks the app to sync in band (it answers with its config); apps that refuse sync out of band. */
  async sync(url: string): Promise<SyncAnswer> {
    const body = canonicalJson({ url });
    const response = await this.send(
      url,
      { method: "PUT", headers: { ...this.headers(body), "x-inngest-sync-kind": "in_band" }, body },
      30_000,
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
    return { kind: "out_of_band", status: response.status, body: response.body };
  }

  /** One call request (protocol §6). */
  async call(
    stepUrl: string,
    payload: JsonObject,
    extraHeaders: Record<string, string>,
  ): Promise<CallResponse> {
    const body = canonicalJson(payload);
    return this.send(
      stepUrl,
      { method: "POST", headers: { ...this.headers(body), ...extraHeaders }, body },
      this.options.callTimeoutMs ?? 300_000,
    );
  }
}
