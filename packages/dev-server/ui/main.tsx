import { render } from "preact";
import { useState } from "preact/hooks";
import { authHeaders, hasSavedKey, refused, saveKey, useRefusal } from "./auth";
import { usePoll } from "./hooks";
import { AppsPage } from "./pages/apps";
import { EventPage, EventsPage } from "./pages/events";
import { FunctionsPage } from "./pages/functions";
import { RunPage } from "./pages/run";
import { RunsPage } from "./pages/runs";
import { Link, useLocation } from "./router";

/**
 * The dev server's UI: apps, functions, events and runs, read from the server's own API and
 * refreshed every second. Bundled by the server itself (src/http/ui-assets.ts) on first request.
 */

const NAV = [
  { href: "/runs", label: "Runs", testId: "nav-runs" },
  { href: "/events", label: "Events", testId: "nav-events" },
  { href: "/functions", label: "Functions", testId: "nav-functions" },
  { href: "/apps", label: "Apps", testId: "nav-apps" },
] as const;

function Page({ path }: { path: string }) {
  const match = /^\/(runs|events)\/([0-9A-Za-z]{26})\/?$/.exec(path);
  if (match?.[1] === "runs") return <RunPage key={match[2]} id={match[2] as string} />;
  if (match?.[1] === "events") return <EventPage key={match[2]} id={match[2] as string} />;
  switch (path.replace(/\/$/, "") || "/") {
    case "/":
    case "/runs":
      return <RunsPage />;
    case "/events":
      return <EventsPage />;
    case "/functions":
      return <FunctionsPage />;
    case "/apps":
      return <AppsPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{path}</code>. <Link href="/runs">Back to the runs</Link>.
          </p>
        </section>
      );
  }
}

interface DevInfo {
  startOpts: { testMode: boolean };
  handlers: { error: string | null }[];
}

async function devInfo(): Promise<DevInfo> {
  const response = await fetch("/dev", {
    headers: { accept: "application/json", ...authHeaders() },
  });
  if (response.status === 401) {
    const body = (await response.json().catch(() => null)) as { error?: string } | null;
    refused(body?.error ?? "the server wants its signing key");
  }
  if (!response.ok) throw new Error(`GET /dev: ${response.status}`);
  return (await response.json()) as DevInfo;
}

/** Secure mode: the server refused our requests; ask for its signing key (see `auth.ts`). */
function KeyForm({ reason }: { reason: string }) {
  const [key, setKey] = useState("");
  return (
    <section>
      <h1>Signing key</h1>
      <p>
        This dev server runs in secure mode: its API needs the signing key it was started with (
        <code>--signing-key</code>). It is kept in this tab only.
      </p>
      <p class="error-banner" data-testid="signing-key-reason">
        {hasSavedKey() ? `The key given was refused: ${reason}` : reason}
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (key.trim()) saveKey(key.trim());
        }}
      >
        <input
          type="password"
          autocomplete="off"
          placeholder="signkey-..."
          data-testid="signing-key-input"
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
        />{" "}
        <button type="submit" data-testid="signing-key-submit">
          Use this key
        </button>
      </form>
    </section>
  );
}

function App() {
  const refusal = useRefusal();
  if (refusal) {
    return (
      <div class="layout">
        <main class="content">
          <KeyForm reason={refusal} />
        </main>
      </div>
    );
  }
  return <Live />;
}

function Live() {
  const { path } = useLocation();
  const info = usePoll(devInfo, "dev");
  const failing = info.data?.handlers.filter((handler) => handler.error).length ?? 0;
  const section = `/${path.split("/")[1] ?? ""}`;
  return (
    <div class="layout">
      <aside class="sidebar">
        <Link href="/runs" class="brand">
          <span class="logo">◆</span> Inngest <span class="muted">dev server</span>
        </Link>
        <nav>
          {NAV.map((item) => (
            <Link
              key={item.href}
              href={item.href}
              data-testid={item.testId}
              class={`nav-link${section === item.href || (section === "/" && item.href === "/runs") ? " active" : ""}`}
            >
              {item.label}
              {item.href === "/apps" && failing > 0 ? (
                <span class="nav-alert" title="an app's last sync failed">
                  {failing}
                </span>
              ) : null}
            </Link>
          ))}
        </nav>
        <div class="sidebar-foot">
          <span class={`dot${info.error ? " dot-off" : ""}`} />
          {info.error ? "server unreachable" : "connected · live"}
          {info.data?.startOpts.testMode ? (
            <div class="muted small">test mode: virtual clock</div>
          ) : null}
        </div>
      </aside>
      <main class="content">
        <Page path={path} />
      </main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
