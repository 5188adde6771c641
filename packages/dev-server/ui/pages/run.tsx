import { useState } from "preact/hooks";
import { api, type UiRunDetail, type UiStep } from "../api";
import { ErrorBanner, JsonBlock, PageHeader, StatusBadge } from "../components";
import { formatDuration, formatTime } from "../format";
import { usePoll } from "../hooks";
import { Link, navigate } from "../router";

/** A step of the timeline: every attempt of one step id, in order. */
export interface StepGroup {
  key: string;
  name: string;
  kind: string;
  status: string;
  attempts: UiStep[];
  start: number;
  end: number | null;
  output: unknown;
  error: UiStep["error"];
}

const KINDS: Record<string, string> = {
  StepRun: "step.run",
  StepError: "step.run",
  StepFailed: "step.run",
  Sleep: "step.sleep",
  WaitForEvent: "step.waitForEvent",
  InvokeFunction: "step.invoke",
  FunctionError: "function",
};

/** The run's end markers: shown as the run's status, not as steps. */
const RUN_ENDS = new Set(["RunCompleted", "RunFailed", "RunCancelled", "RunSkipped"]);

export function groupSteps(entries: UiStep[], runEnded: boolean): StepGroup[] {
  const groups = new Map<string, UiStep[]>();
  for (const entry of entries) {
    if (RUN_ENDS.has(entry.op)) continue;
    const key = entry.step_id ?? (entry.op === "FunctionError" ? "function" : `seq-${entry.seq}`);
    const list = groups.get(key) ?? [];
    list.push(entry);
    groups.set(key, list);
  }
  return [...groups.entries()].map(([key, attempts]) => {
    const last = attempts[attempts.length - 1] as UiStep;
    const first = attempts[0] as UiStep;
    let status: string;
    if (last.ended_at === null) {
      status = runEnded
        ? "Cancelled"
        : last.op === "Sleep"
          ? "Sleeping"
          : last.op === "WaitForEvent"
            ? "Waiting"
            : "Running";
    } else if (last.op === "StepFailed" || (last.op === "FunctionError" && runEnded)) {
      status = "Failed";
    } else if (last.op === "StepError" || last.op === "FunctionError") {
      status = runEnded ? "Failed" : "Retrying";
    } else if (last.error) {
      status = "Failed";
    } else {
      status = "Completed";
    }
    return {
      key,
      name: last.name,
      kind: KINDS[last.op] ?? last.op,
      status,
      attempts,
      start: Date.parse(first.started_at),
      end: last.ended_at === null ? null : Date.parse(last.ended_at),
      output: last.output,
      error: last.error,
    };
  });
}

export function RunPage({ id }: { id: string }) {
  const detail = usePoll(() => api.run(id), `run:${id}`);
  const [busy, setBusy] = useState<"cancel" | "rerun" | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const run = detail.data?.run;
  const active = run?.status === "Running" || run?.status === "Queued";

  const act = async (what: "cancel" | "rerun") => {
    setBusy(what);
    setActionError(null);
    try {
      if (what === "cancel") {
        await api.cancel(id);
        detail.reload();
      } else {
        const answer = await api.rerun(id);
        navigate(`/runs/${answer.run_id}`);
      }
    } catch (error) {
      setActionError((error as Error).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section data-testid="run-page" data-run-id={id}>
      <PageHeader
        title={
          <>
            <span data-testid="run-function">{run?.function_name ?? "Run"}</span>{" "}
            {run ? <StatusBadge status={run.status} testId="run-status" /> : null}
          </>
        }
        subtitle={
          run ? (
            <span class="mono">
              {run.function_id} · run {id}
            </span>
          ) : (
            <span class="mono">run {id}</span>
          )
        }
      >
        <button
          type="button"
          class="button danger"
          data-testid="cancel-run"
          disabled={!active || busy !== null}
          onClick={() => void act("cancel")}
        >
          {busy === "cancel" ? "Cancelling…" : "Cancel"}
        </button>
        <button
          type="button"
          class="button primary"
          data-testid="rerun-run"
          disabled={!run || busy !== null}
          onClick={() => void act("rerun")}
        >
          {busy === "rerun" ? "Starting…" : "Rerun"}
        </button>
      </PageHeader>
      <ErrorBanner message={detail.error ?? actionError} />
      {detail.data ? <RunBody detail={detail.data} /> : null}
    </section>
  );
}

function RunBody({ detail }: { detail: UiRunDetail }) {
  const { run, events, steps, jobs } = detail;
  const ended = run.ended_at !== null;
  const groups = groupSteps(steps, ended);
  const runStart = Date.parse(run.started_at);
  const runEnd = run.ended_at ? Date.parse(run.ended_at) : Date.parse(detail.now);
  const span = Math.max(runEnd - runStart, 1);
  const retry = jobs.find((job) => job.kind === "call" && job.attempt > 0);

  return (
    <>
      <dl class="facts panel">
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.started_at)}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>{formatTime(run.ended_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-testid="run-duration">
            {ended
              ? formatDuration(run.duration_ms)
              : `${formatDuration(runEnd - runStart)} so far`}
          </dd>
        </div>
        <div>
          <dt>App</dt>
          <dd>{run.app_id ?? "–"}</dd>
        </div>
      </dl>
      {retry && !ended ? (
        <div class="hint hint-warn" data-testid="retry-pending">
          <strong>Retrying:</strong> attempt {retry.attempt + 1} is due at{" "}
          {formatTime(retry.due_at)}. Each failed attempt's error is in the timeline below.
        </div>
      ) : null}
      <div class="panel">
        <h2>Timeline</h2>
        {groups.length === 0 ? (
          <p class="muted" data-testid="timeline-empty">
            {ended ? "The run ended without steps." : "Waiting for the first call to the app…"}
          </p>
        ) : null}
        <ol class="timeline" data-testid="timeline">
          <li class="timeline-scale">
            <span>0</span>
            <span>{formatDuration(span / 2)}</span>
            <span>{formatDuration(span)}</span>
          </li>
          {groups.map((group) => (
            <TimelineStep
              key={group.key}
              group={group}
              runStart={runStart}
              span={span}
              now={runEnd}
            />
          ))}
        </ol>
      </div>
      <div class="grid-2">
        <div class="panel">
          <h2>{run.status === "Failed" ? "Error" : "Output"}</h2>
          {ended ? (
            <JsonBlock
              testId="run-output"
              value={run.status === "Failed" ? run.error : run.output}
            />
          ) : (
            <p class="muted">The run has not ended yet.</p>
          )}
        </div>
        <div class="panel">
          <h2>Trigger {events.length > 1 ? `(a batch of ${events.length})` : "event"}</h2>
          {events.map((event) => (
            <div key={event.internal_id} data-testid="trigger-event">
              <Link href={`/events/${event.internal_id}`} class="strong">
                {event.name}
              </Link>{" "}
              <span class="mono muted small">{event.internal_id}</span>
              <JsonBlock value={event.data} />
            </div>
          ))}
        </div>
      </div>
    </>
  );
}

/** A bar's place on the run's time axis, in percent; a zero-length bar stays visible. */
function bar(from: number, to: number, runStart: number, span: number) {
  const left = Math.min(Math.max(((from - runStart) / span) * 100, 0), 99.4);
  const width = Math.min(Math.max(((to - from) / span) * 100, 0.6), 100 - left);
  return { left: `${left}%`, width: `${width}%` };
}

function TimelineStep({
  group,
  runStart,
  span,
  now,
}: {
  group: StepGroup;
  runStart: number;
  span: number;
  now: number;
}) {
  const [open, setOpen] = useState(false);
  const end = group.end ?? now;
  const failedAttempts = group.attempts.filter((attempt) => attempt.error);
  return (
    <li
      class={`timeline-step status-${group.status.toLowerCase()}`}
      data-testid="timeline-step"
      data-step-name={group.name}
      data-kind={group.kind}
      data-status={group.status}
      data-attempts={group.attempts.length}
    >
      <button type="button" class="step-head" onClick={() => setOpen(!open)}>
        <span class="step-label">
          <span class="step-name" data-testid="step-name">
            {group.name}
          </span>
          <span class="step-kind">{group.kind}</span>
        </span>
        <span class="step-bar-track">
          {group.attempts.length > 1 ? (
            <span class="step-span" style={bar(group.start, end, runStart, span)} />
          ) : null}
          {group.attempts.map((attempt) => {
            const from = Date.parse(attempt.started_at);
            const to = attempt.ended_at === null ? now : Date.parse(attempt.ended_at);
            return (
              <span
                key={attempt.seq}
                class={`step-bar${attempt.error ? " attempt-failed" : ""}`}
                title={`attempt ${attempt.attempt + 1}: ${formatDuration(to - from)}`}
                style={bar(from, to, runStart, span)}
              />
            );
          })}
        </span>
        <span class="step-meta">
          <StatusBadge status={group.status} testId="step-status" />
          <span class="small muted">
            {group.attempts.length} attempt{group.attempts.length === 1 ? "" : "s"} ·{" "}
            {group.end === null ? "…" : formatDuration(end - group.start)}
          </span>
        </span>
      </button>
      <div class={`step-detail${open || failedAttempts.length > 0 ? " open" : ""}`}>
        <div class="small muted">
          Started {formatTime(new Date(group.start).toISOString())} (+
          {formatDuration(group.start - runStart)})
        </div>
        {failedAttempts.length > 0 ? (
          <ol class="attempts" data-testid="step-attempts">
            {group.attempts.map((attempt, index) => (
              <li
                key={attempt.seq}
                data-testid="step-attempt"
                data-failed={String(Boolean(attempt.error))}
              >
                <b>Attempt {index + 1}</b>{" "}
                <span class="muted small">{formatTime(attempt.started_at)}</span>{" "}
                {attempt.error ? (
                  <span class="invalid-text" data-testid="attempt-error">
                    {attempt.error.name ? `${attempt.error.name}: ` : ""}
                    {attempt.error.message ?? JSON.stringify(attempt.error)}
                  </span>
                ) : (
                  <span class="ok-text">ok</span>
                )}
              </li>
            ))}
          </ol>
        ) : null}
        {open && group.output !== null && group.output !== undefined ? (
          <JsonBlock value={group.output} />
        ) : null}
        {open && group.error?.stack ? <pre class="json">{group.error.stack}</pre> : null}
      </div>
    </li>
  );
}
