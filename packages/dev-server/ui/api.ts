/** The dev server's endpoints the UI reads and acts through, with their answers' shapes. */

export type RunStatus = "Queued" | "Running" | "Completed" | "Failed" | "Cancelled" | "Skipped";

export interface AppInfo {
  url: string;
  app_id: string | null;
  framework: string | null;
  sdk: string | null;
  function_count: number;
  synced_at: string | null;
  error: string | null;
  functions: string[];
}

export interface FunctionTrigger {
  event?: string;
  expression?: string;
  cron?: string;
}

export interface FunctionInfo {
  slug: string;
  name: string;
  app_url: string;
  app_id: string;
  config: {
    id: string;
    name?: string;
    triggers: FunctionTrigger[];
    steps?: Record<string, { retries?: { attempts?: number } }>;
    [option: string]: unknown;
  };
}

export interface EventRow {
  internal_id: string;
  name: string;
  data: Record<string, unknown>;
  received_at: string;
  run_count: number;
}

export interface EventInfo {
  internal_id: string;
  id: string;
  name: string;
  data: Record<string, unknown>;
  user: Record<string, unknown>;
  ts: number;
  received_at: string;
}

export interface RunSummary {
  run_id: string;
  function_id: string;
  function_name: string;
  app_id: string | null;
  status: RunStatus;
  event_id: string;
  event_name?: string;
  cron: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
}

export interface Suggestion {
  function_id: string;
  function_name: string;
  app_id: string;
  trigger: string;
  distance: number;
  note?: string;
}

export interface EventDetail {
  event: EventInfo;
  runs: RunSummary[];
  suggestions: Suggestion[];
}

export interface TimelineEntry {
  seq: number;
  step_id: string | null;
  name: string;
  op: string;
  attempt: number;
  started_at: string;
  ended_at: string | null;
  output: unknown;
  error: { name?: string; message?: string; stack?: string } | null;
}

export interface RunDetail {
  run: RunSummary & { output: unknown; error: unknown };
  events: EventInfo[];
  steps: TimelineEntry[];
  jobs: { kind: string; step_id: string | null; attempt: number; due_at: string }[];
  now: string;
}

export interface SyncResult {
  url: string;
  ok: boolean;
  error?: string;
}

/** An answer other than 2xx, with the server's own message (it names the field at fault). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the text itself is the best message there is.
  }
  if (!response.ok) {
    const message =
      json && typeof json === "object" && "error" in json
        ? String((json as { error: unknown }).error)
        : text || response.statusText;
    throw new ApiError(response.status, message);
  }
  return ((json as { data?: T } | null)?.data ?? json) as T;
}

const query = (params: Record<string, string | undefined>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
};

export const api = {
  apps: () => request<AppInfo[]>("GET", "/api/apps"),
  sync: (url?: string) =>
    request<SyncResult[]>("POST", "/api/apps/sync", url === undefined ? {} : { url }),
  functions: () => request<FunctionInfo[]>("GET", "/api/functions"),
  invoke: (slug: string, payload: Record<string, unknown>) =>
    request<{ event_id: string; run_id: string | null }>(
      "POST",
      `/api/ui/functions/${encodeURIComponent(slug)}/invoke`,
      payload,
    ),
  events: (name?: string, internal?: boolean) =>
    request<EventRow[]>(
      "GET",
      `/api/ui/events${query({ name, internal: internal ? "1" : undefined })}`,
    ),
  event: (id: string) => request<EventDetail>("GET", `/api/ui/events/${id}`),
  sendEvent: (event: Record<string, unknown>) =>
    request<{ event_id: string }>("POST", "/api/ui/events", event),
  replay: (id: string) =>
    request<{ event_id: string; run_ids: string[] }>("POST", `/api/ui/events/${id}/replay`),
  runs: (status?: string, functionId?: string) =>
    request<RunSummary[]>("GET", `/api/ui/runs${query({ status, function_id: functionId })}`),
  run: (id: string) => request<RunDetail>("GET", `/api/ui/runs/${id}`),
  cancel: (id: string) => request<unknown>("DELETE", `/v1/runs/${id}`),
  rerun: (id: string) => request<{ run_id: string }>("POST", `/api/ui/runs/${id}/rerun`),
};
