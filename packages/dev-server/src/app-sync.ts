import { createHash } from "node:crypto";
import type { Engine } from "./engine/engine";
import type { Logger } from "./engine/state";
import type { FunctionConfig } from "./functions/config";
import { validateFunctions } from "./functions/validation";
import { AppUnreachableError, type SdkClient } from "./sdk-client";
import { canonicalJson } from "./signing";
import type { Store, StoredFunction } from "./store/store";
import type { AppRecord, JsonObject } from "./types";

/**
 * Apps and their functions: registering what an app says it serves, syncing an app (a PUT to its
 * serve URL, which answers its functions in band or registers them out of band at /fn/register),
 * and keeping the apps given at start synced. The HTTP side is `http/sync.ts`.
 */

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/** How one sync of an app went. */
export interface SyncOutcome {
  url: string;
  ok: boolean;
  app?: AppRecord;
  error?: string;
}

/** What an app registers: its id, how it is built, and its functions' configs. */
export interface AppRegistration {
  appId: string;
  framework: string | null;
  sdk: string | null;
  functions: FunctionConfig[];
}

export interface RegisterResult {
  app: AppRecord;
  /** False when the functions are the same as the last good registration's. */
  modified: boolean;
  /** Why the functions were refused (they are invalid); the last good ones stay. */
  error?: string;
}

export class AppSync {
  /** Checksum of each app's last good registration: an unchanged re-sync changes nothing. */
  private readonly registeredChecksums = new Map<string, string>();
  /** Recent out-of-band registrations: how a sync's PUT learns that its app did register. */
  private readonly registrations: { url: string; at: number }[] = [];
  private readonly syncsInFlight = new Set<Promise<unknown>>();
  private readonly syncTimers = new Map<string, NodeJS.Timeout>();
  private readonly latestOutcomes = new Map<string, SyncOutcome>();
  private closed = false;
  /** Aborts syncs still waiting on an app when the server closes. */
  private readonly closing = new AbortController();

  constructor(
    private readonly deps: {
      engine: Engine;
      store: Store;
      sdk: SdkClient;
      logger: Logger;
      /** How often a kept-synced app is re-synced once reachable (ms). */
      resyncMs: number;
    },
  ) {}

  /** An app's own registration (`POST /fn/register`), from the serve URL it gave. */
  async registerOutOfBand(url: string, config: AppRegistration): Promise<RegisterResult> {
    const result = await this.register(url, config);
    this.registrations.push({ url, at: Date.now() });
    if (this.registrations.length > 100) this.registrations.shift();
    return result;
  }

  /**
   * Saves the app and, when they changed, its functions. Invalid functions are refused as a whole
   * and the app keeps those of its last good sync: a broken deploy does not unregister them.
   */
  private async register(url: string, config: AppRegistration): Promise<RegisterResult> {
    const { engine, store } = this.deps;
    const registered = engine.functionList().filter((fn) => fn.appUrl === url);
    const problems = validateFunctions(config.functions);
    if (problems.length) {
      const app: AppRecord = {
        url,
        appId: config.appId || null,
        framework: config.framework,
        sdk: config.sdk,
        functionCount: registered.length,
        syncedAt: Date.now(),
        error: `invalid function config: ${problems.join("; ")}`,
      };
      // Refused input stores nothing new: an app already known keeps its functions and shows
      // why its latest sync failed; an unknown one is not created by a refused registration
      // (a sync that failed this way still records its error, see `syncOnce`).
      if ((await store.listApps()).some((known) => known.url === url)) {
        await store.saveApp(app, null);
        this.registeredChecksums.delete(url);
      }
      return { app, modified: false, error: app.error ?? undefined };
    }
    const app: AppRecord = {
      url,
      appId: config.appId || null,
      framework: config.framework,
      sdk: config.sdk,
      functionCount: config.functions.length,
      syncedAt: Date.now(),
      error: null,
    };
    const checksum = createHash("sha256").update(canonicalJson(config)).digest("hex");
    if (this.registeredChecksums.get(url) === checksum) {
      await store.saveApp(app, null);
      return { app, modified: false };
    }
    const functions: StoredFunction[] = config.functions.map((fn) => ({
      slug: fn.id,
      appUrl: url,
      appId: config.appId,
      name: fn.name ?? fn.id,
      config: fn,
    }));
    await store.saveApp(app, functions);
    await engine.setAppFunctions(url, functions);
    this.registeredChecksums.set(url, checksum);
    return { app, modified: true };
  }

  /** Syncs the app at `url` now (in band, or out of band if the app prefers); throws on failure. */
  sync(url: string): Promise<AppRecord> {
    const work = this.syncOnce(url);
    this.syncsInFlight.add(work);
    const forget = () => this.syncsInFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** As `sync`, with a failure as the outcome's `error` instead of thrown. */
  async syncOutcome(url: string): Promise<SyncOutcome> {
    try {
      return { url, ok: true, app: await this.sync(url) };
    } catch (error) {
      return { url, ok: false, error: (error as Error).message };
    }
  }

  private async syncOnce(url: string): Promise<AppRecord> {
    const { sdk, store } = this.deps;
    const bare = stripQuery(url);
    const startedAt = Date.now();
    try {
      const answer = await sdk.sync(bare, this.closing.signal);
      if (answer.kind === "in_band") {
        const { app, error } = await this.register(bare, answer);
        if (error) throw new Error(error);
        return app;
      }
      // Out of band: the app has POSTed /fn/register before answering; its answer says how it went.
      if (answer.status !== 200) {
        const body = answer.body as JsonObject | string | null;
        const said =
          typeof body === "object" && body && typeof body.message === "string"
            ? body.message
            : preview(body);
        throw new Error(
          answer.fromSdk
            ? `the app answered ${answer.status} to PUT ${bare}: ${said}`
            : `PUT ${bare} answered ${answer.status} without the Inngest SDK (no x-inngest-sdk ` +
                `header): is this the app's serve URL, e.g. /api/inngest? It answered: ${said}`,
        );
      }
      // The app registers under the URL it sees itself at, which is usually ours for it.
      const during = this.registrations.filter((registration) => registration.at >= startedAt);
      const registered =
        during.find((registration) => registration.url === bare) ??
        (during.length === 1 ? during[0] : undefined);
      const synced = registered
        ? (await store.listApps()).find((candidate) => candidate.url === registered.url)
        : undefined;
      if (!synced) {
        throw new Error(
          `the app answered ${preview(answer.body)} but did not register: is its INNGEST_BASE_URL ` +
            "(or INNGEST_DEV) this server?",
        );
      }
      return synced;
    } catch (error) {
      const reason = (error as Error).message;
      const message =
        error instanceof AppUnreachableError && error.name === "AppUnreachableError"
          ? `could not reach the app: ${reason}`
          : reason;
      if (!this.closed) await store.setAppError(bare, message).catch(() => {});
      throw new Error(message);
    }
  }

  /**
   * Syncs each of `urls` until it is reachable, then keeps it fresh, until `stop`. Resolves with
   * the first attempt's outcomes; those are not logged (whoever starts the server reports them),
   * later changes are.
   */
  keepSynced(urls: string[]): Promise<SyncOutcome[]> {
    return Promise.all(urls.map((url) => this.keepOneSynced(url)));
  }

  /** The latest outcome of each kept-synced app that has had one. */
  outcomes(): SyncOutcome[] {
    return [...this.latestOutcomes.values()];
  }

  private keepOneSynced(url: string): Promise<SyncOutcome> {
    const { logger, resyncMs } = this.deps;
    return new Promise((resolveFirst) => {
      let first = true;
      let delay = FIRST_RETRY_MS;
      let lastError: string | null = null;
      let synced = false;
      const attempt = async () => {
        if (this.closed) return resolveFirst({ url, ok: false, error: "the server closed" });
        const outcome = await this.syncOutcome(url);
        this.latestOutcomes.set(url, outcome);
        // Logged when it changes, not on every attempt; the first outcome is `firstSync`'s to
        // report (the CLI's banner says it).
        if (outcome.ok) {
          if (!synced && !first) logger.info(`synced ${url}: ${functionCountText(outcome.app)}`);
          synced = true;
          lastError = null;
          delay = resyncMs;
        } else {
          if (outcome.error !== lastError && !first && !this.closed)
            logger.warn(`could not sync ${url}: ${outcome.error}; retrying`);
          synced = false;
          lastError = outcome.error ?? null;
          delay = Math.min(delay * 2, Math.max(FIRST_RETRY_MS, Math.min(MAX_RETRY_MS, resyncMs)));
        }
        if (first) {
          first = false;
          resolveFirst(outcome);
        }
        if (!this.closed) this.syncTimers.set(url, setTimeout(attempt, delay));
      };
      void attempt();
    });
  }

  /** Stops keeping apps synced and aborts syncs waiting on an app (the server is closing). */
  stop(): void {
    this.closed = true;
    this.closing.abort();
    for (const timer of this.syncTimers.values()) clearTimeout(timer);
  }

  /** Settles once the syncs under way have. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.syncsInFlight]);
  }
}

/** "1 function", "3 functions". */
export function functionCountText(app: AppRecord | undefined): string {
  const count = app?.functionCount ?? 0;
  return `${count} function${count === 1 ? "" : "s"}`;
}

/** The URL without its query and fragment: an app is known by its serve URL alone. */
export function stripQuery(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = "";
    parsed.hash = "";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** An answer's body on one line, at most 300 characters, for error messages. */
function preview(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const flat = (text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat || "(empty body)";
}
