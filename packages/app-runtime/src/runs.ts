import { flows } from "@repo/contracts/flows";

/**
 * The runs an event started, read from the Inngest server's REST API (`GET /v1/events/:id/runs`,
 * the same path on the dev server, a self-hosted Inngest and Inngest Cloud) through the app, so the
 * browser needs neither the server's address nor the signing key.
 */

export interface RunsProxyOptions {
  appId: string;
  /** The Inngest server's API origin (no trailing slash). */
  apiBaseUrl: string;
  /** Sent as `Authorization: Bearer <key>` (Inngest Cloud requires it; the dev server ignores it). */
  signingKey: string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** A run as the REST API answers it, plus `function`: the function's id within the app. */
export interface AppRun {
  run_id: string;
  function_id: string;
  /** `hello-world` for `next-hello-world`; null when the server names functions otherwise. */
  function: string | null;
  status: string;
  event_id: string;
  run_started_at?: string;
  ended_at: string | null;
  output: unknown;
}

/** Every function id the catalogue knows, longest first (so `flaky-job-failure` beats `flaky-job`). */
const knownFunctions = [...new Set(flows.flatMap((flow) => [...flow.functions]))].sort(
  (a, b) => b.length - a.length,
);

/** Statuses after which a run changes no more (REST API v1). */
export const ENDED_RUN_STATUSES = ["Completed", "Failed", "Cancelled", "Skipped"] as const;

// Event ids are ULIDs on every Inngest server; anything else is refused before it is put in a URL.
const EVENT_ID = /^[0-9A-Za-z_-]{1,64}$/;

export class RunsProxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * With one Inngest server and several apps serving the same functions (`pnpm dev`), an event
 * starts each function once per app. Each app shows the runs of its own functions: those whose
 * slug is `<appId>-<function>`. Runs named by another app's slug are left out; runs named
 * otherwise (Inngest Cloud names functions by UUID) are kept, since that server has only this app.
 */
export function ownRuns(appId: string, runs: Omit<AppRun, "function">[]): AppRun[] {
  const prefix = `${appId}-`;
  return runs.flatMap((run): AppRun[] => {
    const slug = String(run.function_id ?? "");
    if (slug.startsWith(prefix)) return [{ ...run, function: slug.slice(prefix.length) }];
    const otherApp = knownFunctions.some((fn) => slug.endsWith(`-${fn}`));
    return otherApp ? [] : [{ ...run, function: null }];
  });
}

export function createRunsProxy(options: RunsProxyOptions) {
  const fetchImpl = options.fetch ?? fetch;
  return async function eventRuns(eventId: string): Promise<AppRun[]> {
    if (!EVENT_ID.test(eventId)) {
      throw new RunsProxyError(400, `"${eventId.slice(0, 80)}" is not an event id`);
    }
    const url = `${options.apiBaseUrl}/v1/events/${eventId}/runs`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.signingKey) headers.authorization = `Bearer ${options.signingKey}`;
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new RunsProxyError(
        502,
        `could not reach the Inngest server at ${options.apiBaseUrl}: ${cause ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    if (!response.ok) {
      // 404 (unknown event) and 400 stay what they are; the server's own failures are a bad gateway.
      const status = response.status === 404 || response.status === 400 ? response.status : 502;
      throw new RunsProxyError(
        status,
        `the Inngest server answered ${response.status} to GET ${url}: ${text.slice(0, 300)}`,
      );
    }
    let body: { data?: unknown };
    try {
      body = JSON.parse(text) as { data?: unknown };
    } catch {
      throw new RunsProxyError(502, `the Inngest server's answer to GET ${url} is not JSON`);
    }
    if (!Array.isArray(body.data)) {
      throw new RunsProxyError(502, `the Inngest server's answer to GET ${url} has no data array`);
    }
    return ownRuns(options.appId, body.data as Omit<AppRun, "function">[]);
  };
}
