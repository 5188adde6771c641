import type { SingletonOption } from "../functions/options";
import type { WireEvent } from "../types";
import { flowKey } from "./keys";

/**
 * `singleton { key, mode }`: at most one run per function and key at a time. A new event while
 * one runs is skipped (`skip`), or replaces it (`cancel`: the running one is cancelled, the new one
 * starts). The registry knows which run holds each key; it is rebuilt from the active runs at start.
 */
export function singletonKey(
  slug: string,
  option: SingletonOption | null,
  event: WireEvent | undefined,
): string | null {
  if (!option || !event) return null;
  return flowKey(slug, option.key, event);
}

export type SingletonDecision =
  | { action: "start" }
  | { action: "skip"; holder: string }
  | { action: "replace"; holder: string };

export class Singletons {
  private readonly holders = new Map<string, string>();
  private readonly keyOfRun = new Map<string, string>();

  decide(key: string, mode: SingletonOption["mode"]): SingletonDecision {
    const holder = this.holders.get(key);
    if (!holder) return { action: "start" };
    return mode === "cancel" ? { action: "replace", holder } : { action: "skip", holder };
  }

  hold(key: string, runId: string): void {
    this.holders.set(key, runId);
    this.keyOfRun.set(runId, key);
  }

  /** The run ended (or never started): its key is free, unless a newer run holds it already. */
  release(runId: string): void {
    const key = this.keyOfRun.get(runId);
    if (key === undefined) return;
    this.keyOfRun.delete(runId);
    if (this.holders.get(key) === runId) this.holders.delete(key);
  }

  holderOf(key: string): string | undefined {
    return this.holders.get(key);
  }

  clear(): void {
    this.holders.clear();
    this.keyOfRun.clear();
  }
}
