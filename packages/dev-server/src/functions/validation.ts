import { Cron } from "croner";
import { parseDuration } from "../durations";
import { checkExpression } from "../expressions";
import type { JsonObject } from "../types";
import type { FunctionConfig } from "./config";

/**
 * What the server refuses at sync, as Inngest does (Go's `inngest.Function.Validate`): options out
 * of their bounds, durations that do not parse, and expressions that do not compile. Caught here, a mistake fails the sync with the function and option named, instead
 * of surfacing later as a run that never starts or a limit that silently does nothing.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Go's `consts.MaxRetries`. */
const MAX_RETRIES = 20;
/** Go's `consts.MaxCancellations`. */
const MAX_CANCELLATIONS = 5;
const MAX_BATCH_SIZE = 100;
const CONCURRENCY_SCOPES = ["fn", "env", "account"];
const SINGLETON_MODES = ["skip", "cancel"];

type Report = (option: string, problem: string) => void;

/** Problems with registered functions, each naming the function and the option. */
export function validateFunctions(functions: unknown): string[] {
  if (!Array.isArray(functions)) return ["functions must be an array of function configs"];
  const problems: string[] = [];
  const seen = new Set<string>();
  functions.forEach((candidate: unknown, index) => {
    if (!isObject(candidate) || typeof candidate.id !== "string" || !candidate.id) {
      problems.push(`functions[${index}] has no id`);
      return;
    }
    const fn = candidate as FunctionConfig;
    if (seen.has(fn.id)) problems.push(`function ${fn.id}: its id is used by two functions`);
    seen.add(fn.id);
    validateFunction(fn, (option, problem) =>
      problems.push(`function ${fn.id}: ${option} ${problem}`),
    );
  });
  return problems;
}

function validateFunction(fn: FunctionConfig, report: Report): void {
  const step = fn.steps?.step;
  if (!step?.runtime?.url) report("steps.step.runtime.url", "is missing");
  else if (!/^(https?|wss?):\/\//.test(step.runtime.url))
    report("steps.step.runtime.url", `must be an http(s) URL, got "${step.runtime.url}"`);
  const attempts = step?.retries?.attempts;
  if (attempts !== undefined) wholeNumber(report, "retries", attempts, 0, MAX_RETRIES);

  if (!Array.isArray(fn.triggers)) report("triggers", "must be an array");
  else {
    for (const [index, trigger] of fn.triggers.entries())
      validateTrigger(trigger, `triggers[${index}]`, report);
  }

  validateConcurrency(fn.concurrency, report);

  const rateLimit = fn.rateLimit;
  if (rateLimit !== undefined) {
    if (!isObject(rateLimit)) report("rateLimit", "must be an object");
    else {
      wholeNumber(report, "rateLimit.limit", rateLimit.limit, 1);
      duration(report, "rateLimit.period", rateLimit.period, { min: SECOND, max: DAY });
      expression(report, "rateLimit.key", rateLimit.key);
    }
  }

  const throttle = fn.throttle;
  if (throttle !== undefined) {
    if (!isObject(throttle)) report("throttle", "must be an object");
    else {
      // 0 is taken as 1 (Go normalises it), so it is allowed.
      wholeNumber(report, "throttle.limit", throttle.limit, 0);
      if (throttle.burst !== undefined) wholeNumber(report, "throttle.burst", throttle.burst, 0);
      duration(report, "throttle.period", throttle.period, { min: SECOND, max: 7 * DAY });
      expression(report, "throttle.key", throttle.key);
    }
  }

  const debounce = fn.debounce;
  if (debounce !== undefined) {
    if (!isObject(debounce)) report("debounce", "must be an object");
    else {
      duration(report, "debounce.period", debounce.period, { min: SECOND, max: 7 * DAY });
      if (debounce.timeout !== undefined)
        duration(report, "debounce.timeout", debounce.timeout, { min: SECOND, max: 7 * DAY });
      if (debounce.key !== "") expression(report, "debounce.key", debounce.key);
    }
  }

  const batch = fn.batchEvents;
  if (batch !== undefined) {
    if (!isObject(batch)) report("batchEvents", "must be an object");
    else {
      wholeNumber(report, "batchEvents.maxSize", batch.maxSize, 1, MAX_BATCH_SIZE);
      duration(report, "batchEvents.timeout", batch.timeout, { min: SECOND, max: MINUTE });
      expression(report, "batchEvents.key", batch.key);
      expression(report, "batchEvents.if", batch.if);
      // Go refuses these combinations: a batch has no single event to cancel, debounce or rank by.
      if (Array.isArray(fn.cancel) && fn.cancel.length > 0)
        report("batchEvents", "cannot be combined with cancelOn (Inngest refuses both)");
      if (fn.debounce !== undefined)
        report("batchEvents", "cannot be combined with debounce (Inngest refuses both)");
      if (isObject(fn.priority) && fn.priority.run !== undefined)
        report("batchEvents", "cannot be combined with priority.run (Inngest refuses both)");
    }
  }

  const timeouts = fn.timeouts;
  if (timeouts !== undefined) {
    if (!isObject(timeouts)) report("timeouts", "must be an object");
    else {
      for (const key of ["start", "finish"] as const) {
        if (timeouts[key] !== undefined)
          duration(report, `timeouts.${key}`, timeouts[key], { min: SECOND });
      }
    }
  }

  const priority = fn.priority;
  if (priority !== undefined) {
    if (!isObject(priority)) report("priority", "must be an object");
    else expression(report, "priority.run", priority.run);
  }

  const singleton = fn.singleton;
  if (singleton !== undefined) {
    if (!isObject(singleton)) report("singleton", "must be an object");
    else {
      if (!SINGLETON_MODES.includes(singleton.mode as string))
        report("singleton.mode", `must be "skip" or "cancel", got ${show(singleton.mode)}`);
      expression(report, "singleton.key", singleton.key);
    }
  }

  if (fn.idempotency !== undefined) expression(report, "idempotency", fn.idempotency);

  const cancel = fn.cancel;
  if (cancel !== undefined) {
    if (!Array.isArray(cancel)) report("cancel", "must be an array");
    else {
      if (cancel.length > MAX_CANCELLATIONS)
        report("cancel", `has ${cancel.length} entries; at most ${MAX_CANCELLATIONS} are allowed`);
      for (const [index, entry] of (cancel as unknown[]).entries()) {
        const where = `cancel[${index}]`;
        if (!isObject(entry)) {
          report(where, "must be an object");
          continue;
        }
        if (typeof entry.event !== "string" || !entry.event)
          report(`${where}.event`, "must be a non-empty event name");
        expression(report, `${where}.if`, entry.if);
        if (entry.timeout !== undefined && !isDate(entry.timeout))
          duration(report, `${where}.timeout`, entry.timeout, { min: SECOND });
      }
    }
  }
}

function validateTrigger(trigger: unknown, where: string, report: Report): void {
  if (!isObject(trigger)) {
    report(where, "must be an object");
    return;
  }
  if (trigger.event !== undefined) {
    if (typeof trigger.event !== "string" || !trigger.event)
      report(`${where}.event`, "must be a non-empty event name");
    expression(report, `${where}.expression`, trigger.expression);
    return;
  }
  if (trigger.cron !== undefined) {
    const problem = cronProblem(trigger.cron);
    if (problem) report(`${where}.cron`, problem);
    if (trigger.jitter !== undefined)
      duration(report, `${where}.jitter`, trigger.jitter, { min: SECOND, max: 5 * MINUTE });
    return;
  }
  report(where, 'needs "event" or "cron"');
}

function validateConcurrency(concurrency: unknown, report: Report): void {
  if (concurrency === undefined) return;
  if (typeof concurrency === "number") {
    wholeNumber(report, "concurrency", concurrency, 0);
    return;
  }
  const entries = Array.isArray(concurrency) ? concurrency : [concurrency];
  if (entries.length > 2)
    report("concurrency", `has ${entries.length} limits; at most 2 are allowed`);
  for (const [index, entry] of (entries as unknown[]).entries()) {
    const where = Array.isArray(concurrency) ? `concurrency[${index}]` : "concurrency";
    if (typeof entry === "number") {
      wholeNumber(report, where, entry, 0);
      continue;
    }
    if (!isObject(entry)) {
      report(where, "must be a number or an object with a limit");
      continue;
    }
    wholeNumber(report, `${where}.limit`, entry.limit, 0);
    if (entry.scope !== undefined && !CONCURRENCY_SCOPES.includes(entry.scope as string))
      report(`${where}.scope`, `must be "fn", "env" or "account", got ${show(entry.scope)}`);
    expression(report, `${where}.key`, entry.key);
  }
}

/** robfig/cron's standard parser, as Inngest uses it: 5 fields, an optional TZ= prefix. */
function cronProblem(cron: unknown): string | null {
  if (typeof cron !== "string" || !cron.trim()) return "must be a cron expression";
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(cron.trim());
  const timezone = match?.[1] ?? "UTC";
  const pattern = (match?.[2] ?? cron).trim();
  if (pattern.startsWith("@"))
    return `"${cron}": descriptors such as @daily are not accepted; write the 5 fields`;
  const fields = pattern.split(/\s+/).length;
  if (fields !== 5)
    return `"${cron}" has ${fields} fields; it needs 5 (minute hour day-of-month month day-of-week)`;
  try {
    new Cron(pattern, { timezone, paused: true }).nextRun();
    return null;
  } catch (error) {
    return `"${cron}" is not a valid cron expression: ${(error as Error).message}`;
  }
}

function wholeNumber(
  report: Report,
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    report(option, `must be a whole number ${range}, got ${show(value)}`);
  }
}

function duration(
  report: Report,
  option: string,
  value: unknown,
  bounds: { min?: number; max?: number },
): void {
  const ms = typeof value === "string" ? parseDuration(value) : null;
  if (ms === null) {
    report(option, `must be a duration such as "30s", "5m" or "1h", got ${show(value)}`);
    return;
  }
  if (bounds.min !== undefined && ms < bounds.min)
    report(option, `is ${value}; the minimum is ${formatMs(bounds.min)}`);
  if (bounds.max !== undefined && ms > bounds.max)
    report(option, `is ${value}; the maximum is ${formatMs(bounds.max)}`);
}

function expression(report: Report, option: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== "string" || !value.trim()) {
    report(option, `must be a CEL expression, got ${show(value)}`);
    return;
  }
  const problem = checkExpression(value);
  if (problem) report(option, `does not compile ("${value}"): ${problem}`);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isDate(value: unknown): boolean {
  return (
    typeof value === "string" &&
    /^\d{4}-\d{2}-\d{2}/.test(value) &&
    !Number.isNaN(Date.parse(value))
  );
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function formatMs(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  return `${ms / SECOND}s`;
}
