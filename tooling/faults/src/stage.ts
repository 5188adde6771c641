import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createRestClient,
  type EventJson,
  freePort,
  type RestClient,
  type RunJson,
  waitFor,
} from "@repo/test-utils";
import { inject } from "vitest";
import { readEffects, summarise } from "./effects";
import {
  type AppProcess,
  type DevServerProcess,
  kill9,
  processOutput,
  startApp,
  startDevServer,
} from "./processes";
import { appendRow, type Row } from "./table";

/**
 * One scenario's world: a folder of its own (the dev server's journal store, the app's effects
 * file), a free port for the server and one for the app, kept across restarts so that a restarted
 * process is found where the other expects it.
 */
export interface Stage {
  dir: string;
  storage: string;
  effectsFile: string;
  serverPort: number;
  appPort: number;
  serverUrl: string;
  appUrl: string;
  rest: RestClient;
  server?: DevServerProcess;
  app?: AppProcess;
  startServer(args?: string[]): Promise<DevServerProcess>;
  startApp(env?: Record<string, string>): Promise<AppProcess>;
  /** Resolves once the server lists `count` functions of the app. */
  synced(count: number): Promise<void>;
  effects(fn?: string): ReturnType<typeof summarise>;
  /** Kills whatever still runs; removes the folder unless the scenario failed (then says where). */
  close(failed: boolean): Promise<void>;
}

export interface StageOptions {
  storage?: string;
  /**
   * Secure mode: the REST client (and the stage's own reads) send `Bearer <signingKey>`, and
   * events go to `/e/<eventKey>`. The server and the app are given the keys by the scenario.
   */
  signingKey?: string;
  eventKey?: string;
}

export async function createStage(name: string, options: StageOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), `fault-${name}-`));
  const effectsFile = join(dir, "effects.jsonl");
  writeFileSync(effectsFile, "");
  const serverPort = await freePort();
  const appPort = await freePort();
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const appUrl = `http://127.0.0.1:${appPort}/api/inngest`;
  const stage: Stage = {
    dir,
    storage: options.storage ?? join(dir, "dev-server"),
    effectsFile,
    serverPort,
    appPort,
    serverUrl,
    appUrl,
    rest: createRestClient(serverUrl, {
      ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      ...(options.eventKey ? { eventKey: options.eventKey } : {}),
    }),
    async startServer(args) {
      stage.server = await startDevServer({
        port: serverPort,
        storage: stage.storage,
        appUrls: [appUrl],
        ...(args ? { args } : {}),
      });
      return stage.server;
    },
    async startApp(env) {
      stage.app = await startApp({
        port: appPort,
        serverUrl,
        effectsFile,
        ...(env ? { env } : {}),
      });
      return stage.app;
    },
    async synced(count) {
      await waitFor("the app's functions to sync", async () => {
        const response = await fetch(`${serverUrl}/api/functions`, {
          headers: options.signingKey ? { authorization: `Bearer ${options.signingKey}` } : {},
        });
        const { data } = (await response.json()) as { data: { app_url: string }[] };
        return data.filter((fn) => fn.app_url === appUrl).length >= count;
      });
    },
    effects: (fn) => summarise(readEffects(effectsFile), fn),
    async close(failed) {
      await kill9(stage.server);
      await kill9(stage.app);
      if (failed) console.error(`${processOutput()}\n(the scenario's folder is kept: ${dir})`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
  return stage;
}

/** Every run of a function, paged through the REST API (newest first). */
export async function allRuns(rest: RestClient, functionId: string): Promise<RunJson[]> {
  const runs: RunJson[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await rest.runs({ functionId, limit: 1000, ...(cursor ? { cursor } : {}) });
    runs.push(...page);
    if (page.length < 1000) return runs;
    cursor = page.at(-1)?.run_id;
  }
}

/** Every stored event of a name, paged through the REST API. */
export async function allEvents(rest: RestClient, name: string): Promise<EventJson[]> {
  const events: EventJson[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await rest.events({ name, limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page);
    if (page.length < 1000) return events;
    cursor = page.at(-1)?.internal_id;
  }
}

/** The row of this scenario, for the suite's table. */
export function reportRow(row: Row): void {
  appendRow(inject("rowsFile"), row);
}
