import type { Flow, FlowField, FlowForm } from "@repo/contracts/flows";
import { attachFlowPages } from "@repo/ui/flow-page";
import {
  eventIdsAttributes,
  fieldAttributes,
  fieldErrorAttributes,
  fieldHelpAttributes,
  fieldId,
  formAttributes,
  formErrorAttributes,
  formHeadingId,
  formSectionAttributes,
  NO_RESULTS_YET,
  NO_RUNS_YET,
  pageAttributes,
  resultsAttributes,
  runsAttributes,
  submitAttributes,
} from "@repo/ui/markup";
import { useEffect } from "react";

/** A flow's page, in the markup of @repo/ui/markup (the browser module attaches to it). */
export function FlowPage({ flow }: { flow: Flow }) {
  useEffect(() => attachFlowPages(document), []);
  return (
    <main className="flow-page" {...pageAttributes(flow)}>
      <p>
        <a href="/">← All flows</a>
      </p>
      <h1>{flow.title}</h1>
      <p className="summary">{flow.summary}</p>
      <p>
        Functions:{" "}
        {flow.functions.map((fn, index) => (
          <span key={fn}>
            {index > 0 && ", "}
            <code>{fn}</code>
          </span>
        ))}
      </p>
      {flow.forms.length === 0 && (
        <p>This flow has no form: it runs on its schedule. The latest results are below.</p>
      )}
      {flow.forms.map((form) => (
        <section key={form.id} className="card" {...formSectionAttributes(form)}>
          <h2 id={formHeadingId(form)}>{form.submitLabel}</h2>
          <form className="flow-form" {...formAttributes(flow, form)}>
            {form.fields.map((field) => (
              <div key={field.name} className="field">
                <label htmlFor={fieldId(form, field)}>{field.label}</label>
                <FieldInput form={form} field={field} />
                {field.help && (
                  <p className="help" {...fieldHelpAttributes(form, field)}>
                    {field.help}
                  </p>
                )}
                <p className="field-error" {...fieldErrorAttributes(form, field)} hidden />
              </div>
            ))}
            <p className="form-error" {...formErrorAttributes(form)} hidden />
            <button className="button" {...submitAttributes(form)}>
              {form.submitLabel}
            </button>
            <p className="event-ids">
              Event ids: <output {...eventIdsAttributes(form)} />
            </p>
          </form>
        </section>
      ))}
      <section className="card" {...runsAttributes}>
        <h2 id="runs-title">Runs</h2>
        <div data-runs-body="">
          <p className="empty">{NO_RUNS_YET}</p>
        </div>
      </section>
      <section className="card" {...resultsAttributes}>
        <h2 id="results-title">Results</h2>
        <div data-results-body="">
          <p className="empty">{NO_RESULTS_YET}</p>
        </div>
      </section>
    </main>
  );
}

function FieldInput({ form, field }: { form: FlowForm; field: FlowField }) {
  const attributes = fieldAttributes(form, field);
  if (field.type === "select") {
    return (
      <select {...attributes} defaultValue={field.defaultValue}>
        {field.options?.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    );
  }
  if (field.type === "textarea") {
    return <textarea {...attributes} defaultValue={field.defaultValue} />;
  }
  return <input {...attributes} defaultValue={field.defaultValue} />;
}
