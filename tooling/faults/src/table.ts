import { appendFileSync, existsSync, readFileSync } from "node:fs";

/**
 * The suite's table: one row per scenario, appended by the scenario (each runs in a worker of its
 * own) to the run's rows file, printed and written as markdown by the global teardown.
 */

export interface Row {
  scenario: string;
  load: string;
  fault: string;
  completed: string;
  lost: number;
  duplicated: string;
  worstConcurrency: string;
  recovery: string;
}

const columns: [keyof Row, string][] = [
  ["scenario", "scenario"],
  ["load", "load"],
  ["fault", "fault"],
  ["completed", "completed"],
  ["lost", "lost"],
  ["duplicated", "duplicated"],
  ["worstConcurrency", "worst concurrency"],
  ["recovery", "recovery time"],
];

export function appendRow(file: string, row: Row): void {
  appendFileSync(file, `${JSON.stringify(row)}\n`);
  console.log(`fault suite row: ${columns.map(([key]) => row[key]).join(" | ")}`);
}

export function readRows(file: string): Row[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Row)
    .sort((a, b) => a.scenario.localeCompare(b.scenario, "en", { numeric: true }));
}

export function markdownTable(rows: Row[]): string {
  const cells = [
    columns.map(([, title]) => title),
    ...rows.map((row) => columns.map(([key]) => String(row[key]))),
  ];
  const widths = columns.map((_, index) =>
    Math.max(3, ...cells.map((line) => (line[index] ?? "").length)),
  );
  const line = (values: string[]) =>
    `| ${values.map((value, index) => value.padEnd(widths[index] ?? 0)).join(" | ")} |`;
  const [head = [], ...body] = cells;
  return [line(head), line(widths.map((width) => "-".repeat(width))), ...body.map(line)].join("\n");
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
