import { eventNameMatches } from "../engine/events";
import type { FunctionRecord, StoredEvent } from "../types";
import type { TriggerSuggestion } from "./wire";

/** How many closest triggers an event that started nothing shows. */
const MAX_SUGGESTIONS = 6;

/**
 * The functions whose event triggers come closest to `name`: a typo in the event name is the
 * usual reason an event starts nothing. Wildcard triggers (`app/user.*`) are compared by their
 * prefix against the start of the name. Only near ones are kept, closest first.
 */
export function closestTriggers(
  name: string,
  functions: FunctionRecord[],
  event?: StoredEvent,
): TriggerSuggestion[] {
  const near = Math.max(3, Math.floor(name.length / 3));
  const best = new Map<string, TriggerSuggestion>();
  for (const fn of functions) {
    for (const trigger of fn.config.triggers) {
      if (trigger.event === undefined) continue;
      const matched = eventNameMatches(trigger.event, name);
      const distance = matched ? 0 : triggerDistance(trigger.event, name);
      if (distance > near) continue;
      const suggestion: TriggerSuggestion = {
        function_id: fn.slug,
        function_name: fn.name,
        app_id: fn.appId,
        trigger: trigger.event,
        distance,
      };
      if (matched) {
        suggestion.note = trigger.expression
          ? `its condition \`${trigger.expression}\` did not hold for this event`
          : event && fn.config.batchEvents
            ? "it batches events: the run starts when the batch is full or times out"
            : event && fn.config.debounce
              ? "it debounces: the run starts when the debounce period ends"
              : "the name matches: was the function synced after the event arrived?";
      }
      const known = best.get(fn.slug);
      if (!known || distance < known.distance) best.set(fn.slug, suggestion);
    }
  }
  return [...best.values()]
    .sort((a, b) => a.distance - b.distance || a.function_id.localeCompare(b.function_id))
    .slice(0, MAX_SUGGESTIONS);
}

/** Levenshtein distance; for `prefix*`, the fewest edits that make the name start with it. */
export function triggerDistance(trigger: string, name: string): number {
  const wildcard = trigger.endsWith("*");
  const pattern = wildcard ? trigger.slice(0, -1) : trigger;
  // Row i holds the distances from pattern[0..i) to every prefix of the name.
  let previous = Array.from({ length: name.length + 1 }, (_, j) => j);
  for (let i = 1; i <= pattern.length; i++) {
    const current = [i];
    for (let j = 1; j <= name.length; j++) {
      const cost = pattern[i - 1] === name[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return wildcard ? Math.min(...previous) : (previous[name.length] as number);
}
