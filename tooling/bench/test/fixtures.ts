import type { BenchReport, MetricId, TargetId, TargetResult } from "../src/report";
import { summarize } from "../src/stats";

export function target(
  id: TargetId,
  label: string,
  metrics: Partial<Record<MetricId, number[]>>,
): TargetResult {
  return {
    id,
    label,
    bundle: `${id}/server/** (excluding *.map and *.nft.json)`,
    metrics: Object.fromEntries(
      Object.entries(metrics).map(([metric, rounds]) => [metric, summarize(rounds as number[])]),
    ),
  };
}

export function report(targets: TargetResult[], rounds = 3): BenchReport {
  return {
    schema: 1,
    date: "2026-11-26T20:00:00.000Z",
    machine: {
      platform: "linux",
      release: "6.1",
      arch: "x64",
      cpus: 2,
      cpuModel: "Test CPU",
      memoryGb: 24,
      loadAverageAtStart: [0.1, 0.2, 0.3],
    },
    versions: { node: "20.20.2", inngest: "4.24.0" },
    config: {
      rounds,
      quick: false,
      floor: "node",
      database: "PostgreSQL (one database per app)",
      serverEnv: ["PATH", "PORT"],
      stepCall: { unloadedSeconds: 4, loadedSeconds: 10, warmupSeconds: 2, connections: 10 },
      runLatency: { runs: 100 },
      throughput: { runs: 1000, devServerMaxInFlight: 64 },
      devServer: "test",
      order: [],
    },
    targets,
  };
}
