import { type Flow, type FlowField, type FlowForm, testIds } from "@repo/contracts/flows";

/**
 * The markup contract between the pages each framework renders (JSX in Next and Remix, .astro in
 * Astro) and the browser module that brings them to life (`flow-page.ts`). Each helper returns
 * plain HTML attributes, spelled the same in JSX and in Astro, so the three apps put the same
 * ids, `data-*` hooks, `data-testid`s and ARIA links on the same elements. Class names differ in
 * spelling between JSX (`className`) and Astro (`class`), so the pages write them: they are the
 * ones in the shape below, styled by `styles.css`.
 *
 * Page shape (every element named here carries the attributes of the helper next to it):
 *
 * <main class="flow-page" {...pageAttributes(flow)}>
 *   <h1>{flow.title}</h1> <p>{flow.summary}</p>
 *   per form: <section class="card" {...formSectionAttributes(form)}>
 *     <h2 id={formHeadingId(form)}>{form.submitLabel}</h2>
 *     <form class="flow-form" {...formAttributes(flow, form)}>
 *       per field: <div class="field">
 *         <label for={fieldId(form, field)}>{field.label}</label>
 *         <input|select|textarea {...fieldAttributes(form, field)} /> (value: field.defaultValue)
 *         {field.help && <p class="help" {...fieldHelpAttributes(form, field)}>{field.help}</p>}
 *         <p class="field-error" {...fieldErrorAttributes(form, field)} hidden></p>
 *       </div>
 *       <p class="form-error" {...formErrorAttributes(form)} hidden></p>
 *       <button class="button" {...submitAttributes(form)}>{form.submitLabel}</button>
 *       <p class="event-ids">Event ids: <output {...eventIdsAttributes(form)}></output></p>
 *     </form>
 *   </section>
 *   <section class="card" {...runsAttributes}><h2 id="runs-title">Runs</h2> <div data-runs-body>…</div></section>
 *   <section class="card" {...resultsAttributes}><h2 id="results-title">Results</h2> <div data-results-body>…</div></section>
 * </main>
 *
 * While the browser module polls, `main` carries `data-polling="true"` (and `aria-busy` during a
 * request); it turns `"false"` once every run has ended. Run rows carry
 * `data-testid="run-status-<function id>"` and `data-status` on their status cell; result tables
 * and empty results carry `data-result="<name>"`.
 */

export const fieldId = (form: FlowForm, field: FlowField) => `${form.id}-${field.name}`;
const fieldErrorId = (form: FlowForm, field: FlowField) => `${fieldId(form, field)}-error`;
const fieldHelpId = (form: FlowForm, field: FlowField) => `${fieldId(form, field)}-help`;
export const formHeadingId = (form: FlowForm) => `form-${form.id}-title`;

export function pageAttributes(flow: Flow) {
  return {
    "data-flow-page": "",
    "data-flow": flow.id,
    "data-results-key": flow.resultsKey ?? "",
  };
}

export function formSectionAttributes(form: FlowForm) {
  return { "aria-labelledby": formHeadingId(form) };
}

export function formAttributes(flow: Flow, form: FlowForm) {
  return {
    action: `/api/flows/${flow.id}/${form.id}`,
    method: "post",
    // The server's schema is the one validator: its messages are shown next to the fields.
    noValidate: true,
    "data-flow-form": form.id,
    "data-testid": testIds.form(form.id),
    "aria-labelledby": formHeadingId(form),
  };
}

/** The input's attributes (its value is set the framework's way: `defaultValue`, `value`). */
export function fieldAttributes(form: FlowForm, field: FlowField) {
  const describedBy = [field.help ? fieldHelpId(form, field) : null, fieldErrorId(form, field)]
    .filter(Boolean)
    .join(" ");
  return {
    id: fieldId(form, field),
    name: field.name,
    required: field.required,
    "aria-describedby": describedBy,
    "data-testid": testIds.field(form.id, field.name),
    ...(field.type === "number"
      ? {
          type: "number" as const,
          inputMode: "numeric" as const,
          min: field.min,
          max: field.max,
          step: 1,
        }
      : field.type === "text" || field.type === "email"
        ? { type: field.type }
        : {}),
    ...(field.type === "textarea" ? { rows: 4, spellCheck: "false" as const } : {}),
  };
}

export function fieldHelpAttributes(form: FlowForm, field: FlowField) {
  return { id: fieldHelpId(form, field) };
}

export function fieldErrorAttributes(form: FlowForm, field: FlowField) {
  return {
    id: fieldErrorId(form, field),
    "data-field-error": field.name,
    "data-testid": testIds.fieldError(form.id, field.name),
  };
}

export function formErrorAttributes(form: FlowForm) {
  return {
    role: "alert" as const,
    "data-form-error": "",
    "data-testid": testIds.formError(form.id),
  };
}

export function submitAttributes(form: FlowForm) {
  return { type: "submit" as const, "data-testid": testIds.submit(form.id) };
}

export function eventIdsAttributes(form: FlowForm) {
  return {
    "data-event-ids": "",
    "data-testid": testIds.eventIds(form.id),
    "aria-live": "polite" as const,
  };
}

export const runsAttributes = {
  "data-runs": "",
  "data-testid": testIds.runs,
  "aria-labelledby": "runs-title",
} as const;

export const resultsAttributes = {
  "data-results": "",
  "data-testid": testIds.results,
  "aria-labelledby": "results-title",
} as const;

export function flowLinkAttributes(flow: Flow) {
  return { href: flow.route, "data-testid": testIds.flowLink(flow.id) };
}

/** What the runs panel says before the first event is sent (rendered by the server). */
export const NO_RUNS_YET = "No runs yet: send an event.";
export const NO_RESULTS_YET = "Nothing yet: the rows the functions write appear here.";
