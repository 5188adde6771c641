/**
 * The runs an event started, read from the Inngest server's REST API through the app (so the
 * browser needs neither the server's address nor the signing key), as every Inngest server answers
 * it: the dev server of this repo, Inngest's own dev server, a self-hosted Inngest, Inngest Cloud.
 *
 * What it reads, and why so (each measured on Inngest's servers):
 * - `GET /v1/events/:id/runs` lists the runs, but their status there can be stale ("Completed" for
 *   a run that is sleeping or waiting): each run's status, end and output come from
 *   `GET /v1/runs/:id`, read until the run has ended (then kept).
 * - A run's `function_id` is its function's internal id (a UUID). The app's functions,
 *   `GET /v1/apps/:app/functions` (a bare array of `{internal_id, id: slug, ...}`), map it to the
 *   slug, `<app id>-<function id>`; a run whose function is not among them is another app's (one
 *   server, several apps) and is left out. The map is kept, and read again when an unknown id shows.
 * - Inngest caches GETs by their whole URL (an event's runs 15 s, a run 3 s): a page polling them
 *   would see the same answer for that long. Each read has a query parameter of its own, which the
 *   servers ignore, so none is answered from that cache.
 * - A failed GET comes back with HTTP 200 and `{error, status}` as its body: read as the failure.
 * - A run whose steps the SDK checkpointed (the default of the v4 SDK) ends with `""` as its output
 *   on Inngest: such a run is answered with `output: null, output_reported: false`, and the page
 *   shows what the function wrote (the app's rows) instead.
 */

export interface RunsProxyOptions {
  appId: string;
  /** The Inngest server's API origin (no trailing slash). */
  apiBaseUrl: string;
  /** Sent as `Authorization: Bearer <key>` (Inngest Cloud requires it, and so does the dev server in secure mode, `--signing-key`). */
  signingKey: string | undefined;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** A run of this app's functions, as the REST API answers it, named by the app's function id. */
export interface AppRun {
  run_id: string;
  /** The function's internal id (a UUID on Inngest). */
  function_id: string;
  /** The function's id within the app: `hello-world` for the slug `next-hello-world`. */
  function: string;
  /** From `GET /v1/runs/:id`. */
  status: string;
  event_id: string;
  run_started_at?: string;
  ended_at: string | null;
  /** The run's output as the server reports it; null when it reports none. */
  output: unknown;
  /**
   * Whether the server reported the run's output. False while it runs, and for an ended run whose
   * output Inngest answers as `""` (its steps were checkpointed): what the function wrote, the
   * app's rows, is then the only account of what it did.
   */
  output_reported: boolean;
}

/** A run as the REST API answers it (`/v1/events/:id/runs`, `/v1/runs/:id`). */
interface RestRun {
  run_id: string;
  function_id: string;
  status: string;
  event_id: string;
  run_started_at?: string;
  ended_at?: string | null;
  output?: unknown;
}

/** Statuses after which a run changes no more (REST API v1). */
export const ENDED_RUN_STATUSES = ["Completed", "Failed", "Cancelled", "Skipped"] as const;
const ENDED = new Set<string>(ENDED_RUN_STATUSES);

// Event ids are ULIDs on every Inngest server; anything else is refused before it is put in a URL.
const EVENT_ID = /^[0-9A-Za-z_-]{1,64}$/;
const RUN_ID = /^[0-9A-Za-z_-]{1,64}$/;

/** How long a function id found in no list of this app's functions is taken as another app's. */
const FOREIGN_MS = 30_000;
/** Bounds of what is kept between reads. */
const MAX_KEPT = 5_000;

export class RunsProxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The error of an answer that is one: `{error, status}` with no `data` (Inngest answers a failed
 * GET so, with HTTP 200); undefined for any other answer.
 */
export function restError(body: unknown): { error: string; status: number } | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.error !== "string") return undefined;
  if ("data" in fields && fields.data !== null) return undefined;
  const status = typeof fields.status === "number" && fields.status >= 400 ? fields.status : 500;
  return { error: fields.error, status };
}

/** The run as the app answers it: its function named, its output reported or not. */
export function appRun(run: RestRun, slug: string, appId: string): AppRun {
  const prefix = `${appId}-`;
  const ended = ENDED.has(run.status);
  // `""` (or no output at all) is what Inngest answers for a run it has no output of.
  const reported = ended && run.output !== "" && run.output !== undefined;
  return {
    run_id: run.run_id,
    function_id: run.function_id,
    function: slug.startsWith(prefix) ? slug.slice(prefix.length) : slug,
    status: run.status,
    event_id: run.event_id,
    ...(run.run_started_at ? { run_started_at: run.run_started_at } : {}),
    ended_at: run.ended_at ?? null,
    output: reported ? run.output : null,
    output_reported: reported,
  };
}

export function createRunsProxy(options: RunsProxyOptions) {
  const fetchImpl = options.fetch ?? fetch;
  const { appId, apiBaseUrl } = options;
  /** This app's functions: internal id → slug. */
  const slugById = new Map<string, string>();
  /** Ids not among this app's functions at the last read of them, and when that was. */
  const foreign = new Map<string, number>();
  let functionsRead: Promise<void> | null = null;
  /** Runs seen ended by `GET /v1/runs/:id`: they change no more. */
  const endedRuns = new Map<string, RestRun>();
  let reads = 0;

  async function getJson(path: string, fresh: boolean): Promise<unknown> {
    // A query parameter of its own, which the servers ignore: Inngest caches GETs by whole URL.
    const url = `${apiBaseUrl}${path}${fresh ? `?fresh=${Date.now().toString(36)}${(reads++).toString(36)}` : ""}`;
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
        `could not reach the Inngest server at ${apiBaseUrl}: ${cause ?? (error as Error).message}`,
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const failed = response.ok ? restError(body) : { error: text, status: response.status };
    if (failed) {
      // 404 (unknown event) and 400 stay what they are; the server's own failures are a bad gateway.
      const status = failed.status === 404 || failed.status === 400 ? failed.status : 502;
      throw new RunsProxyError(
        status,
        `the Inngest server answered ${failed.status} to GET ${apiBaseUrl}${path}: ${failed.error.slice(0, 300)}`,
      );
    }
    if (body === undefined)
      throw new RunsProxyError(502, `the Inngest server's answer to GET ${path} is not JSON`);
    return body;
  }

  function dataOf(body: unknown, path: string): unknown {
    if (typeof body === "object" && body !== null && "data" in body) return body.data;
    throw new RunsProxyError(502, `the Inngest server's answer to GET ${path} has no data`);
  }

  async function readFunctions(): Promise<void> {
    const path = `/v1/apps/${encodeURIComponent(appId)}/functions`;
    const body = await getJson(path, false);
    if (!Array.isArray(body))
      throw new RunsProxyError(502, `the Inngest server's answer to GET ${path} is not an array`);
    slugById.clear();
    for (const fn of body as { internal_id?: unknown; id?: unknown }[]) {
      if (typeof fn.internal_id === "string" && typeof fn.id === "string")
        slugById.set(fn.internal_id, fn.id);
    }
  }

  /** Reads the app's functions again if an id is neither among them nor known as another app's. */
  async function learn(functionIds: string[]): Promise<void> {
    const now = Date.now();
    for (const [id, at] of foreign) if (now - at > FOREIGN_MS) foreign.delete(id);
    const unknown = functionIds.filter((id) => !slugById.has(id) && !foreign.has(id));
    if (unknown.length === 0) return;
    functionsRead ??= readFunctions().finally(() => {
      functionsRead = null;
    });
    await functionsRead;
    if (foreign.size > MAX_KEPT) foreign.clear();
    for (const id of unknown) if (!slugById.has(id)) foreign.set(id, Date.now());
  }

  /** The run as `GET /v1/runs/:id` answers it now (kept once it has ended). */
  async function currentRun(run: RestRun): Promise<RestRun> {
    const kept = endedRuns.get(run.run_id);
    if (kept) return kept;
    if (!RUN_ID.test(run.run_id))
      throw new RunsProxyError(502, `the Inngest server listed a run with the id "${run.run_id}"`);
    const path = `/v1/runs/${run.run_id}`;
    const current = dataOf(await getJson(path, true), path) as RestRun;
    if (ENDED.has(current.status)) {
      if (endedRuns.size >= MAX_KEPT) endedRuns.delete(endedRuns.keys().next().value as string);
      endedRuns.set(run.run_id, current);
    }
    return current;
  }

  return async function eventRuns(eventId: string): Promise<AppRun[]> {
    if (!EVENT_ID.test(eventId)) {
      throw new RunsProxyError(400, `"${eventId.slice(0, 80)}" is not an event id`);
    }
    const path = `/v1/events/${eventId}/runs`;
    const listed = dataOf(await getJson(path, true), path);
    if (!Array.isArray(listed)) {
      throw new RunsProxyError(502, `the Inngest server's answer to GET ${path} has no data array`);
    }
    const runs = (listed as RestRun[]).filter((run) => typeof run?.function_id === "string");
    await learn(runs.map((run) => run.function_id));
    const mine = runs.filter((run) => slugById.has(run.function_id));
    const read = await Promise.allSettled(mine.map(currentRun));
    const answered = read.flatMap((result, index) => {
      const run = mine[index];
      if (result.status === "rejected" || !run) return [];
      const slug = slugById.get(run.function_id) ?? run.function_id;
      return [appRun({ ...run, ...result.value, function_id: run.function_id }, slug, appId)];
    });
    // A run not readable yet is left for the next read; none readable at all is a failure.
    const failure = read.find((result) => result.status === "rejected");
    if (failure && answered.length === 0) throw failure.reason;
    return answered;
  };
}
