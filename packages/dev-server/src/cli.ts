import { parseArgs } from "node:util";
import { parseDuration } from "./durations";
import type { Logger } from "./engine/state";
import {
  type DevServer,
  type DevServerOptions,
  functionCountText,
  type SyncOutcome,
  startDevServer,
} from "./server";
import { signingKeyProblem } from "./signing";
import type { AppRecord } from "./types";

const USAGE = `Usage: inngest-dev-server [options]

A local Inngest-compatible server: it stores events, and drives the functions of the apps it
syncs by calling their serve endpoints (inngest/next, inngest/astro, inngest/remix, ...).

Options:
  -p, --port <port>          port to listen on (default 8288)
      --host <host>          address to bind (default 127.0.0.1)
  -u, --sdk-url <url>        an app's serve URL to sync, e.g. http://127.0.0.1:3000/api/inngest
                             (repeatable); retried until it answers, then kept synced
      --storage <where>      a folder (state in memory, journaled to disk), a postgres://... URL,
                             pglite:<folder> (embedded PGlite), or memory:// (nothing kept)
                             (default: DATABASE_URL if set, else .data/dev-server)
      --signing-key <key>    secure mode: sign calls to apps, verify their answers, require the
                             key's hash from apps that register, and Authorization: Bearer <key>
                             on /v1, /api, /dev and /test (default: INNGEST_SIGNING_KEY)
      --event-key <key>      accept events only at /e/<key> (default: any key)
      --poll-interval <time> how often -u apps are re-synced once reachable (default 5s)
      --retry-base <time>    delay before the first retry, doubled each attempt (default 1s)
      --retry-max <time>     longest delay between retries (default 1h)
      --no-checkpointing     classic mode: one step per call (by default the SDK may run several
                             steps per call, checkpointing each to /v1/checkpoint)
      --call-timeout <time>  how long a call to an app may take before it is retried (default 5m)
      --test-mode            virtual clock (POST /test/clock/advance) and POST /test/reset
  -v, --verbose              log every run's end and every sync
  -h, --help                 this text
`;

/** A bad command line: the process exits with code 2 and the usage text. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** How long the banner waits for the first sync of the -u apps before it is printed anyway. */
const BANNER_WAIT_MS = 2000;

export function parseCli(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): DevServerOptions | "help" {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof optionsSpec; allowPositionals: false }>
  >;
  const optionsSpec = {
    port: { type: "string", short: "p" },
    host: { type: "string" },
    "sdk-url": { type: "string", short: "u", multiple: true },
    storage: { type: "string" },
    "signing-key": { type: "string" },
    "event-key": { type: "string" },
    "poll-interval": { type: "string" },
    "retry-base": { type: "string" },
    "retry-max": { type: "string" },
    "call-timeout": { type: "string" },
    "test-mode": { type: "boolean" },
    "no-checkpointing": { type: "boolean" },
    verbose: { type: "boolean", short: "v" },
    help: { type: "boolean", short: "h" },
  } as const;
  try {
    parsed = parseArgs({ args: argv, options: optionsSpec, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values;
  if (values.help) return "help";

  const portText = values.port ?? env.PORT_DEV_SERVER ?? "8288";
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got "${portText}"`);
  }
  const sdkUrls = (values["sdk-url"] ?? []).map((url) => {
    try {
      const parsedUrl = new URL(url);
      if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") throw new Error();
      return url;
    } catch {
      throw new UsageError(
        `--sdk-url must be an http(s) URL such as http://127.0.0.1:3000/api/inngest, got "${url}"`,
      );
    }
  });
  const duration = (
    flag: "retry-base" | "retry-max" | "poll-interval" | "call-timeout",
    fallback: number,
  ) => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === null || ms <= 0)
      throw new UsageError(`--${flag} must be a duration such as 500ms, 1s or 2m, got "${text}"`);
    return ms;
  };
  const retry = { baseMs: duration("retry-base", 1000), maxMs: duration("retry-max", 3_600_000) };
  if (retry.maxMs < retry.baseMs)
    throw new UsageError("--retry-max must not be shorter than --retry-base");
  const resyncIntervalMs = duration("poll-interval", 5000);
  const callTimeoutMs = duration("call-timeout", 300_000);
  const signingKey = values["signing-key"] ?? (env.INNGEST_SIGNING_KEY || undefined);
  if (signingKey !== undefined) {
    const problem = signingKeyProblem(signingKey);
    if (problem) throw new UsageError(`--signing-key: ${problem}`);
  }
  const eventKey = values["event-key"];
  if (eventKey !== undefined && !/^[\w.-]+$/.test(eventKey))
    throw new UsageError(
      `--event-key must be letters, digits, "_", "-" or "." (it is a URL path part), got "${eventKey}"`,
    );
  const host = values.host ?? "127.0.0.1";
  if (!host.trim()) throw new UsageError("--host must be an address such as 127.0.0.1 or 0.0.0.0");

  return {
    port,
    host,
    sdkUrls,
    storage: values.storage ?? (env.DATABASE_URL || ".data/dev-server"),
    signingKey,
    eventKey,
    retry,
    resyncIntervalMs,
    callTimeoutMs,
    testMode: Boolean(values["test-mode"]),
    checkpointing: !values["no-checkpointing"],
    logger: consoleLogger(Boolean(values.verbose)),
  };
}

/**
 * The one line printed at start: where the server listens, where it keeps its data, and how the
 * first sync of each -u app went (synced with its functions, or why not yet).
 */
export function banner(
  server: Pick<DevServer, "url" | "store">,
  options: DevServerOptions,
  outcomes: SyncOutcome[],
  /** Apps known from earlier sessions that have not synced since this start. */
  stale: AppRecord[] = [],
): string {
  const sdkUrls = options.sdkUrls ?? [];
  const apps = sdkUrls.length
    ? sdkUrls
        .map((url) => {
          const outcome = outcomes.find((candidate) => candidate.url === url);
          if (!outcome) return `${url} (first sync still running)`;
          if (outcome.ok) return `${url} (synced, ${functionCountText(outcome.app)})`;
          return `${url} (not synced yet, retrying: ${outcome.error})`;
        })
        .join(", ")
    : `none yet (apps can register at ${server.url}/fn/register)`;
  const { kind, location } = server.store;
  return [
    `inngest-dev-server listening on ${server.url}`,
    `storage: ${kind} ${location}`,
    ...(options.testMode ? ["test mode (virtual clock)"] : []),
    ...(options.signingKey
      ? ["secure (signed calls; /v1, /api and the UI need Bearer <signing key>)"]
      : []),
    ...(options.checkpointing === false ? ["classic mode (no checkpointing)"] : []),
    ...(options.eventKey ? ["event key required"] : []),
    `apps: ${apps}`,
    ...(stale.length
      ? [
          `not synced since this start (their events start no runs, their runs wait, until they sync): ${stale
            .map((app) => `${app.appId ?? "?"} ${app.url}`)
            .join(", ")}`,
        ]
      : []),
  ].join(" | ");
}

function consoleLogger(verbose: boolean): Logger {
  const stamp = () => new Date().toISOString().slice(11, 23);
  return {
    debug: (message) => {
      if (verbose) console.log(`${stamp()} ${message}`);
    },
    info: (message) => console.log(`${stamp()} ${message}`),
    warn: (message) => console.warn(`${stamp()} warn ${message}`),
    error: (message) => console.error(`${stamp()} error ${message}`),
  };
}

async function main(): Promise<void> {
  let options: DevServerOptions | "help";
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`inngest-dev-server: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  const server = await startDevServer(options);
  // The server already answers; the banner waits a little so that it can say which apps synced.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    server.firstSync,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, BANNER_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  const stale = (await server.store.listApps()).filter(
    (app) => !server.engine.isSynced(app.url) && !(options.sdkUrls ?? []).includes(app.url),
  );
  console.log(banner(server, options, server.syncOutcomes(), stale));
  const shutdown = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (
  import.meta.url === `file://${process.argv[1]}` ||
  process.argv[1]?.endsWith("/bin/dev-server.mjs")
) {
  main().catch((error: unknown) => {
    console.error(`inngest-dev-server: ${(error as Error).message}`);
    process.exit(1);
  });
}
