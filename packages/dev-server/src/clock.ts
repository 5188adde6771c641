/**
 * Time, as the scheduler sees it. The real clock is the wall clock. The virtual clock (test mode)
 * stands still until told to advance, so that sleeps, wait timeouts, retry backoffs, cron ticks and
 * batch timeouts fire exactly when a test says, and never on their own.
 */
export interface Clock {
  readonly virtual: boolean;
  now(): number;
}

export const realClock: Clock = { virtual: false, now: () => Date.now() };

export class VirtualClock implements Clock {
  readonly virtual = true;
  private current: number;

  constructor(start = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Moves time forward (never back). */
  set(to: number): void {
    if (to > this.current) this.current = to;
  }
}
