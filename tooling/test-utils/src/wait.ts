/**
 * How long a test waits for a condition before failing. Wide: a passing condition returns at once,
 * and under `pnpm test` every suite shares two cores, where a server start alone can take seconds.
 */
export const DEADLINE_MS = 60_000;

const POLL_MS = 25;

export interface WaitOptions {
  /** Default DEADLINE_MS. */
  timeoutMs?: number;
  /** Between probes; default 25 ms. */
  intervalMs?: number;
  /** Checked after each probe: an error to stop waiting with at once (the server died). */
  stop?: () => Error | undefined;
}

/**
 * Polls `probe` until it returns something other than `undefined` (or `false`); fails after the
 * deadline, naming what it waited for and the last error the probe threw. Never a blind sleep.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutOrOptions: number | WaitOptions = {},
): Promise<T> {
  const options =
    typeof timeoutOrOptions === "number" ? { timeoutMs: timeoutOrOptions } : timeoutOrOptions;
  const timeoutMs = options.timeoutMs ?? DEADLINE_MS;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    const stopped = options.stop?.();
    if (stopped) throw stopped;
    if (Date.now() > deadline) {
      const detail = last ? ` (last error: ${(last as Error).message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? POLL_MS));
  }
}
