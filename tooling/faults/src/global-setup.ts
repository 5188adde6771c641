import { mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { markdownTable, readRows } from "./table";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where scenarios append their rows (JSON lines). */
    rowsFile: string;
  }
}

/** Gives the scenarios a rows file; at the end, prints their table and writes it as markdown. */
export default function setup(project: TestProject) {
  const startedAt = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "fault-suite-"));
  const rowsFile = join(dir, "rows.jsonl");
  project.provide("rowsFile", rowsFile);
  return () => {
    const rows = readRows(rowsFile);
    const load = loadavg()
      .map((value) => value.toFixed(2))
      .join(" ");
    const footer = `${rows.length} scenario(s) in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; load average at the end ${load} (1, 5, 15 min); ${new Date().toISOString()}`;
    const markdown = `${markdownTable(rows)}\n\n${footer}\n`;
    const file = join(dir, "faults.md");
    writeFileSync(file, markdown);
    console.log(`\nThe fault suite\n\n${markdown}\nwritten to ${file}`);
  };
}
