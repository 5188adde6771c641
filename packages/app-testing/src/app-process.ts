import { type ChildProcess, spawn } from "node:child_process";
import { DEADLINE_MS, freePort, waitFor as waitForCondition } from "@repo/test-utils";

/**
 * An app's production server as its `start` script runs it (`pnpm run start` in the app's folder),
 * in a process group of its own so that stopping it also stops what pnpm started under it.
 */

export interface AppProcess {
  url: string;
  /** Everything the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Variables of the test run that must not leak into the app: the test sets what it needs. */
const STRIPPED =
  /^(INNGEST_|DATABASE_URL$|PGLITE_DATA_DIR$|WEBHOOK_SECRET$|NODE_ENV$|VITEST|TEST$)/;

export type Env = Record<string, string | undefined>;

export function childEnv(overrides: Env): Env {
  const env: Env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!STRIPPED.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function spawnApp(appDir: string, port: number, env: Env): AppProcess {
  const child: ChildProcess = spawn("pnpm", ["run", "--silent", "start"], {
    cwd: appDir,
    // A cast: Next's and Remix's types make NODE_ENV required in ProcessEnv, and it is left out.
    env: { ...env, PORT: String(port), HOST: "127.0.0.1" } as unknown as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });

  const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  // pnpm exits before the server under it has: stopped means every process of the group is gone
  // (the server holds the PGlite folder until then).
  const groupGone = async (timeoutMs: number): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (signalGroup(0)) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop() {
      signalGroup("SIGTERM");
      if (!(await groupGone(10_000))) {
        signalGroup("SIGKILL");
        await groupGone(10_000);
      }
      await exited;
    },
  };
}

/** Polls `check` until it returns a value, the process exits, or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; app?: AppProcess } = {},
): Promise<T> {
  const { app } = options;
  let exitCode: number | string | undefined;
  void app?.exited.then((code) => {
    exitCode = code;
  });
  const tail = () => (app ? `\n--- app output ---\n${app.output().slice(-4000)}` : "");
  try {
    return await waitForCondition(what, check, {
      timeoutMs: options.timeoutMs ?? DEADLINE_MS,
      intervalMs: options.intervalMs ?? 100,
      stop: () =>
        exitCode === undefined
          ? undefined
          : new Error(`the app exited (${exitCode}) while waiting for ${what}${tail()}`),
    });
  } catch (error) {
    if (exitCode !== undefined) throw error;
    throw new Error(`${(error as Error).message}${tail()}`);
  }
}

export { freePort };
