import { useState } from "preact/hooks";
import { type AppListJson, api, type SyncOutcomeJson } from "../api";
import { Empty, ErrorBanner, PageHeader } from "../components";
import { formatTime } from "../format";
import { usePoll } from "../hooks";

export function AppsPage() {
  const apps = usePoll(api.apps, "apps");
  const [syncing, setSyncing] = useState<string | null>(null);
  const [results, setResults] = useState<Map<string, SyncOutcomeJson>>(new Map());

  const resync = async (url?: string) => {
    setSyncing(url ?? "*");
    try {
      const answers = await api.sync(url);
      setResults((before) => {
        const next = new Map(before);
        for (const answer of answers) next.set(answer.url, answer);
        return next;
      });
    } catch (error) {
      setResults(new Map([[url ?? "*", { url: url ?? "*", ok: false, error: String(error) }]]));
    } finally {
      setSyncing(null);
      apps.reload();
    }
  };

  return (
    <section data-testid="apps-page">
      <PageHeader title="Apps" subtitle="The apps this server syncs functions from.">
        <button
          type="button"
          class="button secondary"
          data-testid="resync-all"
          disabled={syncing !== null}
          onClick={() => void resync()}
        >
          {syncing === "*" ? "Syncing…" : "Re-sync all"}
        </button>
      </PageHeader>
      <ErrorBanner message={apps.error} />
      {apps.data && apps.data.length === 0 ? (
        <Empty>
          No app synced yet. Start the dev server with <code>-u http://host:port/api/inngest</code>,
          or start an app with <code>INNGEST_DEV</code> pointing here.
        </Empty>
      ) : null}
      <div class="cards">
        {(apps.data ?? []).map((app) => (
          <AppCard
            key={app.url}
            app={app}
            busy={syncing === app.url}
            result={results.get(app.url)}
            onResync={() => void resync(app.url)}
          />
        ))}
      </div>
    </section>
  );
}

function AppCard({
  app,
  busy,
  result,
  onResync,
}: {
  app: AppListJson;
  busy: boolean;
  result: SyncOutcomeJson | undefined;
  onResync: () => void;
}) {
  return (
    <article
      class={`card app-card${app.error ? " failing" : ""}`}
      data-testid="app-row"
      data-app-url={app.url}
      data-app-id={app.app_id ?? ""}
    >
      <div class="card-head">
        <div>
          <h2>{app.app_id ?? "(not synced yet)"}</h2>
          <a class="mono muted" href={app.url} target="_blank" rel="noreferrer">
            {app.url}
          </a>
        </div>
        <button
          type="button"
          class="button secondary"
          data-testid="resync-app"
          disabled={busy}
          onClick={onResync}
        >
          {busy ? "Syncing…" : "Re-sync"}
        </button>
      </div>
      <dl class="facts">
        <div>
          <dt>Framework</dt>
          <dd>{app.framework ?? "–"}</dd>
        </div>
        <div>
          <dt>SDK</dt>
          <dd>{app.sdk ?? "–"}</dd>
        </div>
        <div>
          <dt>Functions</dt>
          <dd data-testid="app-function-count">{app.function_count}</dd>
        </div>
        <div>
          <dt>Last sync</dt>
          <dd>{formatTime(app.synced_at)}</dd>
        </div>
      </dl>
      {app.error ? (
        <div class="hint hint-error" data-testid="app-error">
          <strong>The last sync failed.</strong> What the app answered, or why it could not be
          reached:
          <pre class="json">{app.error}</pre>
          <p class="muted">
            Is the app running, at this URL, with the functions served at its Inngest endpoint (e.g.{" "}
            <code>/api/inngest</code>)? Fix it and press Re-sync.
          </p>
        </div>
      ) : app.synced_since_start ? (
        <p class="ok-text" data-testid="app-ok">
          Synced
        </p>
      ) : (
        <div class="hint" data-testid="app-stale">
          <strong>Not synced since the dev server started.</strong> Known from an earlier session:
          its events start no runs, and its unfinished runs wait, until it syncs again (start the
          app, or press Re-sync).
        </div>
      )}
      {result && !result.ok && result.error !== app.error ? (
        <ErrorBanner message={result.error ?? "sync failed"} testId="resync-error" />
      ) : null}
    </article>
  );
}
