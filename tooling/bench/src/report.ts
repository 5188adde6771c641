import type { Summary } from "./stats";

/** What `pnpm bench` writes to docs/bench/adapters.json, and what the table and chart are drawn from. */

export type TargetId = "node" | "next" | "astro" | "remix";

export type MetricId =
  | "stepP50Ms"
  | "stepP99Ms"
  | "callsPerSec"
  | "stepLoadedP50Ms"
  | "stepLoadedP99Ms"
  | "runP50Ms"
  | "runP99Ms"
  | "runsPerSec"
  | "coldStartMs"
  | "rssIdleMb"
  | "rssLoadMb"
  | "buildSeconds"
  | "bundleKb";

export interface MetricDef {
  id: MetricId;
  /** Column header in the table. */
  header: string;
  /** Panel title in the chart. */
  title: string;
  unit: string;
  better: "lower" | "higher";
  digits: number;
  /** Drawn in the chart (the table has every metric). */
  chart: boolean;
}

/** Every metric, in table order. */
export const METRICS: readonly MetricDef[] = [
  {
    id: "stepP50Ms",
    header: "step p50 ms, 1 conn",
    title: "Step call p50 (1 connection)",
    unit: "ms",
    better: "lower",
    digits: 2,
    chart: true,
  },
  {
    id: "stepP99Ms",
    header: "step p99 ms, 1 conn",
    title: "Step call p99 (1 connection)",
    unit: "ms",
    better: "lower",
    digits: 2,
    chart: false,
  },
  {
    id: "callsPerSec",
    header: "step calls/s, 10 conn",
    title: "Step calls/s (10 connections)",
    unit: "calls/s",
    better: "higher",
    digits: 0,
    chart: true,
  },
  {
    id: "stepLoadedP50Ms",
    header: "step p50 ms, 10 conn",
    title: "Step call p50 (10 connections)",
    unit: "ms",
    better: "lower",
    digits: 2,
    chart: false,
  },
  {
    id: "stepLoadedP99Ms",
    header: "step p99 ms, 10 conn",
    title: "Step call p99 (10 connections)",
    unit: "ms",
    better: "lower",
    digits: 2,
    chart: false,
  },
  {
    id: "runP50Ms",
    header: "run p50 ms",
    title: "3-step run p50 (event → completed)",
    unit: "ms",
    better: "lower",
    digits: 1,
    chart: true,
  },
  {
    id: "runP99Ms",
    header: "run p99 ms",
    title: "3-step run p99 (event → completed)",
    unit: "ms",
    better: "lower",
    digits: 1,
    chart: false,
  },
  {
    id: "runsPerSec",
    header: "runs/s, 1,000 in flight",
    title: "3-step runs/s (1,000 in flight)",
    unit: "runs/s",
    better: "higher",
    digits: 0,
    chart: true,
  },
  {
    id: "coldStartMs",
    header: "cold start ms",
    title: "Cold start to first answer",
    unit: "ms",
    better: "lower",
    digits: 0,
    chart: true,
  },
  {
    id: "rssIdleMb",
    header: "RSS idle MB",
    title: "Memory (RSS) idle",
    unit: "MB",
    better: "lower",
    digits: 0,
    chart: true,
  },
  {
    id: "rssLoadMb",
    header: "RSS load MB",
    title: "Memory (RSS) under load, peak",
    unit: "MB",
    better: "lower",
    digits: 0,
    chart: true,
  },
  {
    id: "buildSeconds",
    header: "build s",
    title: "Production build time",
    unit: "s",
    better: "lower",
    digits: 1,
    chart: true,
  },
  {
    id: "bundleKb",
    header: "server bundle KB",
    title: "Server bundle size",
    unit: "KB",
    better: "lower",
    digits: 0,
    chart: true,
  },
];

export interface TargetResult {
  id: TargetId;
  /** Human name, e.g. "Next.js 16 (next start)". */
  label: string;
  /** What the bundle size counts, e.g. "apps/next/.next/server (excluding *.map)". */
  bundle: string;
  metrics: Partial<Record<MetricId, Summary>>;
}

export interface BenchReport {
  schema: 1;
  /** ISO date of the run's end. */
  date: string;
  machine: {
    platform: string;
    release: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    loadAverageAtStart: number[];
  };
  versions: Record<string, string>;
  config: {
    rounds: number;
    quick: boolean;
    /** The id every ratio is against. */
    floor: TargetId;
    database: string;
    /** The names of the environment variables each app server was started with, and no others. */
    serverEnv: string[];
    stepCall: {
      unloadedSeconds: number;
      loadedSeconds: number;
      warmupSeconds: number;
      connections: number;
    };
    runLatency: { runs: number };
    throughput: { runs: number; devServerMaxInFlight: number };
    devServer: string;
    order: TargetId[][];
  };
  targets: TargetResult[];
}

/** The value of a metric as printed: fixed digits, thousands separated for big numbers. */
export function formatValue(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A ratio as printed: ×1.48 below 10, ×18.3 below 100, ×208 above. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return "×n/a";
  return `×${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)}`;
}
