import { existsSync, readFileSync } from "node:fs";

/**
 * The side effects the fault app's step bodies recorded (`app/fault-app.ts`), and what they say:
 * which steps ran, which ran more than once, and how many bodies ran at the same time.
 */

export interface Effect {
  kind: "start" | "end";
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
    if (fn && effect.fn !== fn) continue;
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
 * Of the steps that finished twice, those a crash at `crashAt` explains: the first body was still
 * running, or had finished within `windowMs` before the crash (its answer was on its way to the
 * server, or being committed), and the second started after the crash. Anything else is a memoized
 * step that ran again.
 */
export function splitByCrash(
  duplicated: StepExecutions[],
  crashAt: number,
  windowMs: number,
): { inFlight: StepExecutions[]; unexplained: StepExecutions[] } {
  const inFlight: StepExecutions[] = [];
  const unexplained: StepExecutions[] = [];
  for (const executions of duplicated) {
    const [first, second, third] = executions.ends;
    const secondStart = executions.starts[1];
    const explained =
      third === undefined &&
      first !== undefined &&
      second !== undefined &&
      first.at >= crashAt - windowMs &&
      (secondStart?.at ?? second.at) >= crashAt;
    (explained ? inFlight : unexplained).push(executions);
  }
  return { inFlight, unexplained };
}
