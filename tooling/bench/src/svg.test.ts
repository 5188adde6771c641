import { describe, expect, it } from "vitest";
import { report, target } from "../test/fixtures";
import { escapeXml, renderSvg } from "./svg";

const results = report([
  target("node", "inngest/node", { callsPerSec: [900, 1000, 1100], stepP99Ms: [3, 3, 3] }),
  target("next", "Next.js <16>", { callsPerSec: [400, 500, 450] }),
  target("astro", "Astro", { callsPerSec: [600, 600, 600] }),
]);
const svg = renderSvg(results);

describe("renderSvg", () => {
  it("is one SVG document with balanced groups", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<g /g)?.length).toBe(svg.match(/<\/g>/g)?.length);
  });

  it("draws one panel per charted metric: step p99 is in the table, not the chart", () => {
    expect(svg).toContain("Step calls/s (10 connections)");
    expect(svg).not.toContain("Step call p99");
    expect(svg.match(/<g /g)).toHaveLength(1);
  });

  it("draws bars to scale: the longest bar is the largest value's top (max of the rounds)", () => {
    const widths = [...svg.matchAll(/<rect x="92" y="[\d.]+" width="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(widths).toHaveLength(3);
    const [floor, next, astro] = widths as [number, number, number];
    // Scale: the panel's largest figure (floor max 1,100) fills the bar area.
    expect(floor / astro).toBeCloseTo(1000 / 600, 2);
    expect(next / floor).toBeCloseTo(450 / 1000, 2);
  });

  it("draws a whisker from min to max where the rounds differ, none where they agree", () => {
    expect(svg.match(/<path d="M/g)).toHaveLength(2);
  });

  it("labels apps with their ratio to the floor and escapes text", () => {
    expect(svg).toContain(">450 ×0.45<");
    expect(svg).toContain(">600 ×0.60<");
    expect(svg).toContain("Next.js &lt;16&gt;");
    expect(svg).not.toContain("Next.js <16>");
  });

  it("escapes the XML specials", () => {
    expect(escapeXml(`a<b>&"c"`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;");
  });
});
