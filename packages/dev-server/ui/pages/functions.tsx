import { useState } from "preact/hooks";
import { api, type FunctionJson } from "../api";
import { Empty, ErrorBanner, JsonDialog, PageHeader } from "../components";
import { preview } from "../format";
import { usePoll } from "../hooks";
import { isObject } from "../json";
import { Link, navigate } from "../router";

/** Options shown with their names as the SDK's createFunction spells them. */
const OPTIONS = [
  "concurrency",
  "rateLimit",
  "throttle",
  "debounce",
  "batchEvents",
  "idempotency",
  "priority",
  "singleton",
  "timeouts",
  "cancel",
] as const;

export function functionOptions(fn: FunctionJson): { name: string; value: string }[] {
  const options: { name: string; value: string }[] = [];
  const retries = fn.config.steps?.step?.retries?.attempts;
  if (retries !== undefined) options.push({ name: "retries", value: String(retries) });
  for (const name of OPTIONS) {
    const value = fn.config[name];
    if (value === undefined || value === null) continue;
    options.push({ name, value: typeof value === "string" ? value : preview(value, 60) });
  }
  return options;
}

export function validateInvoke(value: unknown): string | null {
  if (!isObject(value)) return 'The payload must be a JSON object, like {"data": {}}';
  if (value.data !== undefined && !isObject(value.data))
    return '"data" must be an object (the event data the function receives)';
  if (value.user !== undefined && !isObject(value.user)) return '"user" must be an object';
  const unknown = Object.keys(value).filter((key) => key !== "data" && key !== "user");
  if (unknown.length > 0)
    return `Unknown field ${unknown.map((key) => `"${key}"`).join(", ")}: give "data" (and "user")`;
  return null;
}

export function FunctionsPage() {
  const functions = usePoll(api.functions, "functions");
  const [invoking, setInvoking] = useState<FunctionJson | null>(null);
  const list = [...(functions.data ?? [])].sort(
    (a, b) => a.app_id.localeCompare(b.app_id) || a.name.localeCompare(b.name),
  );

  return (
    <section data-testid="functions-page">
      <PageHeader
        title="Functions"
        subtitle="Every registered function, its triggers and options. Invoke one to start a run."
      />
      <ErrorBanner message={functions.error} />
      {functions.data && list.length === 0 ? (
        <Empty>No functions: sync an app first (Apps).</Empty>
      ) : null}
      <table class="table">
        <thead>
          <tr>
            <th>Function</th>
            <th>App</th>
            <th>Triggers</th>
            <th>Options</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((fn) => (
            <tr key={fn.slug} data-testid="function-row" data-function-id={fn.slug}>
              <td>
                <div class="strong">{fn.name}</div>
                <Link
                  class="mono muted small"
                  href={`/runs?function=${encodeURIComponent(fn.slug)}`}
                >
                  {fn.slug}
                </Link>
              </td>
              <td>{fn.app_id}</td>
              <td>
                <div class="chips">
                  {fn.config.triggers.map((trigger) =>
                    trigger.cron ? (
                      <span key={`cron:${trigger.cron}`} class="chip chip-cron" title="cron">
                        cron {trigger.cron}
                      </span>
                    ) : (
                      <Link
                        key={`event:${trigger.event}`}
                        class="chip chip-event"
                        href={`/events?name=${encodeURIComponent(trigger.event ?? "")}`}
                        title={trigger.expression ? `if ${trigger.expression}` : "event"}
                      >
                        {trigger.event}
                        {trigger.expression ? " (if …)" : ""}
                      </Link>
                    ),
                  )}
                </div>
              </td>
              <td>
                <div class="chips">
                  {functionOptions(fn).map((option) => (
                    <span key={option.name} class="chip" title={option.value}>
                      <b>{option.name}</b> {option.value}
                    </span>
                  ))}
                </div>
              </td>
              <td class="right">
                <button
                  type="button"
                  class="button primary small"
                  data-testid="invoke"
                  onClick={() => setInvoking(fn)}
                >
                  Invoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {invoking ? (
        <JsonDialog
          testId="invoke-dialog"
          title={`Invoke ${invoking.name}`}
          description={
            <>
              Starts a run of <code>{invoking.slug}</code> now, whatever its triggers, with this
              payload's <code>data</code> as the event data.
            </>
          }
          initial={'{\n  "data": {}\n}'}
          submitLabel="Invoke"
          validate={validateInvoke}
          onClose={() => setInvoking(null)}
          onSubmit={async (payload) => {
            const answer = await api.invoke(invoking.slug, payload);
            if (!answer.run_id) throw new Error("The server started no run for this invocation");
            setInvoking(null);
            navigate(`/runs/${answer.run_id}`);
          }}
        />
      ) : null}
    </section>
  );
}
