import { describe, expect, it } from "vitest";
import { formatRatio, formatValue } from "../src/report";
import { markdownTable, renderFootnote, renderTable } from "../src/table";
import { report, target } from "./fixtures";

describe("renderTable", () => {
  const results = report([
    target("next", "Next.js", { stepP50Ms: [2, 2.2, 1.8], callsPerSec: [400, 420, 380] }),
    target("node", "inngest/node", { stepP50Ms: [1, 1, 1], callsPerSec: [1000, 1000, 1000] }),
  ]);
  const lines = renderTable(results).split("\n");

  it("puts the floor in the first column whatever the order of the targets", () => {
    expect(lines[0]).toMatch(/^\| metric +\| inngest\/node \(floor\) +\| Next\.js +\|$/);
    expect(lines[1]).toMatch(/^\|-+\|-+\|-+\|$/);
  });

  it("shows each app's median, its ratio to the floor and its spread over the rounds", () => {
    const step = lines.find((line) => line.startsWith("| step p50 ms, 1 conn"));
    expect(step).toContain("| 1.00 ");
    expect(step).toContain("| 2.00 ×2.00 ±10% ");
    const calls = lines.find((line) => line.startsWith("| step calls/s"));
    expect(calls).toContain("| 400 ×0.40 ±5% ");
  });

  it("has one row per measured metric only, all rows as wide as the header", () => {
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });

  it("writes n/a for a metric a target lacks, and no spread for a single round", () => {
    const single = report(
      [
        target("node", "inngest/node", { coldStartMs: [300] }),
        target("astro", "Astro", { coldStartMs: [450], bundleKb: [100] }),
      ],
      1,
    );
    const text = renderTable(single);
    expect(text).toMatch(/\| cold start ms.*\| 300 +\| 450 ×1\.50 +\|/);
    expect(text).toMatch(/\| server bundle KB.*\| n\/a +\| 100 +\|/);
    expect(text).not.toContain("±");
  });
});

describe("markdownTable and formatting", () => {
  it("pads columns and escapes pipes in cells", () => {
    expect(markdownTable(["a", "bb"], [["x|y", "z"]])).toBe(
      ["| a    | bb  |", "|------|-----|", "| x\\|y | z   |"].join("\n"),
    );
  });

  it("formats values with thousands separators and ratios with two decimals below 10", () => {
    expect(formatValue(12345.678, 0)).toBe("12,346");
    expect(formatValue(Number.NaN, 2)).toBe("n/a");
    expect(formatRatio(1.456)).toBe("×1.46");
    expect(formatRatio(18.33)).toBe("×18.3");
    expect(formatRatio(208.49)).toBe("×208");
  });

  it("says in the footnote how many rounds, on what machine, against which database", () => {
    const text = renderFootnote(report([], 3));
    expect(text).toContain("Medians of 3 rounds");
    expect(text).toContain("2 × Test CPU, 24 GB");
    expect(text).toContain("PostgreSQL");
  });
});
