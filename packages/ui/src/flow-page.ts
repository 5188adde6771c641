import { testIds } from "@repo/contracts/flows";

/**
 * The one browser module of the three apps: it brings a server-rendered flow page (the markup of
 * `markup.ts`) to life. A form is sent with fetch as JSON; field errors are shown next to their
 * fields; the event ids are shown; then the runs the events started (the Inngest server's REST API,
 * read through the app) and the rows the functions wrote (the app's database) are polled and shown
 * until every run has ended. Plain DOM, no framework: each app bundles it its own way.
 */

/**
 * A run as `GET /api/events/:id/runs` answers it (`AppRun` of @repo/app-runtime, a server
 * package): its status read from the Inngest server's `/v1/runs/:id`, its function named by the
 * app's function id. `output_reported` is false for an ended run whose output the server does not
 * report (Inngest answers `""` for a run whose steps were checkpointed): the rows the function
 * wrote, in the results panel, are then what it did.
 */
interface AppRun {
  run_id: string;
  function_id: string;
  function: string | null;
  status: string;
  ended_at: string | null;
  output: unknown;
  output_reported?: boolean;
}

const ENDED = new Set(["Completed", "Failed", "Cancelled", "Skipped"]);
/** The output cell of an ended run whose output the Inngest server does not report. */
export const UNREPORTED = "not reported by the Inngest server: see what the function wrote";
/** Keep polling this long after a send even with no run in sight: runs can start late (batching
 * waits up to 5 s, a decision event resumes a run that another event started). */
const SETTLE_MS = 8_000;
const FIRST_INTERVAL_MS = 400;
const MAX_INTERVAL_MS = 5_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Attaches every flow page in the document; returns the function that detaches them. */
export function attachFlowPages(root: ParentNode = document): () => void {
  const detachers = [...root.querySelectorAll<HTMLElement>("[data-flow-page]")].map(attachFlowPage);
  return () => {
    for (const detach of detachers) detach();
  };
}

export function attachFlowPage(page: HTMLElement): () => void {
  const flowId = page.dataset.flow ?? "";
  const resultsKeyField = page.dataset.resultsKey || null;
  const runsBody = page.querySelector<HTMLElement>("[data-runs-body]");
  const resultsBody = page.querySelector<HTMLElement>("[data-results-body]");
  const forms = [...page.querySelectorAll<HTMLFormElement>("form[data-flow-form]")];

  const eventIds: string[] = [];
  const runs = new Map<string, AppRun>();
  let resultsKey: string | null = null;
  let lastSendAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let interval = FIRST_INTERVAL_MS;
  let detached = false;

  const schedule = (delay: number) => {
    clearTimeout(timer);
    if (!detached) timer = setTimeout(poll, delay);
  };

  async function poll(): Promise<void> {
    page.setAttribute("aria-busy", "true");
    try {
      await Promise.all([refreshRuns(), refreshResults()]);
    } finally {
      page.removeAttribute("aria-busy");
    }
    const running = [...runs.values()].some((run) => !ENDED.has(run.status));
    const settling = Date.now() - lastSendAt < SETTLE_MS;
    page.dataset.polling = String(running || settling);
    if (running || settling) {
      schedule(interval);
      // A run that waits long (an approval, retries with backoff) is polled less and less often.
      interval = Math.min(Math.round(interval * 1.25), MAX_INTERVAL_MS);
    }
  }

  async function refreshRuns(): Promise<void> {
    await Promise.all(
      eventIds.map(async (eventId) => {
        const answer = await getJson(`/api/events/${encodeURIComponent(eventId)}/runs`);
        if (!answer.ok) return;
        for (const run of (answer.body as { runs?: AppRun[] }).runs ?? [])
          runs.set(run.run_id, run);
      }),
    );
    if (runsBody && runs.size > 0) renderRuns(runsBody, [...runs.values()]);
  }

  async function refreshResults(): Promise<void> {
    if (!resultsBody || (resultsKeyField && !resultsKey)) return;
    const query = resultsKey ? `?key=${encodeURIComponent(resultsKey)}` : "";
    const answer = await getJson(`/api/flows/${encodeURIComponent(flowId)}/results${query}`);
    if (!answer.ok) {
      resultsBody.replaceChildren(paragraph(errorText(answer.body, answer.status), "form-error"));
      return;
    }
    renderResults(resultsBody, (answer.body as { results?: Record<string, Json> }).results ?? {});
  }

  const listeners = forms.map((form) => {
    const onSubmit = (event: SubmitEvent) => {
      event.preventDefault();
      void submit(form);
    };
    form.addEventListener("submit", onSubmit);
    return () => form.removeEventListener("submit", onSubmit);
  });

  async function submit(form: HTMLFormElement): Promise<void> {
    const formId = form.dataset.flowForm ?? "";
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    clearErrors(form);
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const fields = Object.fromEntries(
        [...new FormData(form).entries()].map(([name, value]) => [name, String(value)]),
      );
      const answer = await sendJson(form.action, fields);
      if (!answer.ok) {
        showErrors(form, formId, answer.body, answer.status);
        return;
      }
      const body = answer.body as { ids?: string[]; logId?: number };
      const ids = body.ids ?? [];
      showEventIds(form, ids);
      if (body.logId !== undefined) resultsKey = String(body.logId);
      else if (resultsKeyField && fields[resultsKeyField]) resultsKey = fields[resultsKeyField];
      eventIds.push(...ids);
      lastSendAt = Date.now();
      interval = FIRST_INTERVAL_MS;
      schedule(0);
    } finally {
      if (button) button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }

  // Flows whose results need no key (the daily reports) show them from the start.
  if (!resultsKeyField && resultsBody) void refreshResults();

  // Until this is set, a submit is the browser's own form post (Next and Remix attach the module
  // on hydration): tests and scripts wait for it rather than for an idle network.
  page.dataset.attached = "true";

  return () => {
    detached = true;
    clearTimeout(timer);
    for (const remove of listeners) remove();
    delete page.dataset.attached;
  };
}

// ------------------------------------------------------------------------------------ requests

interface Answer {
  ok: boolean;
  status: number;
  body: unknown;
}

async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (a proxy's error page): shown as text
  }
  return { ok: response.ok, status: response.status, body };
}

async function getJson(url: string): Promise<Answer> {
  try {
    // Never an answer kept by the browser: each poll must see the state of now.
    return await readAnswer(
      await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" }),
    );
  } catch (error) {
    return { ok: false, status: 0, body: { error: `the app is unreachable: ${String(error)}` } };
  }
}

async function sendJson(url: string, body: unknown): Promise<Answer> {
  try {
    return await readAnswer(
      await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      }),
    );
  } catch (error) {
    return { ok: false, status: 0, body: { error: `the app is unreachable: ${String(error)}` } };
  }
}

function errorText(body: unknown, status: number): string {
  if (body && typeof body === "object" && "error" in body) return String(body.error);
  if (typeof body === "string" && body.trim()) return `${status}: ${body.slice(0, 200)}`;
  return `the request failed (${status || "no answer"})`;
}

// ------------------------------------------------------------------------------------ form state

function clearErrors(form: HTMLFormElement): void {
  for (const element of form.querySelectorAll<HTMLElement>(
    "[data-field-error], [data-form-error]",
  )) {
    element.textContent = "";
    element.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]"))
    input.removeAttribute("aria-invalid");
}

function showErrors(form: HTMLFormElement, formId: string, body: unknown, status: number): void {
  const fieldErrors =
    body && typeof body === "object" && "fieldErrors" in body
      ? (body.fieldErrors as Record<string, string[]>)
      : {};
  const unplaced: string[] = [];
  for (const [name, messages] of Object.entries(fieldErrors)) {
    const slot = form.querySelector<HTMLElement>(
      `[data-testid="${testIds.fieldError(formId, name)}"]`,
    );
    const input = form.elements.namedItem(name);
    if (!slot || !(input instanceof HTMLElement)) {
      unplaced.push(
        ...messages.map((message) => (name === "_form" ? message : `${name}: ${message}`)),
      );
      continue;
    }
    slot.textContent = messages.join("; ");
    slot.hidden = false;
    input.setAttribute("aria-invalid", "true");
  }
  const formError = form.querySelector<HTMLElement>("[data-form-error]");
  if (!formError) return;
  const summary = Object.keys(fieldErrors).length > 0 ? unplaced : [errorText(body, status)];
  if (summary.length > 0) {
    formError.textContent = summary.join("; ");
    formError.hidden = false;
  }
  const firstInvalid = form.querySelector<HTMLElement>("[aria-invalid=true]");
  firstInvalid?.focus();
}

function showEventIds(form: HTMLFormElement, ids: string[]): void {
  const output = form.querySelector<HTMLElement>("[data-event-ids]");
  if (!output) return;
  output.replaceChildren(
    ...ids.flatMap((id, index) => {
      const code = document.createElement("code");
      code.textContent = id;
      return index === 0 ? code : [document.createTextNode(" "), code];
    }),
  );
}

// ------------------------------------------------------------------------------------ rendering

function paragraph(text: string, className?: string): HTMLParagraphElement {
  const p = document.createElement("p");
  p.textContent = text;
  if (className) p.className = className;
  return p;
}

function cell(tag: "td" | "th", content: string | Node): HTMLTableCellElement {
  const element = document.createElement(tag);
  if (tag === "th") element.scope = "col";
  element.append(content);
  return element;
}

function table(columns: string[], rows: (string | Node)[][], caption?: string): HTMLTableElement {
  const element = document.createElement("table");
  if (caption) element.createCaption().textContent = caption;
  const head = element.createTHead().insertRow();
  for (const column of columns) head.append(cell("th", column));
  const body = element.createTBody();
  for (const row of rows) body.insertRow().append(...row.map((value) => cell("td", value)));
  return element;
}

function renderRuns(container: HTMLElement, runs: AppRun[]): void {
  const rows = runs.map((run) => {
    const functionId = run.function ?? run.function_id;
    const status = document.createElement("span");
    status.className = `status status-${run.status.toLowerCase()}`;
    status.dataset.testid = testIds.runStatus(functionId);
    status.dataset.status = run.status;
    status.textContent = run.status;
    const output = document.createElement("code");
    output.textContent =
      run.output === null || run.output === undefined ? "" : show(run.output as Json);
    if (ENDED.has(run.status) && run.output_reported === false) {
      output.textContent = UNREPORTED;
      output.className = "empty";
      output.dataset.output = "unreported";
    }
    const runId = document.createElement("code");
    runId.textContent = run.run_id;
    return [functionId, status, runId, output];
  });
  container.replaceChildren(table(["Function", "Status", "Run id", "Output"], rows));
}

function show(value: Json): string {
  if (value === null) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Each result is a row (an object), a list of rows, or nothing yet (null / empty list). */
function renderResults(container: HTMLElement, results: Record<string, Json>): void {
  const entries = Object.entries(results);
  if (entries.length === 0) {
    container.replaceChildren(
      paragraph("This flow writes no rows: its result is the run's output."),
    );
    return;
  }
  container.replaceChildren(
    ...entries.map(([name, value]) => {
      const rows = Array.isArray(value) ? value : value === null ? [] : [value];
      const records = rows.filter(
        (row): row is { [key: string]: Json } =>
          typeof row === "object" && row !== null && !Array.isArray(row),
      );
      if (records.length === 0) {
        const empty = paragraph(`${name}: none yet`, "empty");
        empty.dataset.result = name;
        return empty;
      }
      const columns = [...new Set(records.flatMap((record) => Object.keys(record)))];
      const element = table(
        columns,
        records.map((record) => columns.map((column) => show(record[column] ?? null))),
        `${name} (${records.length})`,
      );
      element.dataset.result = name;
      return element;
    }),
  );
}
