/** The dev server's endpoints the UI reads and acts through, with their answers' shapes. */

import type {
  AppListJson,
  FunctionJson,
  SyncOutcomeJson,
  UiEventDetail,
  UiEventRow,
  UiInvoked,
  UiReplayed,
  UiRerun,
  UiRunDetail,
  UiRunSummary,
  UiSent,
} from "../src/http/wire";
import { authHeaders, refused } from "./auth";

// The shapes are the server's own (src/http/wire.ts), imported as types: nothing of the server
// is bundled.
export type {
  AppListJson,
  FunctionJson,
  RunStatus,
  SyncOutcomeJson,
  UiEventDetail,
  UiRunDetail,
  UiStep,
} from "../src/http/wire";

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
      ...authHeaders(),
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
    if (response.status === 401) refused(message);
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
  apps: () => request<AppListJson[]>("GET", "/api/apps"),
  sync: (url?: string) =>
    request<SyncOutcomeJson[]>("POST", "/api/apps/sync", url === undefined ? {} : { url }),
  functions: () => request<FunctionJson[]>("GET", "/api/functions"),
  invoke: (slug: string, payload: Record<string, unknown>) =>
    request<UiInvoked>("POST", `/api/ui/functions/${encodeURIComponent(slug)}/invoke`, payload),
  events: (name?: string, internal?: boolean) =>
    request<UiEventRow[]>(
      "GET",
      `/api/ui/events${query({ name, internal: internal ? "1" : undefined })}`,
    ),
  event: (id: string) => request<UiEventDetail>("GET", `/api/ui/events/${id}`),
  sendEvent: (event: Record<string, unknown>) => request<UiSent>("POST", "/api/ui/events", event),
  replay: (id: string) => request<UiReplayed>("POST", `/api/ui/events/${id}/replay`),
  runs: (status?: string, functionId?: string) =>
    request<UiRunSummary[]>("GET", `/api/ui/runs${query({ status, function_id: functionId })}`),
  run: (id: string) => request<UiRunDetail>("GET", `/api/ui/runs/${id}`),
  cancel: (id: string) => request<unknown>("DELETE", `/v1/runs/${id}`),
  rerun: (id: string) => request<UiRerun>("POST", `/api/ui/runs/${id}/rerun`),
};
