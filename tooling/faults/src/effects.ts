import { existsSync, readFileSync } from "node:fs";

/**
 * The side effects the fault app's step bodies recorded (`app/fault-app.ts`), and what they say:
 * which steps ran, which ran more than once, and how many bodies ran at the same time.
 */

export interface Effect {
  /** A step body's start or end, or a call's arrival at the app (before the SDK handles it). */
  kind: "start" | "end" | "call";
  fn: string;
  run: string;
  step: string;
  pid: number;
  at: number;
}

export function readEffects(file: string): Effect[] {
  if (!existsSync(file)) return [];
  const effects: Effect[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    try {
      effects.push(JSON.parse(line) as Effect);
    } catch {
      // A line cut by a kill mid-write: its body had not finished, so it is not a side effect.
    }
  }
  return effects;
}

export interface StepExecutions {
  run: string;
  step: string;
  starts: Effect[];
  ends: Effect[];
}

export interface EffectSummary {
  /** Each (run, step) that ran, with every start and end of its body. */
  steps: Map<string, StepExecutions>;
  /** Step bodies that finished more than once: their side effect happened twice. */
  duplicated: StepExecutions[];
  /** The most step bodies running at once (bodies of a killed process end with it). */
  worstConcurrency: number;
  /** Bodies that finished. */
  ends: number;
}

export function summarise(effects: Effect[], fn?: string): EffectSummary {
  const steps = new Map<string, StepExecutions>();
  const running = new Map<string, number>();
  const pidsSeen = new Set<number>();
  let worstConcurrency = 0;
  let ends = 0;
  for (const effect of effects) {
    if (effect.kind === "call" || (fn && effect.fn !== fn)) continue;
    if (!pidsSeen.has(effect.pid)) {
      // The app runs one process at a time: a new one means the old one is dead, and so are the
      // bodies it was running.
      pidsSeen.add(effect.pid);
      for (const key of running.keys()) {
        if (!key.startsWith(`${effect.pid}/`)) running.delete(key);
      }
    }
    const key = `${effect.run}/${effect.step}`;
    let executions = steps.get(key);
    if (!executions) {
      executions = { run: effect.run, step: effect.step, starts: [], ends: [] };
      steps.set(key, executions);
    }
    const bodyKey = `${effect.pid}/${key}`;
    if (effect.kind === "start") {
      executions.starts.push(effect);
      running.set(bodyKey, (running.get(bodyKey) ?? 0) + 1);
      let now = 0;
      for (const count of running.values()) now += count;
      worstConcurrency = Math.max(worstConcurrency, now);
    } else {
      executions.ends.push(effect);
      ends++;
      const left = (running.get(bodyKey) ?? 1) - 1;
      if (left > 0) running.set(bodyKey, left);
      else running.delete(bodyKey);
    }
  }
  const duplicated = [...steps.values()].filter((executions) => executions.ends.length > 1);
  return { steps, duplicated, worstConcurrency, ends };
}

/**
 * Of the steps that finished more than once, those a fault lasting `from`..`to` explains: every
 * body but the last started before the fault ended and finished no earlier than `windowMs` before
 * it began (it was running, or its answer was on its way to the server or being committed, when
 * the fault hit; a step retried during the fault may run more than twice), and the last one
 * started after the fault began. Anything else is a memoized step that ran again.
 */
export function splitByFault(
  duplicated: StepExecutions[],
  fault: { from: number; to: number },
  windowMs: number,
): { inFlight: StepExecutions[]; unexplained: StepExecutions[] } {
  const inFlight: StepExecutions[] = [];
  const unexplained: StepExecutions[] = [];
  for (const executions of duplicated) {
    const { starts, ends } = executions;
    const last = starts.at(-1) ?? ends.at(-1);
    const explained =
      ends.length >= 2 &&
      ends
        .slice(0, -1)
        .every(
          (end, index) =>
            end.at >= fault.from - windowMs && (starts[index]?.at ?? end.at) <= fault.to,
        ) &&
      last !== undefined &&
      last.at >= fault.from;
    (explained ? inFlight : unexplained).push(executions);
  }
  return { inFlight, unexplained };
}
