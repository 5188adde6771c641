import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type {
  FullConfig,
  FullResult,
  Reporter,
  Suite,
  TestCase,
  TestResult,
} from "@playwright/test/reporter";

/**
 * The conformance matrix: flow × app, each cell passed / failed / skipped with its time, printed at
 * the end of the run and written to e2e/conformance-matrix.md and .json (git-ignored). A flow is the
 * top `test.describe` of a spec (named by the flow id); a cell sums the flow's tests on that app:
 * failed if any failed, skipped if all were skipped, else passed.
 *
 * Projects that are not apps (the dev server's own UI) get a section of their own below the
 * matrix, a row per describe, so that their rows do not fill the app columns with "not run".
 */

type Outcome = "passed" | "failed" | "skipped";

interface Cell {
  outcome: Outcome;
  ms: number;
  tests: { title: string; outcome: Outcome; ms: number; reason?: string }[];
}

/** What the whole run (three apps, every flow) must fit in on a 2-core machine (issue 6). */
const BUDGET_MS = 10 * 60_000;

const MATRIX_MD = fileURLToPath(new URL("../conformance-matrix.md", import.meta.url));
const MATRIX_JSON = fileURLToPath(new URL("../conformance-matrix.json", import.meta.url));
/** Projects reported apart from the flow × app matrix. */
const SEPARATE_PROJECTS = new Set(["dev-server-ui"]);

function outcomeOf(test: TestCase, result: TestResult): Outcome {
  if (result.status === "skipped") return "skipped";
  return test.outcome() === "expected" || test.outcome() === "flaky" ? "passed" : "failed";
}

/** The flow a test belongs to: its outermost describe, or its file name. */
function flowOf(test: TestCase): string {
  const path = test.titlePath(); // ["", project, file, describe..., title]
  return path.length > 4 ? (path[3] ?? "?") : (path[2] ?? "?").replace(/\.spec\.ts$/, "");
}

export default class ConformanceReporter implements Reporter {
  private readonly cells = new Map<string, Map<string, Cell>>();
  private projects: string[] = [];
  /** Set when Playwright loads the reporter, before the servers start: the total includes them. */
  private readonly started = Date.now();
  private testsStarted = Date.now();

  onBegin(config: FullConfig, _suite: Suite): void {
    this.projects = config.projects
      .map((project) => project.name)
      .filter((name) => !SEPARATE_PROJECTS.has(name));
    this.testsStarted = Date.now();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const project = test.parent.project()?.name ?? "?";
    // A separate project's rows are keyed by project too: they never share a row with a flow.
    const flow = SEPARATE_PROJECTS.has(project) ? `${project}\u0000${flowOf(test)}` : flowOf(test);
    const outcome = outcomeOf(test, result);
    const row = this.cells.get(flow) ?? new Map<string, Cell>();
    this.cells.set(flow, row);
    const cell = row.get(project) ?? { outcome: "skipped", ms: 0, tests: [] };
    // A retried test reports each attempt: keep its last.
    cell.tests = cell.tests.filter((entry) => entry.title !== test.title);
    const reason = test.annotations.find((annotation) => annotation.type === "skip")?.description;
    cell.tests.push({
      title: test.title,
      outcome,
      ms: result.duration,
      ...(reason ? { reason } : {}),
    });
    cell.ms = cell.tests.reduce((sum, entry) => sum + entry.ms, 0);
    cell.outcome = cell.tests.some((entry) => entry.outcome === "failed")
      ? "failed"
      : cell.tests.every((entry) => entry.outcome === "skipped")
        ? "skipped"
        : "passed";
    row.set(project, cell);
  }

  onEnd(result: FullResult): void {
    const totalMs = Date.now() - this.started;
    const testsMs = Date.now() - this.testsStarted;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const header = `| flow | ${this.projects.join(" | ")} |`;
    const rule = `|---|${this.projects.map(() => "---").join("|")}|`;
    const matrix = [...this.cells.entries()].filter(([flow]) => !flow.includes("\u0000"));
    const separate = [...this.cells.entries()].filter(([flow]) => flow.includes("\u0000"));
    const rows = matrix.map(([flow, row]) => {
      const cells = this.projects.map((project) => {
        const cell = row.get(project);
        return cell ? `${cell.outcome} (${seconds(cell.ms)})` : "not run";
      });
      return `| ${flow} | ${cells.join(" | ")} |`;
    });
    const sections = [...SEPARATE_PROJECTS].flatMap((project) => {
      const lines = separate.flatMap(([key, row]) => {
        const cell = row.get(project);
        return cell
          ? [`| ${key.split("\u0000")[1]} | ${cell.outcome} (${seconds(cell.ms)}) |`]
          : [];
      });
      return lines.length > 0
        ? ["", `## ${project}`, "", `| spec | ${project} |`, "|---|---|", ...lines]
        : [];
    });
    const skips = [...this.cells.entries()].flatMap(([key, row]) =>
      [...row.entries()].flatMap(([project, cell]) =>
        cell.tests
          .filter((entry) => entry.reason)
          .map(
            (entry) =>
              `- ${key.split("\u0000").pop()} on ${project}: "${entry.title}" skipped: ${entry.reason}`,
          ),
      ),
    );
    const markdown = [
      "# Conformance matrix",
      "",
      `Run ${new Date(this.started).toISOString()}: ${result.status}; total ${seconds(totalMs)} ` +
        `(servers' start-up, then ${seconds(testsMs)} of tests); ` +
        `${totalMs <= BUDGET_MS ? "within" : "OVER"} the suite's budget of ${BUDGET_MS / 60_000} min.`,
      "",
      header,
      rule,
      ...rows,
      ...sections,
      ...(skips.length > 0 ? ["", ...skips] : []),
      "",
    ].join("\n");
    writeFileSync(MATRIX_MD, markdown);
    writeFileSync(
      MATRIX_JSON,
      `${JSON.stringify(
        {
          startedAt: new Date(this.started).toISOString(),
          status: result.status,
          totalMs,
          testsMs,
          projects: this.projects,
          flows: Object.fromEntries(matrix.map(([flow, row]) => [flow, Object.fromEntries(row)])),
          separate: Object.fromEntries(
            separate.map(([key, row]) => [key.replace("\u0000", " › "), Object.fromEntries(row)]),
          ),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\n${markdown}\nWritten to ${MATRIX_MD} (and .json).`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
