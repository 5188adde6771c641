/**
 * `pnpm dev:measure`: what `pnpm dev` costs a newcomer. Starts `pnpm dev` from the repository root
 * as on a fresh clone (framework caches and the dev databases removed first; `--warm` keeps them,
 * as on a second start), polls until the dev server reports the three apps synced, and prints the
 * seconds to each app listening, synced and serving its first flow page (with its results, read
 * from the app's database), then the CPU time and resident memory of every process of the run,
 * summed per app and in total (from /proc), at sync and after the pages: RSS, and after the pages
 * PSS too (the sum of RSS counts a page shared by several processes, such as the node executable,
 * once per process; the sum of PSS is what the processes hold together). Stops the run as Ctrl-C
 * would. The machine's load average is printed with every round: figures taken under load are
 * worth repeating (`--rounds N` prints the medians).
 *
 *   pnpm dev:measure [--rounds N] [--warm] [--json FILE] [--max-load L]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ProcessInfo, treeProcesses } from "./proc";
import { median } from "./stats";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const DEV_SERVER_PORT = 8288;
export const APPS = [
  { name: "next", port: 3001 },
  { name: "astro", port: 3002 },
  { name: "remix", port: 3003 },
] as const;
type AppName = (typeof APPS)[number]["name"];

/** What a fresh clone does not have: every framework's caches and build output, the databases. */
export const FRESH_CLONE_REMOVES = [
  "apps/next/.next",
  "apps/next/node_modules/.cache",
  "apps/astro/.astro",
  "apps/astro/node_modules/.astro",
  "apps/astro/node_modules/.vite",
  "apps/remix/.cache",
  "apps/remix/node_modules/.vite",
  "apps/next/.data",
  "apps/astro/.data",
  "apps/remix/.data",
  "packages/dev-server/.data",
];

/** What a first look at an app requests: a flow page, then the rows its functions wrote. */
const FIRST_PAGE = ["/flows/hello", "/api/flows/hello/results"];

const POLL_MS = 100;
const RSS_SAMPLE_MS = 500;

/** The group a process of the run belongs to: the package folder it runs in, else the runner. */
export function groupOf(process: Pick<ProcessInfo, "cwd">, repoRoot: string): string {
  const path = relative(repoRoot, process.cwd);
  if (path.startsWith("apps/")) return path.split("/")[1] ?? "runner";
  if (path.startsWith("packages/dev-server")) return "dev server";
  return "pnpm dev";
}

/** A figure (RSS in bytes, CPU seconds) summed per group. */
export function sumByGroup(
  processes: ProcessInfo[],
  repoRoot: string,
  figure: (process: ProcessInfo) => number,
): Map<string, number> {
  const groups = new Map<string, number>();
  for (const process of processes) {
    const group = groupOf(process, repoRoot);
    groups.set(group, (groups.get(group) ?? 0) + figure(process));
  }
  return groups;
}

const rssOf = (process: ProcessInfo) => process.rss;
const pssOf = (process: ProcessInfo) => process.pss;
const cpuOf = (process: ProcessInfo) => process.cpu;
const GROUPS = ["dev server", ...APPS.map((app) => app.name), "pnpm dev"] as const;
const GROUP_LABELS: Record<string, string> = { "pnpm dev": "pnpm dev (pnpm, runner)" };

interface Round {
  load: [number, number, number];
  loadAfter: [number, number, number];
  warm: boolean;
  devServerListening: number | null;
  listening: Record<AppName, number | null>;
  synced: Record<AppName, number | null>;
  /** Seconds for each app's first flow page and its results, after all were synced. */
  firstPage: Record<AppName, number | null>;
  allSynced: number | null;
  processesAtSync: ProcessInfo[];
  processesAfterPages: ProcessInfo[];
  peakTotal: number;
  stoppedIn: number;
  log: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function syncedApps(): Promise<Set<number>> {
  try {
    const response = await fetch(`http://127.0.0.1:${DEV_SERVER_PORT}/api/apps`, {
      signal: AbortSignal.timeout(2000),
    });
    const body = (await response.json()) as {
      data: { url: string; synced_since_start: boolean; error: string | null }[];
    };
    return new Set(
      body.data
        .filter((app) => app.synced_since_start && !app.error)
        .map((app) => Number(new URL(app.url).port)),
    );
  } catch {
    return new Set();
  }
}

const mb = (bytes: number) =>
  Number.isFinite(bytes) ? `${Math.round(bytes / 1024 / 1024)} MB` : "-";
const secs = (value: number | null) =>
  value === null || !Number.isFinite(value) ? "-" : `${value.toFixed(1)} s`;
const loadText = (load: number[]) => load.map((value) => value.toFixed(2)).join(" ");

async function waitForFreePorts(deadlineMs: number): Promise<void> {
  const ports = [DEV_SERVER_PORT, ...APPS.map((app) => app.port)];
  let said = false;
  for (;;) {
    const taken: number[] = [];
    for (const port of ports) if (await listening(port)) taken.push(port);
    if (taken.length === 0) return;
    if (Date.now() > deadlineMs)
      throw new Error(`ports ${taken.join(", ")} still taken: is another \`pnpm dev\` running?`);
    if (!said) console.log(`waiting for ports ${taken.join(", ")} to be free...`);
    said = true;
    await sleep(2000);
  }
}

async function waitForLoad(maxLoad: number, deadlineMs: number): Promise<void> {
  let said = false;
  while ((loadavg()[0] ?? 0) > maxLoad && Date.now() < deadlineMs) {
    if (!said) console.log(`load average ${loadText(loadavg())}: waiting for ≤ ${maxLoad}...`);
    said = true;
    await sleep(5000);
  }
}

function stop(run: ChildProcess, seen: Set<number>): Promise<number> {
  const started = Date.now();
  const pid = run.pid as number;
  try {
    process.kill(-pid, "SIGINT"); // as Ctrl-C: the whole foreground group (pnpm and dev.mjs)
  } catch {}
  return new Promise((resolve) => {
    const check = setInterval(() => {
      const alive = [...seen].filter((candidate) => {
        try {
          process.kill(candidate, 0);
          return true;
        } catch {
          return false;
        }
      });
      if (alive.length === 0 || Date.now() - started > 15_000) {
        clearInterval(check);
        for (const candidate of alive) {
          console.log(`still running 15 s after Ctrl-C, killed: ${candidate}`);
          try {
            process.kill(candidate, "SIGKILL");
          } catch {}
        }
        resolve((Date.now() - started) / 1000);
      }
    }, POLL_MS);
  });
}

async function measureOnce(warm: boolean, timeoutMs: number): Promise<Round> {
  if (!warm)
    for (const path of FRESH_CLONE_REMOVES)
      rmSync(join(root, path), { recursive: true, force: true });
  const log = join(tmpdir(), `dev-measure-${Date.now()}.log`);
  const out = createWriteStream(log);
  const load = loadavg() as [number, number, number];
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const run = spawn("pnpm", ["dev"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  run.stdout?.pipe(out);
  run.stderr?.pipe(out);
  const pid = run.pid as number;
  // Stopped with this script: the run is in its own process group, which a Ctrl-C here misses.
  const stopWithUs = () => {
    try {
      process.kill(-pid, "SIGINT");
    } catch {}
    process.exit(130);
  };
  process.once("SIGINT", stopWithUs);
  process.once("SIGTERM", stopWithUs);
  const seen = new Set<number>();
  let peakTotal = 0;
  const sampleRss = () => {
    const processes = treeProcesses(pid);
    for (const process of processes) seen.add(process.pid);
    peakTotal = Math.max(
      peakTotal,
      processes.reduce((sum, process) => sum + process.rss, 0),
    );
    return processes;
  };
  const sampler = setInterval(sampleRss, RSS_SAMPLE_MS);

  const none = () => ({ next: null, astro: null, remix: null }) as Record<AppName, number | null>;
  const round: Round = {
    load,
    loadAfter: load,
    warm,
    devServerListening: null,
    listening: none(),
    synced: none(),
    firstPage: none(),
    allSynced: null,
    processesAtSync: [],
    processesAfterPages: [],
    peakTotal: 0,
    stoppedIn: 0,
    log,
  };
  let exited = false;
  run.once("exit", () => {
    exited = true;
  });
  try {
    while (round.allSynced === null) {
      if (exited) throw new Error(`pnpm dev exited before all apps synced (log: ${log})`);
      if (performance.now() - start > timeoutMs)
        throw new Error(`not all apps synced after ${timeoutMs / 1000} s (log: ${log})`);
      if (round.devServerListening === null && (await listening(DEV_SERVER_PORT)))
        round.devServerListening = elapsed();
      for (const app of APPS) {
        if (round.listening[app.name] === null && (await listening(app.port)))
          round.listening[app.name] = elapsed();
      }
      if (round.devServerListening !== null) {
        const synced = await syncedApps();
        const now = elapsed();
        for (const app of APPS) {
          if (round.synced[app.name] === null && synced.has(app.port)) round.synced[app.name] = now;
        }
        if (APPS.every((app) => round.synced[app.name] !== null)) {
          round.allSynced = now;
          round.processesAtSync = sampleRss();
        }
      }
      if (round.allSynced === null) await sleep(POLL_MS);
    }
    // A newcomer's next step: a flow page (compiled on its first request), and its results as the
    // page's script reads them (the app's database opened and migrated by then).
    for (const app of APPS) {
      const pageStart = performance.now();
      for (const path of FIRST_PAGE) {
        const response = await fetch(`http://127.0.0.1:${app.port}${path}`, {
          signal: AbortSignal.timeout(120_000),
        });
        await response.text();
        if (!response.ok) throw new Error(`GET ${path} of ${app.name} answered ${response.status}`);
      }
      round.firstPage[app.name] = (performance.now() - pageStart) / 1000;
    }
    round.processesAfterPages = sampleRss();
  } finally {
    clearInterval(sampler);
    round.peakTotal = peakTotal;
    round.loadAfter = loadavg() as [number, number, number];
    round.stoppedIn = await stop(run, seen);
    process.off("SIGINT", stopWithUs);
    process.off("SIGTERM", stopWithUs);
    out.end();
  }
  return round;
}

/** The table of one round, or of the medians over rounds (`pick` chooses the value). */
function roundTable(rounds: Round[], pick: (values: number[]) => number): string[][] {
  const value = (get: (round: Round) => number | null) =>
    pick(rounds.map((round) => get(round) ?? Number.NaN));
  const group = (
    name: string,
    when: "processesAtSync" | "processesAfterPages",
    figure: (process: ProcessInfo) => number,
  ) => value((round) => sumByGroup(round[when], root, figure).get(name) ?? 0);
  const total = (
    when: "processesAtSync" | "processesAfterPages",
    figure: (process: ProcessInfo) => number,
  ) => value((round) => round[when].reduce((sum, process) => sum + figure(process), 0));
  const timing = (name: string, get: (round: Round) => number | null) =>
    name === "pnpm dev" ? "" : secs(value(get));
  return [
    [
      "",
      "listening",
      "synced",
      "first page",
      "CPU at sync",
      "CPU after pages",
      "RSS at sync",
      "RSS after pages",
      "PSS after pages",
    ],
    ...GROUPS.map((name) => {
      const app = APPS.find((candidate) => candidate.name === name);
      return [
        GROUP_LABELS[name] ?? name,
        timing(name, (round) => (app ? round.listening[app.name] : round.devServerListening)),
        app ? secs(value((round) => round.synced[app.name])) : "",
        app ? secs(value((round) => round.firstPage[app.name])) : "",
        secs(group(name, "processesAtSync", cpuOf)),
        secs(group(name, "processesAfterPages", cpuOf)),
        mb(group(name, "processesAtSync", rssOf)),
        mb(group(name, "processesAfterPages", rssOf)),
        mb(group(name, "processesAfterPages", pssOf)),
      ];
    }),
    [
      "all",
      "",
      secs(value((round) => round.allSynced)),
      "",
      secs(total("processesAtSync", cpuOf)),
      secs(total("processesAfterPages", cpuOf)),
      mb(total("processesAtSync", rssOf)),
      `${mb(total("processesAfterPages", rssOf))} (peak ${mb(value((round) => round.peakTotal))})`,
      mb(total("processesAfterPages", pssOf)),
    ],
  ];
}

function printRound(round: Round, index: number, rounds: number): void {
  const kind = round.warm
    ? "second start (caches and databases kept)"
    : "fresh clone (caches and databases removed)";
  console.log(
    `\nround ${index + 1}/${rounds} · ${kind} · load average ${loadText(round.load)} before,` +
      ` ${loadText(round.loadAfter)} after (${cpus().length} cores)`,
  );
  printTable(roundTable([round], (values) => values[0] ?? Number.NaN));
  for (const [label, processes] of [
    ["at sync", round.processesAtSync],
    ["after the first pages", round.processesAfterPages],
  ] as const) {
    console.log(`processes ${label} (RSS, PSS, CPU):`);
    for (const process of [...processes].sort((a, b) => b.rss - a.rss)) {
      console.log(
        `  ${String(process.pid).padStart(7)}  ${groupOf(process, root).padEnd(10)}` +
          ` ${mb(process.rss).padStart(7)} ${mb(process.pss).padStart(7)} ${secs(process.cpu).padStart(7)}` +
          `  ${process.command.slice(0, 90)}`,
      );
    }
  }
  console.log(`stopped in ${round.stoppedIn.toFixed(1)} s · output: ${round.log}`);
}

function printTable(rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  for (const row of rows) {
    console.log(
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join("  "),
    );
  }
}

function printMedians(rounds: Round[]): void {
  console.log(`\nmedians of ${rounds.length} rounds:`);
  printTable(roundTable(rounds, median));
  const loads = rounds.map((round) => round.load[0].toFixed(2)).join(", ");
  console.log(`load averages (1 min) before each round: ${loads}`);
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: "string", default: "1" },
      warm: { type: "boolean", default: false },
      json: { type: "string" },
      "max-load": { type: "string" },
      timeout: { type: "string", default: "180" },
    },
  });
  const rounds = Number(values.rounds);
  const maxLoad = Number(values["max-load"] ?? cpus().length);
  const timeoutMs = Number(values.timeout) * 1000;
  if (!(Number.isInteger(rounds) && rounds > 0))
    throw new Error("--rounds must be a whole number ≥ 1");
  const results: Round[] = [];
  for (let index = 0; index < rounds; index++) {
    await waitForFreePorts(Date.now() + 600_000);
    await waitForLoad(maxLoad, Date.now() + 120_000);
    const round = await measureOnce(values.warm, timeoutMs);
    printRound(round, index, rounds);
    results.push(round);
  }
  if (rounds > 1) printMedians(results);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(`dev:measure: ${(error as Error).message}`);
    process.exit(1);
  });
}
