import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { freePort, waitFor } from "@repo/test-utils";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDevServer } from "../src";
import { CHECKPOINTING } from "./harness";

/**
 * Durability, for real: the dev server and the app run as their own processes and are killed with
 * SIGKILL mid-run, then restarted on the same storage and port. Each step records its work in a
 * file when it finishes, so the counts prove what ran again and what did not.
 */

const here = import.meta.dirname;
const cli = resolve(here, "../bin/dev-server.mjs");
const app = resolve(here, "fixtures/durable-app.ts");

/** Output of every process started by the current test, printed when it fails. */
let logs: (() => string)[] = [];

/** Starts a process and resolves once its output matches `ready`. */
function start(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(command, args, {
      cwd: resolve(here, ".."),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    logs.push(() => `--- ${args.join(" ")}\n${output}`);
    const timer = setTimeout(
      () => reject(new Error(`${args.join(" ")} did not start:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolveStart(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

async function kill9(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGKILL");
  await exited;
}

const poll = <T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000) =>
  waitFor(what, read, timeoutMs);

const drivers = await testDrivers();

describe.each(drivers)("durability on %s", (driver) => {
  let workdir: string;
  let storage: string;
  let database: TestDatabase | undefined;
  let serverPort: number;
  let appPort: number;
  let server: ChildProcess | undefined;
  let appProcess: ChildProcess | undefined;
  const effectsFile = () => join(workdir, "effects.log");
  const serverUrl = () => `http://127.0.0.1:${serverPort}`;

  beforeAll(async () => {
    workdir = mkdtempSync(join(tmpdir(), "dev-server-durability-"));
    if (driver === "postgres") {
      database = await createTestDatabase("postgres", { migrated: false });
      storage = database.url;
    } else {
      storage = join(workdir, "state");
    }
    serverPort = await freePort();
    appPort = await freePort();
  }, 180_000);

  afterEach(async (context) => {
    await kill9(server);
    await kill9(appProcess);
    if (context.task.result?.state === "fail") console.error(logs.map((log) => log()).join("\n"));
    logs = [];
  });

  afterAll(async () => {
    await database?.dispose();
    rmSync(workdir, { recursive: true, force: true });
  });

  const startServer = async () => {
    server = await start(
      process.execPath,
      [
        cli,
        "--port",
        String(serverPort),
        "--storage",
        storage,
        "-u",
        `http://127.0.0.1:${appPort}/api/inngest`,
        "--retry-base",
        "100ms",
        "--retry-max",
        "1s",
        ...(CHECKPOINTING ? [] : ["--no-checkpointing"]),
      ],
      {},
      /listening on/,
    );
  };
  const startApp = async () => {
    // Not through the tsx wrapper binary: SIGKILL must hit the process that serves.
    appProcess = await start(
      process.execPath,
      ["--import", "tsx", app],
      { PORT: String(appPort), SIDE_EFFECTS_FILE: effectsFile(), DEV_SERVER_URL: serverUrl() },
      /durable-app listening/,
    );
  };
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${serverUrl()}${path}`);
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return ((await response.json()) as { data: T }).data;
  };
  const send = async (events: object[]): Promise<string[]> => {
    const response = await fetch(`${serverUrl()}/e/key`, {
      method: "POST",
      body: JSON.stringify(events),
    });
    return ((await response.json()) as { ids: string[] }).ids;
  };
  const effects = (key: string) =>
    readFileSync(effectsFile(), "utf8")
      .split("\n")
      .filter((line) => line.startsWith(`${key}:`));
  const runOf = async (eventId: string) =>
    (
      await api<{ run_id: string; status: string; output: unknown }[]>(`/v1/events/${eventId}/runs`)
    )[0];
  const synced = () =>
    poll("the app to sync", async () =>
      (await api<unknown[]>("/api/functions")).length >= 3 ? true : undefined,
    );

  it("a run survives kill -9 of the dev server: restarted on the same storage, it goes on, and no memoized step runs again", async () => {
    writeFileSync(effectsFile(), "");
    await startApp();
    await startServer();
    await synced();
    const [eventId = ""] = await send([
      { name: "durable/start", data: { key: "server-kill", sleep: "2s" } },
    ]);
    // Kill the server while the run sleeps, once step "a" is memoized (its result committed: a
    // step cut off between its side effect and that commit may rightly run again).
    await poll("the run to sleep", async () => {
      const run = await runOf(eventId);
      const steps = run
        ? await api<{ steps: { op: string }[] }>(`/v1/runs/${run.run_id}/timeline`)
        : undefined;
      return steps?.steps.some((step) => step.op === "Sleep") ? true : undefined;
    });
    await kill9(server);

    await startServer();
    const run = await poll("the run to complete", async () => {
      const found = await runOf(eventId);
      return found?.status === "Completed" ? found : undefined;
    });
    expect(run.output).toBe("ASC");
    expect(effects("server-kill").sort()).toEqual([
      "server-kill:a",
      "server-kill:c",
      "server-kill:slow",
    ]);
  }, 180_000);

  it("a step memoized mid-call (checkpointed, or answered in classic mode) survives kill -9 of the server, and the call cut off by the kill runs nothing more", async () => {
    writeFileSync(effectsFile(), "");
    rmSync(`${effectsFile()}.release`, { force: true });
    await startApp();
    await startServer();
    await synced();
    const [eventId = ""] = await send([{ name: "durable/held", data: { key: "ckpt-kill" } }]);
    // "a" is memoized (in checkpointing mode by a checkpoint of the call that now holds at the
    // next step, still in flight) when the server is killed.
    await poll("step a to be memoized and the held step to start", async () => {
      const run = await runOf(eventId);
      const steps = run
        ? await api<{ steps: { op: string; name: string }[] }>(`/v1/runs/${run.run_id}/timeline`)
        : undefined;
      return steps?.steps.some((step) => step.name === "a") &&
        effects("ckpt-kill").includes("ckpt-kill:held-started")
        ? true
        : undefined;
    });
    await kill9(server);

    await startServer();
    // The restarted server calls again: "a" is replayed, the held step starts a second time.
    await poll("the held step to start again", async () =>
      effects("ckpt-kill").filter((line) => line === "ckpt-kill:held-started").length === 2
        ? true
        : undefined,
    );
    writeFileSync(`${effectsFile()}.release`, "");
    const run = await poll("the run to complete", async () => {
      const found = await runOf(eventId);
      return found?.status === "Completed" ? found : undefined;
    });
    expect(run.output).toBe("AHC");
    // "a" never ran again. The held step was cut off by the kill, so both calls ran it; the call
    // from before the restart was stopped there (checkpointing: its checkpoint got a 409; classic:
    // its answer had no server to reach), so "c" ran once.
    expect(effects("ckpt-kill").sort()).toEqual([
      "ckpt-kill:a",
      "ckpt-kill:c",
      "ckpt-kill:held",
      "ckpt-kill:held",
      "ckpt-kill:held-started",
      "ckpt-kill:held-started",
    ]);
  }, 180_000);

  it("a run survives kill -9 of the app: the run waits for it and goes on when it is back", async () => {
    writeFileSync(effectsFile(), "");
    await startApp();
    await startServer();
    await synced();
    const [eventId = ""] = await send([
      { name: "durable/start", data: { key: "app-kill", sleep: "1s", slowMs: 3000 } },
    ]);
    await poll("step a", async () =>
      effects("app-kill").includes("app-kill:a") ? true : undefined,
    );
    // Kill the app while its slow step is in flight (the sleep has ended, the slow step not).
    await poll("the slow step to start", async () => {
      const jobs = await api<{ step_id?: string; stepId?: string; kind: string }[]>(
        `/v1/runs/${(await runOf(eventId))?.run_id}/jobs`,
      );
      return jobs.some((job) => job.kind === "call") ? true : undefined;
    });
    await new Promise((inFlight) => setTimeout(inFlight, 500));
    await kill9(appProcess);
    expect((await runOf(eventId))?.status).toBe("Running");

    await startApp();
    const run = await poll("the run to complete", async () => {
      const found = await runOf(eventId);
      return found?.status === "Completed" ? found : undefined;
    });
    expect(run.output).toBe("ASC");
    // "a" was memoized before the kill: it never ran again. The slow step was cut off before it
    // finished, so it ran (to its end) exactly once, after the restart.
    expect(effects("app-kill").sort()).toEqual(["app-kill:a", "app-kill:c", "app-kill:slow"]);
  }, 180_000);

  it("an acknowledged event is never lost: kill -9 right after the answer, and every event runs after restart", async () => {
    writeFileSync(effectsFile(), "");
    await startApp();
    await startServer();
    await synced();
    const events = Array.from({ length: 200 }, (_, index) => ({
      name: "durable/quick",
      data: { key: `ack-${index}` },
    }));
    const ids = await send(events);
    expect(ids).toHaveLength(200);
    await kill9(server);

    await startServer();
    await poll(
      "every run to complete",
      async () => {
        const done = readFileSync(effectsFile(), "utf8")
          .split("\n")
          .filter((line) => line.startsWith("ack-"));
        return new Set(done).size === 200 ? true : undefined;
      },
      60_000,
    );
    for (const id of [ids[0], ids[99], ids[199]]) {
      expect(await api<{ name: string }>(`/v1/events/${id}`)).toMatchObject({
        name: "durable/quick",
      });
      // The side effect is written before the run's last call answers: poll for the end.
      await poll(`the run of ${id} to complete`, async () =>
        (await runOf(id as string))?.status === "Completed" ? true : undefined,
      );
    }
  }, 120_000);
});

describe("kill -9 during the compaction a restart does once it listens (journal storage)", () => {
  let workdir: string;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    workdir = mkdtempSync(join(tmpdir(), "dev-server-compaction-kill-"));
  });
  afterEach(async (context) => {
    await kill9(server);
    if (context.task.result?.state === "fail") console.error(logs.map((log) => log()).join("\n"));
    logs = [];
  });
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it("listens before it compacts what it replayed; the compaction follows, with the same answers", async () => {
    const storage = join(workdir, "in-process");
    const first = await startDevServer({ storage, port: 0 });
    const response = await fetch(`${first.url}/e/key`, {
      method: "POST",
      body: JSON.stringify(
        Array.from({ length: 50 }, (_, n) => ({ name: "listen/first", data: { n } })),
      ),
    });
    const { ids } = (await response.json()) as { ids: string[] };
    await first.close();
    const journal = readFileSync(join(storage, "journal.log"), "utf8");
    expect(journal.length).toBeGreaterThan(0);

    const second = await startDevServer({ storage, port: 0 });
    try {
      // Listening, and the journal not compacted yet: it is what the first server left.
      expect(readFileSync(join(storage, "journal.log"), "utf8")).toBe(journal);
      expect((await fetch(`${second.url}/v1/events/${ids[49]}`)).status).toBe(200);
      await second.maintained;
      expect(statSync(join(storage, "journal.log")).size).toBe(0);
      const snapshot = JSON.parse(readFileSync(join(storage, "snapshot.json"), "utf8"));
      expect(snapshot.state.events.map((e: { internalId: string }) => e.internalId)).toEqual(ids);
      expect((await fetch(`${second.url}/v1/events/${ids[0]}`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("loses no acknowledged event: killed mid-snapshot, the next start has them all and compacts", async () => {
    const storage = join(workdir, "state");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const startServer = async () => {
      server = await start(
        process.execPath,
        [cli, "--port", String(port), "--storage", storage],
        {},
        /listening on/,
      );
    };
    await startServer();
    // A journal of some megabytes, so that its snapshot takes a while to write.
    const ids: string[] = [];
    const padding = "x".repeat(2000);
    for (let batch = 0; batch < 40; batch++) {
      const response = await fetch(`${url}/e/key`, {
        method: "POST",
        body: JSON.stringify(
          Array.from({ length: 100 }, (_, i) => ({
            name: "compaction/fill",
            data: { n: batch * 100 + i, padding },
          })),
        ),
      });
      expect(response.status).toBe(200);
      ids.push(...((await response.json()) as { ids: string[] }).ids);
    }
    await kill9(server);
    const journalBytes = statSync(join(storage, "journal.log")).size;
    expect(journalBytes).toBeGreaterThan(8_000_000);

    // Restarted, it replays the journal, listens, then writes a snapshot: killed while it does.
    const spawned = spawn(process.execPath, [cli, "--port", String(port), "--storage", storage], {
      stdio: "ignore",
    });
    server = spawned;
    const temporary = join(storage, "snapshot.json.tmp");
    await poll("the snapshot to be under way", async () => {
      await new Promise((next) => setImmediate(next));
      return existsSync(temporary) ? true : undefined;
    });
    await kill9(server);
    // It was cut off mid-compaction: the new snapshot not in place, the journal still whole.
    expect(existsSync(temporary)).toBe(true);
    expect(statSync(join(storage, "journal.log")).size).toBe(journalBytes);

    await startServer();
    for (let i = 0; i < ids.length; i += 200) {
      const found = await Promise.all(
        ids.slice(i, i + 200).map(async (id) => (await fetch(`${url}/v1/events/${id}`)).status),
      );
      expect(found.every((status) => status === 200)).toBe(true);
    }
    // This start compacts to the end: a snapshot holding everything, and an empty journal.
    await poll("the journal to be compacted", async () =>
      statSync(join(storage, "journal.log")).size === 0 ? true : undefined,
    );
    expect(existsSync(temporary)).toBe(false);
  }, 180_000);
});
