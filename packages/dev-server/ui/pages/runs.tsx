import { api, type RunStatus } from "../api";
import { Empty, ErrorBanner, PageHeader, StatusBadge } from "../components";
import { formatDuration, formatTime } from "../format";
import { usePoll } from "../hooks";
import { Link, navigate, setSearch, useLocation } from "../router";

const STATUSES: RunStatus[] = ["Queued", "Running", "Completed", "Failed", "Cancelled", "Skipped"];

export function RunsPage() {
  const { search } = useLocation();
  const status = search.get("status") ?? "";
  const fn = search.get("function") ?? "";
  const runs = usePoll(() => api.runs(status, fn), `runs:${status}:${fn}`);
  const functions = usePoll(api.functions, "functions");
  const slugs = [...(functions.data ?? []).map((candidate) => candidate.slug)].sort();
  if (fn && !slugs.includes(fn)) slugs.unshift(fn);

  return (
    <section data-testid="runs-page">
      <PageHeader title="Runs" subtitle="Every run, newest first; live." />
      <div class="filters">
        <select
          class="input"
          data-testid="runs-filter-status"
          value={status}
          onChange={(event) => setSearch({ status: (event.target as HTMLSelectElement).value })}
        >
          <option value="">All statuses</option>
          {STATUSES.map((candidate) => (
            <option key={candidate} value={candidate}>
              {candidate}
            </option>
          ))}
        </select>
        <select
          class="input"
          data-testid="runs-filter-function"
          value={fn}
          onChange={(event) => setSearch({ function: (event.target as HTMLSelectElement).value })}
        >
          <option value="">All functions</option>
          {slugs.map((slug) => (
            <option key={slug} value={slug}>
              {slug}
            </option>
          ))}
        </select>
      </div>
      <ErrorBanner message={runs.error} />
      {runs.data && runs.data.length === 0 ? <Empty>No runs match.</Empty> : null}
      <table class="table">
        <thead>
          <tr>
            <th>Status</th>
            <th>Function</th>
            <th>Trigger</th>
            <th>Started</th>
            <th class="right">Duration</th>
          </tr>
        </thead>
        <tbody>
          {(runs.data ?? []).map((run) => (
            <tr
              key={run.run_id}
              class="clickable"
              data-testid="run-row"
              data-run-id={run.run_id}
              data-event-id={run.event_id}
              data-function-id={run.function_id}
              data-status={run.status}
              onClick={() => navigate(`/runs/${run.run_id}`)}
            >
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>
                <Link class="strong" href={`/runs/${run.run_id}`}>
                  {run.function_name}
                </Link>
                <div class="mono muted small">{run.function_id}</div>
              </td>
              <td class="mono small">{run.cron ? `cron ${run.cron}` : (run.event_name ?? "")}</td>
              <td class="nowrap">{formatTime(run.started_at)}</td>
              <td class="right nowrap">
                {run.duration_ms === null ? (
                  <span class="muted">running</span>
                ) : (
                  formatDuration(run.duration_ms)
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
