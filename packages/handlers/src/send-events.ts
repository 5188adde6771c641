import type { Inngest } from "inngest";
import { HttpError } from "./http";

/** An event as the handlers send it. */
export interface FlowEvent {
  name: string;
  data: Record<string, unknown>;
}

export type Logger = Pick<Console, "error">;

/**
 * Sends the events; Inngest being unreachable or refusing them is a 502 (a bad gateway, not a bad
 * request), with `details` (such as the webhook's log id) kept in the answer.
 */
export async function sendEvents(
  inngest: Inngest.Any,
  events: FlowEvent[],
  logger: Logger,
  details: Record<string, unknown> = {},
): Promise<string[]> {
  try {
    const { ids } = await inngest.send(events);
    return ids;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`[@repo/handlers] could not send ${events.map((e) => e.name).join(", ")}`, error);
    throw new HttpError(502, `could not send the event to Inngest: ${message}`, details);
  }
}
