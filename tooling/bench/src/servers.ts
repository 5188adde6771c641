import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitFor as waitForCondition } from "@repo/test-utils";
import { REPO_ROOT } from "./targets";

/** Spawning, waiting for and stopping the servers the bench runs. */

export { freePort };

/** Thrown by a `waitFor` check: stop waiting, this will not get better. */
export class FatalError extends Error {
  override readonly name = "FatalError";
}

/** Polls `check` until it answers something other than undefined, or fails after the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  {
    timeoutMs = 60_000,
    intervalMs = 20,
    alive,
  }: { timeoutMs?: number; intervalMs?: number; alive?: () => string | undefined } = {},
): Promise<T> {
  let fatal: Error | undefined;
  return waitForCondition(
    what,
    async () => {
      const dead = alive?.();
      if (dead) {
        fatal = new Error(`${what}: ${dead}`);
        return undefined;
      }
      try {
        return await check();
      } catch (error) {
        if (error instanceof FatalError) fatal = error;
        throw error;
      }
    },
    { timeoutMs, intervalMs, stop: () => fatal },
  );
}

export interface Spawned {
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Why the process is gone, or undefined while it runs. */
  exited(): string | undefined;
  /** The last lines of its output, for error messages. */
  tail(lines?: number): string;
  /** SIGTERM to its process group, SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Runs `command` with `sh -c` in its own process group (so that stopping it stops whatever it
 * started), its output going to `logFile` (a file, not a pipe: nothing on our side to drain, and
 * what the server prints is there when it fails).
 */
export function spawnShell(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Spawned {
  const fd = openSync(options.logFile, "a");
  const child = spawn("sh", ["-c", command], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  let exit: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = signal ? `exited on ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.once("error", (error) => {
      exit = `could not start: ${error.message}`;
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  return {
    pid,
    child,
    logFile: options.logFile,
    exited: () => exit,
    tail(lines = 20) {
      try {
        return readFileSync(options.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
    async stop() {
      if (exit === undefined) killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 5000);
      await exitedPromise;
      clearTimeout(timer);
      // Anything the group left behind (a worker that ignored SIGTERM) goes too.
      killGroup("SIGKILL");
    },
  };
}

/** The env every server under test gets: the same few variables for all, nothing inherited. */
export function serverEnv(extra: Record<string, string>, binDirs: string[]): NodeJS.ProcessEnv {
  return {
    PATH: [...binDirs, process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"].join(":"),
    HOME: process.env.HOME ?? "/tmp",
    HOST: "127.0.0.1",
    NEXT_TELEMETRY_DISABLED: "1",
    ASTRO_TELEMETRY_DISABLED: "1",
    ...extra,
  };
}

/** The dev server (packages/dev-server), run by its bin (one node process, no loader thread). */
export async function startDevServer(
  port: number,
  logFile: string,
): Promise<Spawned & { url: string }> {
  const cwd = join(REPO_ROOT, "packages/dev-server");
  const spawned = spawnShell(`exec node bin/dev-server.mjs --port ${port} --storage memory://`, {
    cwd,
    env: serverEnv({}, []),
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    "the dev server to answer GET /dev",
    async () => ((await fetch(`${url}/dev`)).ok ? true : undefined),
    { alive: () => (spawned.exited() ? `${spawned.exited()}:\n${spawned.tail()}` : undefined) },
  );
  return { ...spawned, url };
}
