import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { AppSync, type SyncOutcome } from "./app-sync";
import { type Clock, realClock, VirtualClock } from "./clock";
import { Engine } from "./engine/engine";
import type { RetryPolicy } from "./engine/executor";
import type { Logger } from "./engine/state";
import { validateFunctions } from "./functions/validation";
import { requireBearer } from "./http/auth";
import { registerCheckpointApi } from "./http/checkpoint";
import { registerDevInfo } from "./http/dev-info";
import { EventIntake, parseEvents, registerEventApi } from "./http/events";
import { answerErrors } from "./http/request";
import { registerRestV1 } from "./http/rest-v1";
import { registerSyncApi } from "./http/sync";
import { registerTestMode } from "./http/test-mode";
import { registerUiApi } from "./http/ui-api";
import { registerUiAssets } from "./http/ui-assets";
import { SdkClient } from "./sdk-client";
import { signingKeyProblem } from "./signing";
import { openStore } from "./store/open";
import type { Store } from "./store/store";
import type { AppRecord } from "./types";

/**
 * The dev server put together: storage, the engine, the HTTP routes (each group in its own
 * module under `http/`), app sync, listening, and closing in order.
 */

export { functionCountText, type SyncOutcome } from "./app-sync";
export { type EventInput, parseEvents } from "./http/events";
export { validateFunctions };

export interface DevServerOptions {
  port?: number;
  host?: string;
  /** App serve URLs to sync at start and keep synced (like `inngest-cli dev -u`). */
  sdkUrls?: string[];
  /** A folder (journal), `postgres://...`, `pglite:<folder>` or `memory://` (see `store/open.ts`). Default: `.data/dev-server`. */
  storage?: string;
  /**
   * Secure mode: calls to apps are signed and their answers verified (an unsigned, tampered or
   * stale answer is a failed call), `/fn/register` and `/v1/checkpoint` need the key's hash as
   * Bearer token, and the REST API v1, the UI API, `/dev` and `/test/` need `Bearer <signing key>`
   * (or its hash). Apps must run in cloud mode with the same `INNGEST_SIGNING_KEY`.
   */
  signingKey?: string | undefined;
  /** When set, events are only accepted at `/e/<eventKey>`. */
  eventKey?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** Test mode: a virtual clock that only moves on `POST /test/clock/advance`, and `/test/reset`. */
  testMode?: boolean;
  /** Virtual clock's start (test mode). */
  clockStart?: number;
  logger?: Logger;
  /** How often apps given with `sdkUrls` are re-synced once reachable (ms). Default 5 s, as Go. */
  resyncIntervalMs?: number;
  /**
   * Async checkpointing (default on): calls carry `ctx.fn_id` and `ctx.qi_id`, so the SDK runs
   * several steps per call and posts each to `/v1/checkpoint/:runId/async`. `false` is classic
   * mode: one step per call.
   */
  checkpointing?: boolean;
  /** How long a call to an app may take before it counts as failed (ms). Default 5 min. */
  callTimeoutMs?: number;
}

export interface DevServer {
  url: string;
  port: number;
  engine: Engine;
  store: Store;
  /** Syncs the app at `url` now (in band, or out of band if the app prefers); throws on failure. */
  sync(url: string): Promise<AppRecord>;
  /**
   * Settles once the first sync attempt of every `sdkUrls` entry has finished, one way or the
   * other. Those first outcomes are not logged: whoever starts the server reports them.
   */
  firstSync: Promise<SyncOutcome[]>;
  /** The latest sync outcome of each `sdkUrls` entry that has had one. */
  syncOutcomes(): SyncOutcome[];
  /** Settles once the work the store left until the server listened is done (its compaction). */
  maintained: Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_RESYNC_MS = 5000;

const quietLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (m) => console.error(m),
};

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const logger = options.logger ?? quietLogger;
  if (options.signingKey) {
    const problem = signingKeyProblem(options.signingKey);
    if (problem) throw new Error(`signingKey: ${problem}`);
  }
  const clock: Clock = options.testMode ? new VirtualClock(options.clockStart) : realClock;
  const store = await openStore(options.storage ?? ".data/dev-server");
  const sdk = new SdkClient({
    signingKey: options.signingKey,
    ...(options.callTimeoutMs ? { callTimeoutMs: options.callTimeoutMs } : {}),
  });
  const engine = new Engine({
    store,
    clock,
    sdk,
    logger,
    checkpointing: options.checkpointing ?? true,
    retry: { baseMs: options.retry?.baseMs ?? 1000, maxMs: options.retry?.maxMs ?? 3_600_000 },
  });
  try {
    await engine.start();
  } catch (error) {
    // Nothing serves this store: it is closed (and its folder's lock released) for a next try.
    await store.close().catch(() => {});
    throw error;
  }

  const resyncMs = options.resyncIntervalMs ?? DEFAULT_RESYNC_MS;
  const intake = new EventIntake({ engine, store, clock });
  const apps = new AppSync({ engine, store, sdk, logger, resyncMs });

  const app = new Hono();
  answerErrors(app, logger);
  // Before every route: in secure mode the APIs need the signing key as Bearer token.
  requireBearer(app, options.signingKey);
  registerEventApi(app, intake, options.eventKey);
  registerSyncApi(app, { apps, store, sdk, signingKey: options.signingKey });
  registerDevInfo(app, {
    engine,
    store,
    sdk,
    start: {
      sdkUrls: options.sdkUrls ?? [],
      resyncMs,
      testMode: Boolean(options.testMode),
    },
  });
  registerRestV1(app, { engine, store });
  registerCheckpointApi(app, { engine, signingKey: options.signingKey });
  registerUiApi(app, {
    store,
    engine,
    clock,
    send: (text) => intake.send(parseEvents(text), null),
  });
  registerUiAssets(app);
  registerTestMode(app, { engine, clock, intake });

  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const created = serve(
        { fetch: app.fetch, port: options.port ?? 8288, hostname: options.host ?? "127.0.0.1" },
        () => resolve(created),
      );
      created.once("error", reject);
    });
  } catch (error) {
    // The port is taken (or refused): nothing was served, so nothing stays open.
    apps.stop();
    engine.stop();
    await engine.idle().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
  const address = server.address() as AddressInfo;
  const origin = `http://${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;

  // Listening first: what the store left for later (the journal's compaction of what it replayed
  // at open) runs now, with writes waiting for it and reads not.
  const maintained = store.maintain?.() ?? Promise.resolve();

  // Apps given on the command line: synced until reachable, then kept fresh.
  const firstSync = apps.keepSynced(options.sdkUrls ?? []);

  return {
    url: origin,
    port: address.port,
    engine,
    store,
    sync: (url) => apps.sync(url),
    firstSync,
    syncOutcomes: () => apps.outcomes(),
    maintained,
    async close() {
      apps.stop();
      engine.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apps.settled();
      await intake.settled();
      await engine.drain();
      await engine.idle().catch(() => {});
      await store.close();
    },
  };
}
