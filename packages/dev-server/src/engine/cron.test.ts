import { describe, expect, it } from "vitest";
import { nextCronTick } from "./cron";

const at = (iso: string) => Date.parse(iso);

describe("nextCronTick", () => {
  it("gives the next tick later the same day, in UTC by default", () => {
    expect(nextCronTick("0 9 * * *", at("2026-01-01T08:00:00Z"))).toBe(at("2026-01-01T09:00:00Z"));
  });

  it("gives the next day's tick when called exactly at a tick", () => {
    expect(nextCronTick("0 9 * * *", at("2026-01-01T09:00:00Z"))).toBe(at("2026-01-02T09:00:00Z"));
  });

  it("honours a TZ= (and CRON_TZ=) prefix: 09:00 in Paris is 08:00Z in winter, 07:00Z in summer", () => {
    expect(nextCronTick("TZ=Europe/Paris 0 9 * * *", at("2026-01-01T00:00:00Z"))).toBe(
      at("2026-01-01T08:00:00Z"),
    );
    expect(nextCronTick("CRON_TZ=Europe/Paris 0 9 * * *", at("2026-07-01T00:00:00Z"))).toBe(
      at("2026-07-01T07:00:00Z"),
    );
  });

  it("steps every-15-minutes ticks", () => {
    expect(nextCronTick("*/15 * * * *", at("2026-01-01T10:07:30Z"))).toBe(
      at("2026-01-01T10:15:00Z"),
    );
  });

  it("is null for an invalid expression or time zone", () => {
    expect(nextCronTick("not a cron", at("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextCronTick("61 * * * *", at("2026-01-01T00:00:00Z"))).toBeNull();
    expect(nextCronTick("TZ=Nowhere/Land 0 9 * * *", at("2026-01-01T00:00:00Z"))).toBeNull();
  });
});
