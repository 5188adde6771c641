import type { Hono } from "hono";
import type { Clock } from "../clock";
import type { Engine } from "../engine/engine";
import { parseEventIdSeed, seededUlid } from "../event-ids";
import type { Store } from "../store/store";
import type { JsonObject, StoredEvent } from "../types";
import { HttpError, isObject, readText, typeNameShowingStrings } from "./request";
import type { EventSendJson } from "./wire";

/**
 * The event API: `POST /e/:key` takes one event or an array, checks all of them, stores them and
 * answers their ids. A send the SDK retries carries the same `x-inngest-event-id-seed` header, so
 * its events get the same ids and are not stored (nor start runs) twice.
 */

const MAX_EVENT_BYTES = 512 * 1024;
const MAX_EVENTS_PER_REQUEST = 5000;
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** Test mode remembers this many send seeds (see `EventIntake.store`). */
const REMEMBERED_SEEDS = 10_000;
/** A retried send comes within seconds: the last this many stored ids are plenty. */
const REMEMBERED_IDS = 100_000;

export interface EventInput {
  name: string;
  data: JsonObject;
  id: string | null;
  ts: number | undefined;
  user: JsonObject;
  v: string | null;
}

export function registerEventApi(
  app: Hono,
  intake: EventIntake,
  eventKey: string | undefined,
): void {
  if (eventKey) {
    // No key at all: refused as a wrong one is (without an event key these stay unknown routes).
    for (const path of ["/e", "/e/"])
      app.post(path, (c) =>
        c.json<EventSendJson>(
          {
            ids: [],
            status: 401,
            error: "Event key not found: the path has no event key (/e/<event key>)",
          },
          401,
        ),
      );
  }
  app.post("/e/:key", async (c) => {
    if (eventKey && c.req.param("key") !== eventKey) {
      // The key is not echoed: it may be someone's real key sent to the wrong place.
      return c.json<EventSendJson>(
        { ids: [], status: 401, error: "Event key not found: send with the server's event key" },
        401,
      );
    }
    let inputs: EventInput[];
    try {
      inputs = parseEvents(await readText(c.req.raw, MAX_REQUEST_BYTES));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // The SDK throws on any `error` field, and Go answers failures in this shape.
      return c.json<EventSendJson>(
        { ids: [], status: error.status, error: error.message },
        error.status,
      );
    }
    const ids = await intake.send(inputs, c.req.header("x-inngest-event-id-seed") ?? null);
    return c.json<EventSendJson>({ ids, status: 200 });
  });
}

/**
 * Stores sends' events (durably: the ids are only answered after the commit) and starts what they
 * trigger. A retried send is recognised by its seed: its events are already stored, so it gets the
 * same ids and starts nothing again.
 */
export class EventIntake {
  /**
   * Attempts of one send (same seed) are stored one after the other, so that "is this seed's send
   * already stored?" and the storing cannot interleave. Different sends go in parallel, and the
   * engine commits them together.
   */
  private readonly sendsBySeed = new Map<string, Promise<unknown>>();
  private readonly seedIdsInTestMode = new Map<string, string[]>();
  /** Ids this process stored, oldest first (see `notYetStored`). */
  private readonly recentlyStored = new Set<string>();
  private readonly processStartedAt = Date.now();

  constructor(private readonly deps: { engine: Engine; store: Store; clock: Clock }) {}

  /** Stores one send's events; `seedHeader` is its `x-inngest-event-id-seed`, if any. */
  send(inputs: EventInput[], seedHeader: string | null): Promise<string[]> {
    if (!seedHeader) return this.store(inputs, seedHeader);
    const work = (this.sendsBySeed.get(seedHeader) ?? Promise.resolve()).then(() =>
      this.store(inputs, seedHeader),
    );
    const settled = work.catch(() => {});
    this.sendsBySeed.set(seedHeader, settled);
    void settled.then(() => {
      if (this.sendsBySeed.get(seedHeader) === settled) this.sendsBySeed.delete(seedHeader);
    });
    return work;
  }

  /** Test mode's reset: seeds sent before it are forgotten. */
  forgetSeeds(): void {
    this.seedIdsInTestMode.clear();
  }

  /** Settles once the sends under way have (for shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.sendsBySeed.values()]);
  }

  private async store(inputs: EventInput[], seedHeader: string | null): Promise<string[]> {
    const { engine, clock } = this.deps;
    const events = inputs.map((input) => engine.makeEvent(input));
    const seed = parseEventIdSeed(seedHeader);
    if (seed && seedHeader) {
      if (clock.virtual) {
        // The seed's time is the sender's wall clock, which means nothing on the virtual clock:
        // ids from it would sort before runs and waits created after a clock advance, and the
        // order of events sent at one virtual instant would be random. Test mode keeps the
        // engine's ordered ids and recognises a retry by remembering the seed instead.
        const known = this.seedIdsInTestMode.get(seedHeader);
        if (known?.length === events.length) {
          events.forEach((event, index) => {
            event.internalId = known[index] as string;
          });
        }
      } else {
        events.forEach((event, index) => {
          event.internalId = seededUlid(seed, index + 1);
        });
      }
    }
    const ids = events.map((event) => event.internalId);
    const fresh = await this.notYetStored(events, seed?.ms);
    if (fresh.length > 0) await engine.ingest(fresh);
    this.rememberStored(fresh);
    if (seed && seedHeader && clock.virtual) {
      this.seedIdsInTestMode.set(seedHeader, ids);
      if (this.seedIdsInTestMode.size > REMEMBERED_SEEDS) {
        const oldest = this.seedIdsInTestMode.keys().next().value;
        if (oldest !== undefined) this.seedIdsInTestMode.delete(oldest);
      }
    }
    return ids;
  }

  /**
   * Which of a send's events are new. Ids this process stored are remembered, so the common case
   * asks the database nothing (and sends keep being committed together); only a send first tried
   * before this process started (a retry across a restart) is looked up in the store.
   */
  private async notYetStored(events: StoredEvent[], seedMs: number | undefined) {
    let fresh = events.filter((event) => !this.recentlyStored.has(event.internalId));
    if (fresh.length > 0 && seedMs !== undefined && seedMs < this.processStartedAt) {
      const stored = new Set(
        (await this.deps.store.getEvents(fresh.map((event) => event.internalId))).map(
          (e) => e.internalId,
        ),
      );
      fresh = fresh.filter((event) => !stored.has(event.internalId));
    }
    return fresh;
  }

  private rememberStored(events: StoredEvent[]) {
    for (const event of events) this.recentlyStored.add(event.internalId);
    if (this.recentlyStored.size > REMEMBERED_IDS) {
      let excess = this.recentlyStored.size - REMEMBERED_IDS;
      for (const id of this.recentlyStored) {
        if (excess-- <= 0) break;
        this.recentlyStored.delete(id);
      }
    }
  }
}

/**
 * Checks a send body, one event or an array, and every event in it before any is stored: a bad
 * event rejects the whole send. Each problem names the event by its index, and the field.
 */
export function parseEvents(text: string): EventInput[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `malformed JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(body) ? body : [body];
  if (list.length > MAX_EVENTS_PER_REQUEST) {
    throw new HttpError(
      413,
      `${list.length} events in one request; at most ${MAX_EVENTS_PER_REQUEST} are allowed`,
    );
  }
  return list.map((raw, index) => {
    if (!isObject(raw))
      throw new HttpError(
        400,
        `event ${index} must be an object, got ${typeNameShowingStrings(raw)}`,
      );
    const event = raw as JsonObject;
    if (typeof event.name !== "string") {
      const got =
        event.name === undefined ? "no name" : `name ${typeNameShowingStrings(event.name)}`;
      throw new HttpError(400, `event ${index}: "name" must be a non-empty string, got ${got}`);
    }
    if (event.name.trim() === "")
      throw new HttpError(400, `event ${index}: "name" must be a non-empty string, got ""`);
    const where = `event ${index} (${event.name})`;
    if (event.name.startsWith("inngest/"))
      throw new HttpError(400, `${where}: the "inngest/" prefix is reserved for internal events`);
    const optional = (field: string, ok: (value: unknown) => boolean, expected: string) => {
      const value = event[field];
      if (value !== undefined && value !== null && !ok(value))
        throw new HttpError(
          400,
          `${where}: "${field}" must be ${expected}, got ${typeNameShowingStrings(value)}`,
        );
    };
    optional("data", isObject, "an object");
    optional("user", isObject, "an object");
    optional("id", (value) => typeof value === "string", "a string");
    optional("ts", (value) => typeof value === "number" && Number.isFinite(value), "a number");
    optional("v", (value) => typeof value === "string", "a string");
    const size = Buffer.byteLength(JSON.stringify(event));
    if (size > MAX_EVENT_BYTES) {
      throw new HttpError(
        413,
        `${where} is ${size} bytes, over the ${MAX_EVENT_BYTES} byte limit per event`,
      );
    }
    // As Go does: `_inngest` is the server's own metadata (invocations), never the sender's.
    const { _inngest: _, ...data } = (event.data as JsonObject | null) ?? {};
    return {
      name: event.name,
      data,
      id: (event.id as string | null | undefined) || null,
      ts: (event.ts as number | null | undefined) || undefined,
      user: (event.user as JsonObject | null) ?? {},
      v: (event.v as string | null | undefined) ?? null,
    };
  });
}
