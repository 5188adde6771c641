import type {
  AppFunctionJson,
  EventJson,
  JobJson,
  OutgoingEvent,
  RunJson,
  SendEventsJson,
  TestClockJson,
  TimelineJson,
} from "./rest-api";

/** A non-2xx answer: its status and body, and the request that got it. */
export class RestApiError extends Error {
  override readonly name = "RestApiError";
  constructor(
    readonly status: number,
    readonly body: string,
    request: string,
  ) {
    super(`${request}: ${status} ${body.slice(0, 500)}`);
  }
}

export interface RestClientOptions {
  /** Sent as `Authorization: Bearer <key>` (Inngest Cloud requires it, and so does the dev server in secure mode, `--signing-key`). */
  signingKey?: string;
  /** The key in the event API's path (`POST /e/<key>`; any key in dev mode). */
  eventKey?: string;
  fetch?: typeof fetch;
}

const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
};

/**
 * One typed client for an Inngest server's REST API v1 and event API (and the dev server's
 * test-mode clock), for the tests: the paths and shapes of `rest-api.ts`, `data` unwrapped.
 */
export function createRestClient(baseUrl: string, options: RestClientOptions = {}) {
  const fetchImpl = options.fetch ?? fetch;
  const origin = baseUrl.replace(/\/+$/, "");

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.signingKey) headers.authorization = `Bearer ${options.signingKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetchImpl(`${origin}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new RestApiError(response.status, text, `${method} ${path}`);
    const answer = (text ? JSON.parse(text) : undefined) as T;
    // Inngest's response cache answers a failed GET with 200 and the error as the body.
    const failed = restError(answer);
    if (failed) throw new RestApiError(failed.status, text, `${method} ${path}`);
    return answer;
  }
  const data = async <T>(method: string, path: string) =>
    (await request<{ data: T }>(method, path)).data;
  const id = encodeURIComponent;

  return {
    url: origin,
    /** GET (or another method) of any REST path, `data` unwrapped. */
    get: <T>(path: string) => data<T>("GET", path),
    events: (filter: { name?: string; limit?: number; cursor?: string } = {}) =>
      data<EventJson[]>("GET", `/v1/events${query(filter)}`),
    event: (eventId: string) => data<EventJson>("GET", `/v1/events/${id(eventId)}`),
    eventRuns: (eventId: string) => data<RunJson[]>("GET", `/v1/events/${id(eventId)}/runs`),
    runs: (
      filter: { functionId?: string; status?: string; limit?: number; cursor?: string } = {},
    ) =>
      data<RunJson[]>(
        "GET",
        `/v1/runs${query({
          function_id: filter.functionId,
          status: filter.status,
          limit: filter.limit,
          cursor: filter.cursor,
        })}`,
      ),
    run: (runId: string) => data<RunJson>("GET", `/v1/runs/${id(runId)}`),
    cancelRun: (runId: string) => data<RunJson>("DELETE", `/v1/runs/${id(runId)}`),
    timeline: (runId: string) => data<TimelineJson>("GET", `/v1/runs/${id(runId)}/timeline`),
    jobs: (runId: string) => data<JobJson[]>("GET", `/v1/runs/${id(runId)}/jobs`),
    /** The app's functions: a bare array (no `{data}`), `[]` for an unknown app. */
    appFunctions: (appId: string) =>
      request<AppFunctionJson[]>("GET", `/v1/apps/${id(appId)}/functions`),
    /** The internal id (UUID) of each of the app's functions, by slug. */
    async functionIds(appId: string): Promise<Map<string, string>> {
      const functions = await request<AppFunctionJson[]>("GET", `/v1/apps/${id(appId)}/functions`);
      return new Map(functions.map((fn) => [fn.id, fn.internal_id]));
    },
    /** POSTs events to the event API; answers the ids of the stored events, in order. */
    async send(events: OutgoingEvent | OutgoingEvent[]): Promise<string[]> {
      const answer = await request<SendEventsJson>(
        "POST",
        `/e/${id(options.eventKey ?? "test-key")}`,
        events,
      );
      return answer.ids;
    },
    /** The dev server's test mode: the virtual clock, and reset. */
    test: {
      async now(): Promise<Date> {
        return new Date((await request<TestClockJson>("GET", "/test/clock")).now);
      },
      advance: (ms: number) => request<unknown>("POST", "/test/clock/advance", { ms }),
      advanceTo: (at: Date | string | number) =>
        request<unknown>("POST", "/test/clock/advance", { to: new Date(at).toISOString() }),
      reset: () => request<unknown>("POST", "/test/reset", {}),
      idle: () => request<unknown>("POST", "/test/idle", {}),
    },
  };
}

export type RestClient = ReturnType<typeof createRestClient>;

/**
 * The error of an answer that is one: `{error, status}` with no `data`, as Inngest's servers answer
 * a failed GET (with HTTP 200); undefined for any other answer.
 */
export function restError(body: unknown): { error: string; status: number } | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.error !== "string" || ("data" in fields && fields.data !== null))
    return undefined;
  const status = typeof fields.status === "number" && fields.status >= 400 ? fields.status : 500;
  return { error: fields.error, status };
}
