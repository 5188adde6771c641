import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

/**
 * The processes a scenario runs: the dev server through its CLI and SDK apps, each a real child
 * process, so that a fault can be a real `kill -9`. Their output is kept, and printed when a
 * scenario fails.
 */

const here = import.meta.dirname;
export const repoRoot = resolve(here, "../../..");
const devServerCli = resolve(repoRoot, "packages/dev-server/src/cli.ts");
const faultApp = resolve(here, "../app/fault-app.ts");

/** Output of every process started in this worker, newest last. */
const outputs: { name: string; text: () => string }[] = [];

export function processOutput(): string {
  return outputs.map((output) => `--- ${output.name}\n${output.text()}`).join("\n");
}

export interface Proc {
  name: string;
  child: ChildProcess;
  /** When it was spawned, and when it said it was ready (Date.now()). */
  spawnedAt: number;
  readyAt: number;
  alive(): boolean;
  output(): string;
}

/** Spawns a process and resolves once its output matches `ready`; fails if it exits first. */
export function spawnReady(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<Proc> {
  return new Promise((resolveStart, reject) => {
    const spawnedAt = Date.now();
    // `node --import tsx <file>`: one process, so SIGKILL hits the process that serves.
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: resolve(here, ".."),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    outputs.push({ name, text: () => text });
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${text}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      // Bounded: a scenario with 10,000 runs must not keep every log line.
      text = (text + chunk.toString()).slice(-200_000);
      if (ready.test(text)) {
        clearTimeout(timer);
        resolveStart({
          name,
          child,
          spawnedAt,
          readyAt: Date.now(),
          alive: () => child.exitCode === null && child.signalCode === null,
          output: () => text,
        });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${text}`));
    });
  });
}

/** SIGKILL, and wait for the exit: nothing of the process runs after this resolves. */
export async function kill9(proc: Proc | undefined): Promise<void> {
  if (!proc?.alive()) return;
  const exited = new Promise((done) => proc.child.once("exit", done));
  proc.child.kill("SIGKILL");
  await exited;
}

export interface DevServerProcess extends Proc {
  url: string;
}

export interface DevServerSpec {
  port: number;
  storage: string;
  appUrls: string[];
  /** Extra CLI arguments (`--signing-key`, `--event-key`...). */
  args?: string[];
}

/** The dev server through its CLI, with short retries so that scenarios recover quickly. */
export async function startDevServer(spec: DevServerSpec): Promise<DevServerProcess> {
  const args = [
    devServerCli,
    "--port",
    String(spec.port),
    "--storage",
    spec.storage,
    "--retry-base",
    "100ms",
    "--retry-max",
    "1s",
    "--poll-interval",
    "1s",
    ...spec.appUrls.flatMap((url) => ["-u", url]),
    ...(spec.args ?? []),
  ];
  const proc = await spawnReady(`dev server :${spec.port}`, args, {}, /listening on/);
  return { ...proc, url: `http://127.0.0.1:${spec.port}` };
}

export interface AppSpec {
  port: number;
  serverUrl: string;
  effectsFile: string;
  /** Extra environment (a fault mode, a signing key). */
  env?: Record<string, string>;
}

export interface AppProcess extends Proc {
  url: string;
}

/** The fault app (`app/fault-app.ts`): real `inngest/node` serve handlers in a process of its own. */
export async function startApp(spec: AppSpec): Promise<AppProcess> {
  const proc = await spawnReady(
    `fault app :${spec.port}`,
    [faultApp],
    {
      PORT: String(spec.port),
      DEV_SERVER_URL: spec.serverUrl,
      EFFECTS_FILE: spec.effectsFile,
      ...spec.env,
    },
    /fault-app listening/,
  );
  return { ...proc, url: `http://127.0.0.1:${spec.port}/api/inngest` };
}
