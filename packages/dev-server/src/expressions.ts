import { parse } from "@marcbachmann/cel-js";

/**
 * CEL, as Inngest uses it: trigger `if`s see `event`; waitForEvent and cancelOn expressions see
 * `event` (the run's trigger) and `async` (the incoming event); keys see `event`.
 */
type Compiled = ReturnType<typeof parse>;

const cache = new Map<string, Compiled>();

export function compile(expression: string): Compiled {
  let compiled = cache.get(expression);
  if (!compiled) {
    compiled = parse(expression);
    if (cache.size > 5000) cache.clear();
    cache.set(expression, compiled);
  }
  return compiled;
}

/** The problem with an expression, or null when it parses. */
export function checkExpression(expression: string): string | null {
  try {
    compile(expression);
    return null;
  } catch (error) {
    return (error as Error).message.split("\n")[0] ?? "invalid expression";
  }
}

/**
 * True when the expression holds. A reference to a field the event lacks makes it false, as a
 * comparison with a missing value is in Inngest.
 */
export function matches(expression: string, variables: Record<string, unknown>): boolean {
  try {
    return compile(expression)(variables) === true;
  } catch {
    return false;
  }
}

/** The value of a key expression (concurrency, rate limit...), as a string; null if it fails. */
export function evaluateKey(expression: string, variables: Record<string, unknown>): string | null {
  try {
    const value = compile(expression)(variables);
    if (value === null || value === undefined) return null;
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  } catch {
    return null;
  }
}
