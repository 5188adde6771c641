import { type BenchReport, formatRatio, formatValue, METRICS, type TargetId } from "./report";
import { ratio } from "./stats";

/**
 * The chart the README shows: one small panel per metric, one horizontal bar per target (the
 * floor first), the bar at the median, a whisker from the lowest to the highest round. Plain SVG
 * with no script or external font, so GitHub renders it as an image.
 */

const COLORS: Record<TargetId, string> = {
  node: "#6b7280",
  next: "#111827",
  astro: "#e8590c",
  remix: "#1c7ed6",
};

const COLUMNS = 3;
const PANEL_WIDTH = 320;
const BAR_HEIGHT = 16;
const ROW_HEIGHT = 24;
const PANEL_TOP = 42;
const LABEL_WIDTH = 92;
const VALUE_WIDTH = 92;
const HEADER_HEIGHT = 64;
const FOOTER_HEIGHT = 56;

export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** A number for an SVG attribute: at most two decimals, no trailing zeros. */
const n = (value: number) => String(Math.round(value * 100) / 100);

export function renderSvg(report: BenchReport): string {
  const floor = report.targets.find((target) => target.id === report.config.floor);
  const targets = [
    ...(floor ? [floor] : []),
    ...report.targets.filter((target) => target !== floor),
  ];
  const metrics = METRICS.filter(
    (metric) => metric.chart && targets.some((target) => target.metrics[metric.id] !== undefined),
  );
  const panelHeight = PANEL_TOP + targets.length * ROW_HEIGHT + 16;
  const rows = Math.ceil(metrics.length / COLUMNS);
  const width = COLUMNS * PANEL_WIDTH + 16;
  const height = HEADER_HEIGHT + rows * panelHeight + FOOTER_HEIGHT;
  const parts: string[] = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`,
    `<title>${escapeXml(`Inngest adapters compared: ${targets.map((t) => t.label).join(", ")}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="600" fill="#111827">${escapeXml("Inngest functions through Next.js, Astro and Remix, beside bare inngest/node")}</text>`,
  );
  // Legend.
  let legendX = 16;
  for (const target of targets) {
    const label = target === floor ? `${target.label} (floor)` : target.label;
    parts.push(
      `<rect x="${legendX}" y="38" width="10" height="10" fill="${COLORS[target.id]}"/>`,
      `<text x="${legendX + 14}" y="47" fill="#374151">${escapeXml(label)}</text>`,
    );
    legendX += 24 + label.length * 6.2;
  }

  metrics.forEach((metric, index) => {
    const x0 = 8 + (index % COLUMNS) * PANEL_WIDTH;
    const y0 = HEADER_HEIGHT + Math.floor(index / COLUMNS) * panelHeight;
    const barMax = PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH - 16;
    const top = Math.max(
      ...targets.map((target) => {
        const summary = target.metrics[metric.id];
        return summary ? Math.max(summary.max, summary.median) : 0;
      }),
    );
    const scale = top > 0 && Number.isFinite(top) ? barMax / top : 0;
    parts.push(
      `<g transform="translate(${n(x0)},${n(y0)})">`,
      `<rect x="0" y="0" width="${PANEL_WIDTH - 8}" height="${panelHeight - 8}" rx="6" fill="#f9fafb" stroke="#e5e7eb"/>`,
      `<text x="10" y="18" font-weight="600" fill="#111827">${escapeXml(metric.title)}</text>`,
      `<text x="10" y="33" fill="#6b7280">${escapeXml(`${metric.unit}, ${metric.better} is better`)}</text>`,
    );
    targets.forEach((target, row) => {
      const summary = target.metrics[metric.id];
      const y = PANEL_TOP + row * ROW_HEIGHT;
      parts.push(
        `<text x="10" y="${n(y + BAR_HEIGHT - 4)}" fill="#374151">${escapeXml(target.label)}</text>`,
      );
      if (!summary || !Number.isFinite(summary.median)) {
        parts.push(
          `<text x="${LABEL_WIDTH}" y="${n(y + BAR_HEIGHT - 4)}" fill="#9ca3af">n/a</text>`,
        );
        return;
      }
      const barWidth = Math.max(1, summary.median * scale);
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${n(y)}" width="${n(barWidth)}" height="${BAR_HEIGHT}" rx="2" fill="${COLORS[target.id]}"><title>${escapeXml(
          `${target.label}: median ${formatValue(summary.median, metric.digits)} ${metric.unit}, rounds ${summary.rounds
            .map((value) => formatValue(value, metric.digits))
            .join(", ")}`,
        )}</title></rect>`,
      );
      if (summary.rounds.length > 1 && summary.max > summary.min) {
        const x1 = LABEL_WIDTH + summary.min * scale;
        const x2 = LABEL_WIDTH + summary.max * scale;
        const mid = y + BAR_HEIGHT / 2;
        parts.push(
          `<path d="M${n(x1)} ${n(mid)}H${n(x2)}M${n(x1)} ${n(mid - 4)}V${n(mid + 4)}M${n(x2)} ${n(mid - 4)}V${n(mid + 4)}" stroke="#9ca3af" stroke-width="1.5" fill="none"/>`,
        );
      }
      const valueX = LABEL_WIDTH + Math.max(barWidth, summary.max * scale) + 6;
      const base = target === floor ? undefined : floor?.metrics[metric.id];
      const label =
        formatValue(summary.median, metric.digits) +
        (base ? ` ${formatRatio(ratio(summary.median, base.median))}` : "");
      parts.push(
        `<text x="${n(valueX)}" y="${n(y + BAR_HEIGHT - 4)}" fill="#111827">${escapeXml(label)}</text>`,
      );
    });
    parts.push("</g>");
  });

  const { machine, config } = report;
  const footer = [
    `Bars: median of ${config.rounds} round${config.rounds === 1 ? "" : "s"}${config.quick ? " (--quick smoke run)" : ""}; whiskers: lowest to highest round; ×: the app's median ÷ the floor's.`,
    "Same functions, same load, targets interleaved, each server started by its own start script; app databases: " +
      `${config.database}.`,
    `${report.date.slice(0, 10)} · ${machine.cpus} × ${machine.cpuModel} · ${machine.memoryGb} GB · load average at start ${machine.loadAverageAtStart[0] ?? "?"} · Node ${report.versions.node} · inngest ${report.versions.inngest ?? "?"} · pnpm bench (tooling/bench)`,
  ];
  footer.forEach((line, index) => {
    parts.push(
      `<text x="16" y="${height - FOOTER_HEIGHT + 14 + index * 15}" fill="#6b7280">${escapeXml(line)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
