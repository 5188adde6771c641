/**
 * `pnpm bench`: the three apps' Inngest adapters (Next.js, Astro, Remix), each beside a bare
 * `node:http` server mounting the same functions through `inngest/node` (the floor), measured the
 * same way in one run. What is measured and how: docs/adapters.md, "How it measures".
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createDatabase, migrate } from "@repo/db";
import { build as esbuild } from "esbuild";
import postgres from "postgres";
import { replaceBetweenMarkers } from "./docs";
import {
  functionSlug,
  loadStepCalls,
  runLatencies,
  runThroughput,
  verifyStepCall,
} from "./measure";
import { sampleTreeRss, treeRss } from "./proc";
import type { BenchReport, MetricId, TargetId, TargetResult } from "./report";
import { freePort, type Spawned, serverEnv, spawnShell, startDevServer, waitFor } from "./servers";
import { median, percentile, summarize } from "./stats";
import { renderSvg } from "./svg";
import { renderFootnote, renderTable } from "./table";
import {
  BENCH_DIR,
  bundleBytes,
  bundleDescription,
  REPO_ROOT,
  type Target,
  targets,
} from "./targets";

const USAGE = `Usage: pnpm bench [options]

Builds the production apps and measures each beside a bare inngest/node server, interleaved.

Options:
      --rounds <n>       rounds (default 3; --quick: 1); medians are reported, spread shown
      --quick            a smoke run: 1 round, short load windows, 20 sequential runs
      --only <ids>       comma-separated apps to measure (next,astro,remix); the floor always runs
      --out <dir>        where adapters.json and adapters.svg go (default docs/bench; --quick:
                         a temporary folder, so a smoke run does not replace the published figures)
      --database <kind>  postgres, pglite or auto (default auto: PostgreSQL when reachable at
                         BENCH_DATABASE_URL / TEST_DATABASE_URL / postgres://127.0.0.1:5432/postgres)
      --skip-build       measure the existing builds (no build time)
      --from <json>      measure nothing: print the table of a written adapters.json and draw
                         its chart again (beside it; and docs/adapters.md's table for docs/bench)
  -h, --help             this text
`;

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      rounds: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string" },
      database: { type: "string", default: "auto" },
      "skip-build": { type: "boolean", default: false },
      from: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
    strict: true,
  }).values;
}

function usageError(message: string): never {
  console.error(`pnpm bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

interface Settings {
  unloadedSeconds: number;
  warmupSeconds: number;
  loadedSeconds: number;
  connections: number;
  runs: number;
  inFlight: number;
}

// What one `pnpm bench` run measures and where it writes: set by `configure` when `main` runs,
// never at import (the bench's tests import its modules).
let values: ReturnType<typeof parseOptions>;
let quick: boolean;
let rounds: number;
let selected: Target[];
let skipBuild: boolean;
let settings: Settings;
/** Where the user ran `pnpm bench` (pnpm runs the script in tooling/bench): paths are from there. */
let invokedFrom: string;
let outDir: string;
/** Build and server logs; removed after a good run, kept (and named) after a failed one. */
let workDir = "";
let began = Date.now();

const fromUser = (path: string) => resolve(invokedFrom, path);

/** Parses the arguments and creates the folders the run writes to. */
function configure(argv: string[]): void {
  values = parseOptions(argv);
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  quick = values.quick;
  rounds = values.rounds === undefined ? (quick ? 1 : 3) : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20)
    usageError(`--rounds must be a whole number from 1 to 20, got "${values.rounds}"`);
  const allTargets = targets();
  const only = values.only
    ?.split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  for (const id of only ?? [])
    if (!allTargets.some((target) => target.id === id && id !== "node"))
      usageError(`--only takes next, astro and remix, got "${id}"`);
  selected = allTargets.filter(
    (target) => target.id === "node" || !only || only.includes(target.id),
  );
  if (!["auto", "postgres", "pglite"].includes(values.database))
    usageError(`--database must be auto, postgres or pglite, got "${values.database}"`);
  skipBuild = values["skip-build"];

  settings = quick
    ? {
        unloadedSeconds: 2,
        warmupSeconds: 1,
        loadedSeconds: 3,
        connections: 10,
        runs: 20,
        inFlight: 1000,
      }
    : {
        unloadedSeconds: 4,
        warmupSeconds: 2,
        loadedSeconds: 10,
        connections: 10,
        runs: 100,
        inFlight: 1000,
      };

  invokedFrom = process.env.INIT_CWD || process.cwd();
  // Nothing is created for `--from`, which measures nothing.
  const measuring = values.from === undefined;
  outDir = fromUser(
    values.out ??
      (quick && measuring
        ? mkdtempSync(join(tmpdir(), "inngest-bench-quick-"))
        : join(REPO_ROOT, "docs/bench")),
  );
  workDir = measuring ? mkdtempSync(join(tmpdir(), "inngest-bench-")) : "";
  began = Date.now();
}

const stamp = () => {
  const seconds = Math.round((Date.now() - began) / 1000);
  return `[${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}]`;
};
const log = (message: string) => console.log(`${stamp()} ${message}`);

// Every server the bench started, stopped on the way out whatever happens; and the databases it
// created, dropped.
const live = new Set<Spawned>();
let disposeDatabases: (() => Promise<void>) | undefined;
async function stopAll(): Promise<void> {
  await Promise.all([...live].map((spawned) => spawned.stop()));
  live.clear();
  const dispose = disposeDatabases;
  disposeDatabases = undefined;
  await dispose?.().catch((error: unknown) => {
    console.error(`could not drop the bench databases: ${(error as Error).message}`);
  });
}

// ------------------------------------------------------------------ databases

/**
 * Each app opens its database and applies the migrations at start. The bench gives each app its own
 * database, migrated beforehand, so that every cold start is a restart on an up-to-date database
 * (not round 1 paying for the migrations). PostgreSQL when reachable, as in production; else PGlite.
 */
interface AppDatabases {
  kind: "postgres" | "pglite";
  env(target: Target): Record<string, string>;
  dispose(): Promise<void>;
}

async function prepareDatabases(apps: Target[]): Promise<AppDatabases> {
  const adminUrl =
    process.env.BENCH_DATABASE_URL ||
    process.env.TEST_DATABASE_URL ||
    "postgres://127.0.0.1:5432/postgres";
  let usePostgres = values.database === "postgres";
  if (values.database === "auto") {
    const probe = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await probe`select 1`;
      usePostgres = true;
    } catch (error) {
      log(
        `PostgreSQL not reachable at ${redact(adminUrl)} (${(error as Error).message}): the apps use PGlite`,
      );
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
  if (usePostgres) {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const names = new Map(
      apps.map((target) => [target.id, `inngest_bench_${target.id}_${process.pid}`]),
    );
    const urlOf = (name: string) => {
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    };
    for (const name of names.values()) {
      await admin.unsafe(`drop database if exists "${name}"`);
      await admin.unsafe(`create database "${name}"`);
      const handle = createDatabase({ databaseUrl: urlOf(name), maxConnections: 1 });
      await migrate(handle);
      await handle.close();
    }
    return {
      kind: "postgres",
      env: (target) => ({ DATABASE_URL: urlOf(names.get(target.id) as string) }),
      async dispose() {
        for (const name of names.values())
          await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
        await admin.end({ timeout: 5 });
      },
    };
  }
  const dirs = new Map(apps.map((target) => [target.id, join(workDir, `pglite-${target.id}`)]));
  for (const dir of dirs.values()) {
    const handle = createDatabase({ dataDir: dir });
    await migrate(handle);
    await handle.close();
  }
  return {
    kind: "pglite",
    env: (target) => ({ PGLITE_DATA_DIR: dirs.get(target.id) as string }),
    async dispose() {},
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

// ------------------------------------------------------------------ build

const bins = (target: Target) => [
  join(target.dir, "node_modules/.bin"),
  join(REPO_ROOT, "node_modules/.bin"),
];

/** A fresh production build (outputs and caches removed first); answers the seconds it took. */
async function buildTarget(target: Target): Promise<number> {
  for (const path of target.clean) rmSync(join(target.dir, path), { recursive: true, force: true });
  const started = performance.now();
  if (target.id === "node") {
    await esbuild({
      entryPoints: [join(BENCH_DIR, "src/floor.ts")],
      outfile: join(BENCH_DIR, "dist/floor.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "error",
      // As the apps' Vite builds do: our workspace packages (TypeScript source) are bundled,
      // node_modules stay outside and are loaded from the bench's own dependencies.
      plugins: [
        {
          name: "node-modules-external",
          setup(build) {
            build.onResolve({ filter: /^[^./]/ }, (args) =>
              args.path.startsWith("@repo/") ? undefined : { path: args.path, external: true },
            );
          },
        },
      ],
    });
  } else {
    const logFile = join(workDir, `build-${target.id}.log`);
    const spawned = spawnShell(target.build as string, {
      cwd: target.dir,
      env: {
        ...process.env,
        PATH: [...bins(target), process.env.PATH].join(":"),
        NEXT_TELEMETRY_DISABLED: "1",
        ASTRO_TELEMETRY_DISABLED: "1",
        TURBO_TELEMETRY_DISABLED: "1",
      },
      logFile,
    });
    live.add(spawned);
    await new Promise<void>((done) => spawned.child.once("exit", () => done()));
    live.delete(spawned);
    if (spawned.exited() !== "exited with code 0")
      throw new Error(
        `build of ${target.id} ${spawned.exited()}; its output (${logFile}):\n${spawned.tail(30)}`,
      );
  }
  return (performance.now() - started) / 1000;
}

// ------------------------------------------------------------------ one slot: one target, one round

type Round = Partial<Record<MetricId, number>>;

async function measureSlot(target: Target, databases: AppDatabases, round: number): Promise<Round> {
  const result: Round = {};
  const tag = `round ${round} ${target.label}`;
  if (!skipBuild) {
    log(`${tag}: fresh production build`);
    result.buildSeconds = await buildTarget(target);
  } else if (!existsSync(join(target.dir, target.bundle))) {
    throw new Error(
      `--skip-build: ${relative(REPO_ROOT, join(target.dir, target.bundle))} is not there; build first`,
    );
  }
  result.bundleKb = bundleBytes(join(target.dir, target.bundle)) / 1024;

  const devServer = await startDevServer(
    await freePort(),
    join(workDir, `dev-server-${target.id}-${round}.log`),
  );
  live.add(devServer);
  const port = await freePort();
  const serveUrl = `http://127.0.0.1:${port}/api/inngest`;
  const env = serverEnv(
    {
      PORT: String(port),
      INNGEST_DEV: devServer.url,
      INNGEST_APP_ID: target.id,
      ...(target.id === "node" ? {} : databases.env(target)),
    },
    bins(target),
  );
  if (target.id !== "node") serverEnvNames = Object.keys(env).sort();
  log(`${tag}: cold start (${target.start})`);
  const startedAt = performance.now();
  const server = spawnShell(target.start, {
    cwd: target.dir,
    env,
    logFile: join(workDir, `server-${target.id}-${round}.log`),
  });
  live.add(server);
  try {
    await waitFor(
      `${target.id} to answer GET /api/inngest`,
      async () => {
        const response = await fetch(serveUrl);
        const body = (await response.json()) as { function_count?: number };
        return response.status === 200 && (body.function_count ?? 0) > 0 ? true : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 5,
        alive: () => (server.exited() ? `${server.exited()}:\n${server.tail()}` : undefined),
      },
    );
    result.coldStartMs = performance.now() - startedAt;

    // Idle: five samples over a second after the first answer, the median.
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((next) => setTimeout(next, 200));
      idle.push(treeRss(server.pid));
    }
    result.rssIdleMb = median(idle) / 1e6;

    const synced = (await (
      await fetch(`${devServer.url}/api/apps/sync`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: serveUrl }),
      })
    ).json()) as { data: { ok: boolean; error?: string }[] };
    if (!synced.data[0]?.ok)
      throw new Error(`the dev server could not sync ${serveUrl}: ${synced.data[0]?.error}`);
    const functions = (await (await fetch(`${devServer.url}/api/functions`)).json()) as {
      data: { slug: string }[];
    };
    if (!functions.data.some((fn) => fn.slug === functionSlug(target.id)))
      throw new Error(
        `${functionSlug(target.id)} is not among the functions the dev server synced`,
      );

    await verifyStepCall(serveUrl, target.id);
    const callUrl = `${serveUrl}?fnId=${functionSlug(target.id)}&stepId=step`;
    log(`${tag}: step calls, 1 connection for ${settings.unloadedSeconds} s`);
    const unloaded = await loadStepCalls(callUrl, {
      connections: 1,
      seconds: settings.unloadedSeconds,
    });
    result.stepP50Ms = unloaded.p50Ms;
    result.stepP99Ms = unloaded.p99Ms;
    log(
      `${tag}: step calls, ${settings.connections} connections for ${settings.warmupSeconds} + ${settings.loadedSeconds} s`,
    );
    await loadStepCalls(callUrl, {
      connections: settings.connections,
      seconds: settings.warmupSeconds,
    });
    const sampler = sampleTreeRss(server.pid);
    const loaded = await loadStepCalls(callUrl, {
      connections: settings.connections,
      seconds: settings.loadedSeconds,
    });
    result.callsPerSec = loaded.callsPerSec;
    result.stepLoadedP50Ms = loaded.p50Ms;
    result.stepLoadedP99Ms = loaded.p99Ms;

    log(`${tag}: ${settings.runs} runs one at a time, event → completed`);
    const latencies = await runLatencies(devServer.url, target.id, settings.runs);
    result.runP50Ms = percentile(latencies, 50);
    result.runP99Ms = percentile(latencies, 99);
    log(`${tag}: ${settings.inFlight} runs in flight`);
    result.runsPerSec = await runThroughput(devServer.url, target.id, settings.inFlight);
    result.rssLoadMb = sampler.stop() / 1e6;
  } catch (error) {
    throw new Error(
      `${tag}: ${(error as Error).message}\nserver output (${server.logFile}):\n${server.tail()}`,
    );
  } finally {
    await server.stop();
    live.delete(server);
    await devServer.stop();
    live.delete(devServer);
  }
  log(
    `${tag}: cold start ${result.coldStartMs?.toFixed(0)} ms, step p50 ${result.stepP50Ms?.toFixed(2)} ms, ` +
      `${result.callsPerSec?.toFixed(0)} calls/s, run p50 ${result.runP50Ms?.toFixed(1)} ms, ` +
      `${result.runsPerSec?.toFixed(0)} runs/s, RSS ${result.rssIdleMb?.toFixed(0)}/${result.rssLoadMb?.toFixed(0)} MB`,
  );
  return result;
}

/** The variables every app server got (the floor: the same but DATABASE_URL). */
let serverEnvNames: string[] = [];

function versionOf(dir: string, pkg: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(dir, "node_modules", pkg, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
  } catch {
    return "?";
  }
}

// ------------------------------------------------------------------ main

async function measureAll(): Promise<void> {
  const loadAtStart = loadavg();
  log(
    `pnpm bench: ${selected.map((target) => target.label).join(", ")}; ${rounds} round${rounds === 1 ? "" : "s"}` +
      `${quick ? " (--quick)" : ""}; logs in ${workDir}`,
  );
  const apps = selected.filter((target) => target.id !== "node");
  const databases = await prepareDatabases(apps);
  disposeDatabases = () => databases.dispose();
  log(`app databases: ${databases.kind}, one per app, migrated`);
  const perTarget = new Map<TargetId, Round[]>(selected.map((target) => [target.id, []]));
  const order: TargetId[][] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      // Each round starts one target later, so that no target always goes first (or last).
      const shift = (round - 1) % selected.length;
      const roundOrder = [...selected.slice(shift), ...selected.slice(0, shift)];
      order.push(roundOrder.map((target) => target.id));
      for (const target of roundOrder)
        (perTarget.get(target.id) as Round[]).push(await measureSlot(target, databases, round));
    }
  } finally {
    await stopAll();
  }

  const results: TargetResult[] = selected.map((target) => {
    const roundsOf = perTarget.get(target.id) as Round[];
    const metricIds = new Set(roundsOf.flatMap((round) => Object.keys(round) as MetricId[]));
    return {
      id: target.id,
      label: target.label,
      bundle: bundleDescription(target),
      metrics: Object.fromEntries(
        [...metricIds].map((id) => [
          id,
          summarize(roundsOf.map((round) => round[id] ?? Number.NaN)),
        ]),
      ),
    };
  });
  const cpuList = cpus();
  const report: BenchReport = {
    schema: 1,
    date: new Date().toISOString(),
    machine: {
      platform: platform(),
      release: release(),
      arch: arch(),
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model.trim() ?? "unknown CPU",
      memoryGb: Math.round(totalmem() / 2 ** 30),
      loadAverageAtStart: loadAtStart.map((load) => Math.round(load * 100) / 100),
    },
    versions: {
      node: process.versions.node,
      inngest: versionOf(BENCH_DIR, "inngest"),
      next: versionOf(join(REPO_ROOT, "apps/next"), "next"),
      astro: versionOf(join(REPO_ROOT, "apps/astro"), "astro"),
      "@astrojs/node": versionOf(join(REPO_ROOT, "apps/astro"), "@astrojs/node"),
      "@remix-run/serve": versionOf(join(REPO_ROOT, "apps/remix"), "@remix-run/serve"),
      autocannon: versionOf(BENCH_DIR, "autocannon"),
    },
    config: {
      rounds,
      quick,
      floor: "node",
      database:
        databases.kind === "postgres"
          ? "PostgreSQL (one database per app)"
          : "PGlite (one folder per app)",
      serverEnv: serverEnvNames,
      stepCall: {
        unloadedSeconds: settings.unloadedSeconds,
        loadedSeconds: settings.loadedSeconds,
        warmupSeconds: settings.warmupSeconds,
        connections: settings.connections,
      },
      runLatency: { runs: settings.runs },
      throughput: { runs: settings.inFlight, devServerMaxInFlight: 64 },
      devServer:
        "packages/dev-server, --storage memory://, a fresh one per target and round, only that target synced",
      order,
    },
    targets: results,
  };

  publish(report, outDir);
  rmSync(workDir, { recursive: true, force: true });
}

/** Prints the table, writes the JSON and the chart, and for docs/bench the table of docs/adapters.md. */
function publish(report: BenchReport, dir: string, writeJson = true): void {
  const table = renderTable(report);
  console.log(`\n${table}\n\n${renderFootnote(report)}\n`);
  mkdirSync(dir, { recursive: true });
  // NaN is not JSON: a metric that was not measured is written as null.
  if (writeJson)
    writeFileSync(
      join(dir, "adapters.json"),
      `${JSON.stringify(report, (_key, value) => (typeof value === "number" && !Number.isFinite(value) ? null : value), 2)}\n`,
    );
  writeFileSync(join(dir, "adapters.svg"), renderSvg(report));
  log(
    `wrote ${relative(invokedFrom, join(dir, writeJson ? "adapters.json" : "adapters.svg"))}${writeJson ? " and adapters.svg" : ""}`,
  );
  const docsPage = join(REPO_ROOT, "docs/adapters.md");
  if (resolve(dir) === join(REPO_ROOT, "docs/bench") && existsSync(docsPage)) {
    const page = readFileSync(docsPage, "utf8");
    const updated = replaceBetweenMarkers(
      page,
      "bench-table",
      `${table}\n\n${renderFootnote(report)}`,
    );
    if (updated !== page) {
      writeFileSync(docsPage, updated);
      log("updated the table in docs/adapters.md");
    }
  }
}

/** `--from`: a written report again, with the current table and chart code. */
function republish(file: string): void {
  const report = JSON.parse(readFileSync(file, "utf8"), (_key, value) =>
    value === null ? Number.NaN : value,
  ) as BenchReport;
  if (report.schema !== 1 || !Array.isArray(report.targets))
    throw new Error(`${file} is not an adapters.json written by pnpm bench (schema 1)`);
  publish(report, dirname(resolve(file)), false);
}

/** `pnpm bench [options]` (src/main.ts calls it). */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  configure(argv);
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the servers`);
      void stopAll().then(() => process.exit(130));
    });
  try {
    if (values.from) republish(fromUser(values.from));
    else await measureAll();
  } catch (error) {
    console.error(`\npnpm bench failed: ${error instanceof Error ? error.message : String(error)}`);
    if (workDir) console.error(`(server and build logs kept in ${workDir})`);
    await stopAll();
    process.exit(1);
  }
}
