import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { RunStatus } from "./api";
import { isObject, parseJson } from "./json";

export function StatusBadge({ status, testId }: { status: RunStatus | string; testId?: string }) {
  return (
    <span
      class={`badge badge-${status.toLowerCase()}`}
      data-testid={testId ?? "status"}
      data-status={status}
    >
      {status}
    </span>
  );
}

export function JsonBlock({ value, testId }: { value: unknown; testId?: string }) {
  return (
    <pre class="json" data-testid={testId}>
      {JSON.stringify(value, null, 2) ?? "undefined"}
    </pre>
  );
}

export function PageHeader({
  title,
  subtitle,
  children,
}: {
  title: ComponentChildren;
  subtitle?: ComponentChildren;
  children?: ComponentChildren;
}) {
  return (
    <header class="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p class="subtitle">{subtitle}</p> : null}
      </div>
      <div class="actions">{children}</div>
    </header>
  );
}

export function ErrorBanner({ message, testId }: { message: string | null; testId?: string }) {
  if (!message) return null;
  return (
    <div class="error-banner" role="alert" data-testid={testId ?? "error-banner"}>
      {message}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

/**
 * A JSON editor in a dialog: the text is checked on every change (a parse error says where), then
 * by `validate` (the shape the endpoint wants), and only sent when both pass. The server's answer,
 * when it refuses, is shown in the same place.
 */
export function JsonDialog({
  title,
  description,
  initial,
  submitLabel,
  validate,
  onSubmit,
  onClose,
  testId,
}: {
  title: string;
  description?: ComponentChildren;
  initial: string;
  submitLabel: string;
  validate: (value: unknown) => string | null;
  onSubmit: (value: Record<string, unknown>) => Promise<void>;
  onClose: () => void;
  testId: string;
}) {
  const [text, setText] = useState(initial);
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    area.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const parsed = parseJson(text);
  const problem = parsed.ok
    ? validate(parsed.value)
    : `Invalid JSON at line ${parsed.problem.line}, column ${parsed.problem.column}: ${parsed.problem.message}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    setTouched(true);
    if (problem || !parsed.ok || !isObject(parsed.value)) return;
    setBusy(true);
    setServerError(null);
    try {
      await onSubmit(parsed.value);
    } catch (error) {
      setServerError((error as Error).message);
      setBusy(false);
    }
  };

  const shown = serverError ?? (touched || text !== initial ? problem : null);
  return (
    <div class="dialog-backdrop">
      <form class="dialog" data-testid={testId} onSubmit={submit}>
        <h2>{title}</h2>
        {description ? <p class="subtitle">{description}</p> : null}
        <textarea
          ref={area}
          class={`editor${shown ? " invalid" : ""}`}
          data-testid={`${testId}-editor`}
          spellcheck={false}
          value={text}
          rows={12}
          onInput={(event) => {
            setText((event.target as HTMLTextAreaElement).value);
            setServerError(null);
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) void submit(event);
          }}
        />
        <div class="editor-status" data-testid={`${testId}-error`} data-valid={String(!shown)}>
          {shown ? (
            <span class="invalid-text">{shown}</span>
          ) : (
            <span class="ok-text">Valid JSON</span>
          )}
        </div>
        <div class="dialog-actions">
          <button type="button" class="button secondary" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            class="button primary"
            data-testid={`${testId}-submit`}
            disabled={busy || (touched && problem !== null)}
          >
            {busy ? "Sending…" : submitLabel}
          </button>
        </div>
      </form>
    </div>
  );
}
