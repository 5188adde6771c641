import type { Hono } from "hono";
import type { Clock } from "../clock";
import type { Engine } from "../engine/engine";
import type { JsonObject } from "../types";
import type { EventIntake } from "./events";
import { HttpError } from "./request";
import type { TestClockJson } from "./wire";

/**
 * Test mode's controls (`/test/`): read the clock, move the virtual clock, wipe everything, and
 * wait until nothing is due. Only `/test/clock` and `/test/idle` are there without test mode.
 */
export function registerTestMode(
  app: Hono,
  deps: { engine: Engine; clock: Clock; intake: EventIntake },
): void {
  const { engine, clock, intake } = deps;

  app.get("/test/clock", (c) =>
    c.json<TestClockJson>({ virtual: clock.virtual, now: new Date(clock.now()).toISOString() }),
  );

  app.post("/test/clock/advance", async (c) => {
    if (!clock.virtual)
      throw new HttpError(404, "the virtual clock is only there in test mode (--test-mode)");
    const body = (await c.req.json().catch(() => ({}))) as JsonObject;
    let to: number;
    if (typeof body.to === "string") to = Date.parse(body.to);
    else if (typeof body.ms === "number") to = clock.now() + body.ms;
    else throw new HttpError(400, 'give "ms" (a number of milliseconds) or "to" (an ISO date)');
    if (!Number.isFinite(to)) throw new HttpError(400, '"to" is not a date');
    await engine.advanceTo(to);
    return c.json({ now: new Date(clock.now()).toISOString() });
  });

  app.post("/test/reset", async (c) => {
    if (!clock.virtual) throw new HttpError(404, "reset is only there in test mode (--test-mode)");
    await engine.reset();
    intake.forgetSeeds();
    return c.json({ ok: true });
  });

  app.post("/test/idle", async (c) => {
    await engine.idle();
    return c.json({ ok: true });
  });
}
