import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/**
 * The dev server as users run it: its bin in a process of its own (so the bench's load generator
 * and the SDK app do not share its event loop), with the figures only a process has: how long it
 * took to listen, its memory (from /proc) and its CPU time.
 */
export interface ServerProcess {
  url: string;
  pid: number;
  /** From spawn to the first HTTP answer (ms). */
  listeningAfterMs: number;
  /** Resident memory now and at its peak (bytes), from /proc/<pid>/status. */
  memory(): { rss: number; peak: number };
  /** CPU time used so far (user + system, ms), from /proc/<pid>/stat. */
  cpuMs(): number;
  /** SIGTERM and wait; `kill9` instead kills it outright (a crash). */
  stop(options?: { kill9?: boolean }): Promise<void>;
}

const binPath = fileURLToPath(new URL("../bin/dev-server.mjs", import.meta.url));
const TICKS_PER_SECOND = 100;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * `DEV_SERVER_NODE_ARGS` adds Node flags to the server's process, e.g. to profile it:
 * `DEV_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" pnpm bench` (a profile is written
 * when the server exits cleanly).
 */
const nodeArgs = (process.env.DEV_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);

export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, binPath, "--port", String(port), ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let listeningAfterMs = Number.NaN;
  for (const deadline = Date.now() + 30_000; ; ) {
    if (child.exitCode !== null) throw new Error(`the dev server exited:\n${output}`);
    try {
      const response = await fetch(`${url}/dev`);
      await response.arrayBuffer();
      listeningAfterMs = performance.now() - started;
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the dev server did not listen:\n${output}`);
      await new Promise((next) => setTimeout(next, 5));
    }
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    listeningAfterMs,
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
      return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
    },
    cpuMs() {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
      return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
    },
    async stop(options) {
      if (child.exitCode === null) child.kill(options?.kill9 ? "SIGKILL" : "SIGTERM");
      await exited;
    },
  };
}
