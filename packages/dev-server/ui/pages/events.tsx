import { useState } from "preact/hooks";
import { api, type UiEventDetail } from "../api";
import { Empty, ErrorBanner, JsonBlock, JsonDialog, PageHeader, StatusBadge } from "../components";
import { formatDuration, formatTime, preview } from "../format";
import { usePoll } from "../hooks";
import { isObject } from "../json";
import { Link, navigate, setSearch, useLocation } from "../router";

export function validateEvent(value: unknown): string | null {
  if (!isObject(value))
    return 'The event must be a JSON object, like {"name": "app/x", "data": {}}';
  if (typeof value.name !== "string" || value.name.trim() === "")
    return '"name" must be a non-empty string (the event name functions trigger on)';
  if (value.name.startsWith("inngest/"))
    return 'The "inngest/" prefix is reserved for the server\'s own events';
  if (value.data !== undefined && !isObject(value.data)) return '"data" must be an object';
  if (value.user !== undefined && !isObject(value.user)) return '"user" must be an object';
  return null;
}

export function SendEventDialog({ onClose, initial }: { onClose: () => void; initial?: string }) {
  return (
    <JsonDialog
      testId="send-event-dialog"
      title="Send event"
      description="Sent to this server as an app would send it; it starts every function it triggers."
      initial={initial ?? '{\n  "name": "test/hello.world",\n  "data": {}\n}'}
      submitLabel="Send event"
      validate={validateEvent}
      onClose={onClose}
      onSubmit={async (event) => {
        const answer = await api.sendEvent(event);
        onClose();
        navigate(`/events/${answer.event_id}`);
      }}
    />
  );
}

export function EventsPage() {
  const { search } = useLocation();
  const name = search.get("name") ?? "";
  const internal = search.get("internal") === "1";
  const events = usePoll(() => api.events(name, internal), `events:${name}:${internal}`);
  const [sending, setSending] = useState(false);

  return (
    <section data-testid="events-page">
      <PageHeader title="Events" subtitle="The event stream, newest first.">
        <button
          type="button"
          class="button primary"
          data-testid="send-event"
          onClick={() => setSending(true)}
        >
          Send event
        </button>
      </PageHeader>
      <div class="filters">
        <input
          type="search"
          class="input"
          placeholder="Filter by name…"
          data-testid="events-filter"
          value={name}
          onInput={(event) => setSearch({ name: (event.target as HTMLInputElement).value })}
        />
        <label class="check">
          <input
            type="checkbox"
            checked={internal}
            onChange={(event) =>
              setSearch({ internal: (event.target as HTMLInputElement).checked ? "1" : undefined })
            }
          />
          Show the server's own events (inngest/…)
        </label>
      </div>
      <ErrorBanner message={events.error} />
      {events.data && events.data.length === 0 ? (
        <Empty>{name ? `No event whose name contains "${name}".` : "No events yet."}</Empty>
      ) : null}
      <table class="table">
        <thead>
          <tr>
            <th>Event</th>
            <th>Data</th>
            <th>Received</th>
            <th class="right">Runs</th>
          </tr>
        </thead>
        <tbody>
          {(events.data ?? []).map((event) => (
            <tr
              key={event.internal_id}
              class="clickable"
              data-testid="event-row"
              data-event-id={event.internal_id}
              data-event-name={event.name}
              onClick={() => navigate(`/events/${event.internal_id}`)}
            >
              <td>
                <Link class="strong" href={`/events/${event.internal_id}`}>
                  {event.name}
                </Link>
                <div class="mono muted small">{event.internal_id}</div>
              </td>
              <td class="mono small muted">{preview(event.data, 70)}</td>
              <td class="nowrap">{formatTime(event.received_at)}</td>
              <td class="right">
                {event.run_count === 0 ? (
                  <span class="badge badge-none" data-testid="event-run-count" data-count="0">
                    no function
                  </span>
                ) : (
                  <span class="count" data-testid="event-run-count" data-count={event.run_count}>
                    {event.run_count}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sending ? <SendEventDialog onClose={() => setSending(false)} /> : null}
    </section>
  );
}

export function EventPage({ id }: { id: string }) {
  const detail = usePoll(() => api.event(id), `event:${id}`);
  const [replaying, setReplaying] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const event = detail.data?.event;
  const internal = event?.name.startsWith("inngest/") ?? false;

  const replay = async () => {
    setReplaying(true);
    setActionError(null);
    try {
      const answer = await api.replay(id);
      navigate(`/events/${answer.event_id}`);
    } catch (error) {
      setActionError((error as Error).message);
    } finally {
      setReplaying(false);
    }
  };

  return (
    <section data-testid="event-page" data-event-id={id}>
      <PageHeader
        title={<span data-testid="event-name">{event?.name ?? "Event"}</span>}
        subtitle={
          <span class="mono">
            {id}
            {event ? ` · received ${formatTime(event.received_at)}` : ""}
          </span>
        }
      >
        <button
          type="button"
          class="button secondary"
          data-testid="edit-and-send"
          disabled={!event || internal}
          onClick={() => setEditing(true)}
        >
          Edit and send
        </button>
        <button
          type="button"
          class="button primary"
          data-testid="replay-event"
          disabled={!event || internal || replaying}
          title={internal ? "The server's own events cannot be replayed" : "Send it again"}
          onClick={() => void replay()}
        >
          {replaying ? "Replaying…" : "Replay"}
        </button>
      </PageHeader>
      <ErrorBanner message={detail.error ?? actionError} />
      {detail.data ? <EventBody detail={detail.data} /> : null}
      {editing && event ? (
        <SendEventDialog
          onClose={() => setEditing(false)}
          initial={JSON.stringify({ name: event.name, data: event.data }, null, 2)}
        />
      ) : null}
    </section>
  );
}

function EventBody({ detail }: { detail: UiEventDetail }) {
  const { event, runs, suggestions } = detail;
  return (
    <div class="grid-2">
      <div class="panel">
        <h2>Payload</h2>
        <JsonBlock
          testId="event-payload"
          value={{
            name: event.name,
            data: event.data,
            ...(Object.keys(event.user).length ? { user: event.user } : {}),
            ...(event.id ? { id: event.id } : {}),
            ts: event.ts,
          }}
        />
      </div>
      <div class="panel">
        <h2>Runs started</h2>
        {runs.length === 0 ? (
          <NoFunctionHint name={event.name} suggestions={suggestions} />
        ) : (
          <table class="table compact" data-testid="event-runs">
            <tbody>
              {runs.map((run) => (
                <tr
                  key={run.run_id}
                  class="clickable"
                  data-testid="event-run"
                  data-function-id={run.function_id}
                  data-status={run.status}
                  onClick={() => navigate(`/runs/${run.run_id}`)}
                >
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>
                    <Link href={`/runs/${run.run_id}`} class="strong">
                      {run.function_name}
                    </Link>
                    <div class="mono muted small">{run.function_id}</div>
                  </td>
                  <td class="right nowrap">{formatDuration(run.duration_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function NoFunctionHint({
  name,
  suggestions,
}: {
  name: string;
  suggestions: UiEventDetail["suggestions"];
}) {
  const matching = suggestions.filter((suggestion) => suggestion.distance === 0);
  const close = suggestions.filter((suggestion) => suggestion.distance > 0);
  return (
    <div class="hint hint-warn" data-testid="no-function">
      <strong>No function was triggered by this event.</strong>
      {name.startsWith("inngest/") ? (
        <p class="muted">This is one of the server's own events; functions may listen for it.</p>
      ) : null}
      {matching.length > 0 ? (
        <ul class="suggestions">
          {matching.map((suggestion) => (
            <li
              key={suggestion.function_id}
              data-testid="suggestion"
              data-trigger={suggestion.trigger}
            >
              <b>{suggestion.function_name}</b> ({suggestion.app_id}) triggers on{" "}
              <code>{suggestion.trigger}</code>, but {suggestion.note}
            </li>
          ))}
        </ul>
      ) : null}
      {close.length > 0 ? (
        <>
          <p>
            A typo in the event name is the usual cause. These functions' triggers come closest to{" "}
            <code>{name}</code>:
          </p>
          <ul class="suggestions">
            {close.map((suggestion) => (
              <li
                key={suggestion.function_id}
                data-testid="suggestion"
                data-trigger={suggestion.trigger}
                data-function-id={suggestion.function_id}
              >
                <code class="suggested">{suggestion.trigger}</code> —{" "}
                <b>{suggestion.function_name}</b> <span class="muted">({suggestion.app_id})</span>{" "}
                <span class="muted small">
                  {suggestion.distance} edit{suggestion.distance === 1 ? "" : "s"} away
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {suggestions.length === 0 ? (
        <p class="muted">
          No registered function triggers on a name close to <code>{name}</code>. Is the app that
          should handle it synced (Apps)?
        </p>
      ) : null}
    </div>
  );
}
