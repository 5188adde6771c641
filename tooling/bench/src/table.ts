import {
  type BenchReport,
  formatRatio,
  formatValue,
  METRICS,
  type MetricDef,
  type TargetResult,
} from "./report";
import { ratio, relativeSpread, type Summary } from "./stats";

/**
 * The results as a Markdown table that also reads well in a terminal (columns padded): one row per
 * metric, one column per target, the floor first. A cell is the median over the rounds, the app's
 * ratio to the floor (×), and the spread over the rounds (± half the min-max range, as a share of
 * the median).
 */
export function renderTable(report: BenchReport): string {
  const floor = report.targets.find((target) => target.id === report.config.floor);
  const targets = [
    ...(floor ? [floor] : []),
    ...report.targets.filter((target) => target !== floor),
  ];
  const header = [
    "metric",
    ...targets.map((target) => (target === floor ? `${target.label} (floor)` : target.label)),
  ];
  const rows = METRICS.filter((metric) =>
    targets.some((target) => target.metrics[metric.id] !== undefined),
  ).map((metric) => [
    `${metric.header} (${metric.better} is better)`,
    ...targets.map((target) => cell(metric, target, target === floor ? undefined : floor)),
  ]);
  return markdownTable(header, rows);
}

function cell(metric: MetricDef, target: TargetResult, floor: TargetResult | undefined): string {
  const summary: Summary | undefined = target.metrics[metric.id];
  if (!summary) return "n/a";
  const parts = [formatValue(summary.median, metric.digits)];
  const base = floor?.metrics[metric.id];
  if (floor && base) parts.push(formatRatio(ratio(summary.median, base.median)));
  const spread = relativeSpread(summary);
  if (summary.rounds.length > 1 && Number.isFinite(spread))
    parts.push(`±${Math.round(spread * 100)}%`);
  return parts.join(" ");
}

/** A Markdown table with every column padded to its widest cell. Pipes in cells are escaped. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const escapePipes = (text: string) => text.replaceAll("|", "\\|");
  const all = [header, ...rows].map((row) => row.map(escapePipes));
  const widths = header.map((_, column) =>
    Math.max(3, ...all.map((row) => (row[column] ?? "").length)),
  );
  const line = (row: readonly string[]) =>
    `| ${widths.map((width, column) => (row[column] ?? "").padEnd(width)).join(" | ")} |`;
  return [
    line(all[0] as string[]),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...all.slice(1).map(line),
  ].join("\n");
}

/** The lines under the table: what the figures are, and on what machine they were measured. */
export function renderFootnote(report: BenchReport): string {
  const { machine, config } = report;
  return [
    `Medians of ${config.rounds} round${config.rounds === 1 ? "" : "s"}${config.quick ? " (--quick: a smoke run, not figures to quote)" : ""}; ` +
      "× = the app's median ÷ the floor's; ± = half the min-max range over the rounds, as a share of the median.",
    `${report.date.slice(0, 10)}, ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ` +
      `${machine.platform} ${machine.release}, Node ${report.versions.node}; load average at start ` +
      `${machine.loadAverageAtStart.map((load) => load.toFixed(2)).join(" ")}; app database: ${config.database}.`,
  ].join("\n");
}
