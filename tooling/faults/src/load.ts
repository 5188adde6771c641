import { setTimeout as pace } from "node:timers/promises";
import type { RestClient } from "@repo/test-utils";

/**
 * A steady trickle of events while a fault happens: what was acknowledged must be stored, whatever
 * the fault did to the sends that were not.
 */
export interface Trickle {
  acked: string[];
  refused: number;
  /** How many answers of each status. */
  answers: Map<number, number>;
  /** The `data.i` of each send answered other than 200, and the last such body. */
  refusedIndexes: Set<number>;
  lastRefusal: string;
  stop(): Promise<void>;
}

export function startTrickle(serverUrl: string, name: string, paceMs = 10): Trickle {
  let running = true;
  const trickle: Trickle = {
    acked: [],
    refused: 0,
    answers: new Map(),
    refusedIndexes: new Set(),
    lastRefusal: "",
    stop: async () => {
      running = false;
      await loop;
    },
  };
  const loop = (async () => {
    for (let i = 0; running; i++) {
      try {
        const response = await fetch(`${serverUrl}/e/key`, {
          method: "POST",
          body: JSON.stringify({ name, data: { i } }),
          signal: AbortSignal.timeout(10_000),
        });
        trickle.answers.set(response.status, (trickle.answers.get(response.status) ?? 0) + 1);
        const text = await response.text();
        if (response.status === 200) {
          trickle.acked.push(...((JSON.parse(text) as { ids?: string[] }).ids ?? []));
        } else {
          trickle.refusedIndexes.add(i);
          trickle.lastRefusal = `${response.status} ${text}`;
        }
      } catch {
        trickle.refused++;
      }
      // Paced, not a wait for a condition: a trickle, not a flood.
      await pace(paceMs);
    }
  })();
  return trickle;
}

/** Sends `count` events of `name` (`data.n` = 0..count-1) in requests of `perRequest`, in order. */
export async function sendNumbered(
  rest: RestClient,
  name: string,
  count: number,
  perRequest: number,
  parallel = 1,
): Promise<string[]> {
  const ids: string[] = new Array(count);
  const requests = Math.ceil(count / perRequest);
  let next = 0;
  const worker = async () => {
    for (let request = next++; request < requests; request = next++) {
      const first = request * perRequest;
      const events = Array.from({ length: Math.min(perRequest, count - first) }, (_, index) => ({
        name,
        data: { n: first + index },
      }));
      const answer = await rest.send(events);
      answer.forEach((id, index) => {
        ids[first + index] = id;
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return ids;
}
