import { testDrivers } from "@repo/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, type RunJson, startHarness } from "./harness";

/**
 * Cron triggers on the virtual clock: one run per tick, at the tick, with an
 * `inngest/scheduled.timer` event; `TZ=` prefixes are honoured (Paris is UTC+1 in January and
 * UTC+2 in July), and UTC is the default.
 */

const PARIS_DAILY = "TZ=Europe/Paris 0 9 15,16 1 *";
const PARIS_SUMMER = "TZ=Europe/Paris 30 9 1 7 *";
const UTC_NOON = "0 12 15 1 *";
const at = (iso: string) => Date.parse(iso);

const drivers = await testDrivers();

describe.each(drivers)("cron triggers on %s", (driver) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      "cron",
      (inngest) =>
        [
          ["paris-daily", PARIS_DAILY],
          ["paris-summer", PARIS_SUMMER],
          ["utc-noon", UTC_NOON],
        ].map(([id = "", cron = ""]) =>
          inngest.createFunction({ id, triggers: [{ cron }] }, async ({ event }) => ({
            name: event.name,
            cron: event.data.cron,
            ts: event.ts,
          })),
        ),
      { driver, testMode: true, clockStart: at("2030-01-15T07:00:00Z") },
    );
  });
  afterAll(() => h?.close());

  /** The function's runs once they have all ended, oldest first. */
  const endedRuns = async (id: string, count: number): Promise<RunJson[]> =>
    h.waitFor(`${count} ended run(s) of cron-${id}`, async () => {
      const runs = await h.runsOfFunction(`cron-${id}`);
      return (
        runs.length === count && runs.every((run) => run.status !== "Running") && runs.reverse()
      );
    });

  it("starts exactly one run at a TZ= tick, with a scheduled.timer event stamped with the tick", async () => {
    // 09:00 in Paris in January is 08:00 UTC.
    await h.advanceTo(at("2030-01-15T07:59:59.999Z"));
    expect(await h.runsOfFunction("cron-paris-daily")).toEqual([]);

    await h.advanceTo(at("2030-01-15T10:00:00Z"));
    const [run] = await endedRuns("paris-daily", 1);
    expect(run).toMatchObject({
      status: "Completed",
      cron: PARIS_DAILY,
      run_started_at: "2030-01-15T08:00:00.000Z",
      output: {
        name: "inngest/scheduled.timer",
        cron: PARIS_DAILY,
        ts: at("2030-01-15T08:00:00Z"),
      },
    });
    const [timer] = (await h.events("inngest/scheduled.timer")).filter(
      (event) => event.data.cron === PARIS_DAILY,
    );
    expect(timer).toMatchObject({ ts: at("2030-01-15T08:00:00Z"), data: { cron: PARIS_DAILY } });
    expect((await h.runsOf(timer?.internal_id ?? ""))[0]?.run_id).toBe(run?.run_id);
    // Noon UTC has not come yet.
    expect(await h.runsOfFunction("cron-utc-noon")).toEqual([]);
  });

  it("starts one run per tick: two ticks, two runs; a cron without TZ= runs on UTC", async () => {
    await h.advanceTo(at("2030-01-16T10:00:00Z"));
    const runs = await endedRuns("paris-daily", 2);
    expect(runs.map((run) => run.run_started_at)).toEqual([
      "2030-01-15T08:00:00.000Z",
      "2030-01-16T08:00:00.000Z",
    ]);
    const [noon] = await endedRuns("utc-noon", 1);
    expect(noon?.run_started_at).toBe("2030-01-15T12:00:00.000Z");
  });

  it("follows the time zone's summer time", async () => {
    // 09:30 in Paris on 1 July is 07:30 UTC.
    await h.advanceTo(at("2030-07-01T07:29:59.999Z"));
    expect(await h.runsOfFunction("cron-paris-summer")).toEqual([]);
    await h.advanceTo(at("2030-07-01T07:30:00Z"));
    const [run] = await endedRuns("paris-summer", 1);
    expect(run?.output).toMatchObject({ ts: at("2030-07-01T07:30:00Z"), cron: PARIS_SUMMER });
    expect(await h.runsOfFunction("cron-paris-daily")).toHaveLength(2);
  });
});
