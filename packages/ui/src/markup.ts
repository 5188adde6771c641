import { type Flow, type FlowField, type FlowForm, testIds } from "@repo/contracts/flows";

/**
 * The markup contract between the pages the frameworks render and the browser module that brings
 * them to life (`flow-page.ts`). The whole page is built once, here, as a tree of elements
 * (`flowPageMarkup`): Next and Remix render it with the React component of `./react`, Astro as
 * HTML (`renderMarkup`), and the browser module's tests run on both renderings, so the apps cannot
 * drift apart while the tests stay green. The attribute helpers below give every element its ids,
 * `data-*` hooks, `data-testid`s and ARIA links; classes are styled by `styles.css`.
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

/** An element of the page: HTML attribute names (`class`, `for`), children in order. */
export interface MarkupElement {
  tag: string;
  attributes: Record<string, string | number | boolean | undefined>;
  children: MarkupNode[];
}

/** Text, an element, or nothing (left out, as `false` is in JSX). */
export type MarkupNode = string | MarkupElement | null;

const element = (
  tag: string,
  attributes: MarkupElement["attributes"] = {},
  ...children: MarkupNode[]
): MarkupElement => ({ tag, attributes, children });

/**
 * A field's input. Its value is the `value` attribute of the tree whatever the element; each
 * renderer puts it where its framework does (`defaultValue` in React, the text of a textarea and
 * the `selected` option in HTML).
 */
function fieldMarkup(form: FlowForm, field: FlowField): MarkupElement {
  const attributes = { ...fieldAttributes(form, field), value: field.defaultValue };
  if (field.type === "select") {
    return element(
      "select",
      attributes,
      ...(field.options ?? []).map((option) => element("option", { value: option }, option)),
    );
  }
  return element(field.type === "textarea" ? "textarea" : "input", attributes);
}

/** A flow's page, as every app renders it (see the page shape above). */
export function flowPageMarkup(flow: Flow): MarkupElement {
  return element(
    "main",
    { class: "flow-page", ...pageAttributes(flow) },
    element("p", {}, element("a", { href: "/" }, "← All flows")),
    element("h1", {}, flow.title),
    element("p", { class: "summary" }, flow.summary),
    element(
      "p",
      {},
      "Functions: ",
      ...flow.functions.flatMap((fn, index) => [index > 0 ? ", " : null, element("code", {}, fn)]),
    ),
    flow.forms.length === 0
      ? element(
          "p",
          {},
          "This flow has no form: it runs on its schedule. The latest results are below.",
        )
      : null,
    ...flow.forms.map((form) =>
      element(
        "section",
        { class: "card", ...formSectionAttributes(form) },
        element("h2", { id: formHeadingId(form) }, form.submitLabel),
        element(
          "form",
          { class: "flow-form", ...formAttributes(flow, form) },
          ...form.fields.map((field) =>
            element(
              "div",
              { class: "field" },
              element("label", { for: fieldId(form, field) }, field.label),
              fieldMarkup(form, field),
              field.help
                ? element("p", { class: "help", ...fieldHelpAttributes(form, field) }, field.help)
                : null,
              element("p", {
                class: "field-error",
                ...fieldErrorAttributes(form, field),
                hidden: true,
              }),
            ),
          ),
          element("p", { class: "form-error", ...formErrorAttributes(form), hidden: true }),
          element("button", { class: "button", ...submitAttributes(form) }, form.submitLabel),
          element(
            "p",
            { class: "event-ids" },
            "Event ids: ",
            element("output", eventIdsAttributes(form)),
          ),
        ),
      ),
    ),
    element(
      "section",
      { class: "card", ...runsAttributes },
      element("h2", { id: "runs-title" }, "Runs"),
      element("div", { "data-runs-body": "" }, element("p", { class: "empty" }, NO_RUNS_YET)),
    ),
    element(
      "section",
      { class: "card", ...resultsAttributes },
      element("h2", { id: "results-title" }, "Results"),
      element("div", { "data-results-body": "" }, element("p", { class: "empty" }, NO_RESULTS_YET)),
    ),
  );
}

/** The list of flows on every app's home page. */
export function flowListMarkup(flows: readonly Flow[]): MarkupElement {
  return element(
    "ul",
    { class: "flow-list" },
    ...flows.map((flow) =>
      element(
        "li",
        {},
        element("a", flowLinkAttributes(flow), flow.title),
        element("p", {}, flow.summary),
      ),
    ),
  );
}

const VOID_ELEMENTS = new Set(["input", "br", "hr", "img", "meta", "link"]);

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The tree as HTML (what Astro renders, with `set:html`). */
export function renderMarkup(node: MarkupNode): string {
  if (node === null) return "";
  if (typeof node === "string") return escapeHtml(node);
  const { tag } = node;
  const { value, ...attributes } = node.attributes;
  let children = node.children;
  if (tag === "textarea") children = [value === undefined ? "" : String(value)];
  else if (tag === "select") {
    children = children.map((child) =>
      typeof child === "object" && child?.tag === "option" && child.attributes.value === value
        ? { ...child, attributes: { ...child.attributes, selected: true } }
        : child,
    );
  } else if (value !== undefined) attributes.value = value;
  const rendered = Object.entries(attributes)
    .filter(([, attribute]) => attribute !== undefined && attribute !== false)
    .map(([name, attribute]) =>
      attribute === true
        ? ` ${name.toLowerCase()}`
        : ` ${name.toLowerCase()}="${escapeHtml(String(attribute))}"`,
    )
    .join("");
  if (VOID_ELEMENTS.has(tag)) return `<${tag}${rendered}>`;
  return `<${tag}${rendered}>${children.map(renderMarkup).join("")}</${tag}>`;
}
