import { describe, expect, it } from "vitest";
import type { FunctionConfig } from "./config";
import { DEFAULT_ATTEMPTS, parseFunctionOptions } from "./options";

function config(options: Record<string, unknown> = {}, retries?: number): FunctionConfig {
  return {
    id: "app-fn",
    triggers: [{ event: "app/ping" }],
    steps: {
      step: {
        id: "step",
        name: "step",
        runtime: { type: "http", url: "http://x/api/inngest" },
        ...(retries === undefined ? {} : { retries: { attempts: retries } }),
      },
    },
    ...options,
  };
}

const parse = (options: Record<string, unknown> = {}, retries?: number) =>
  parseFunctionOptions(config(options, retries));

describe("parseFunctionOptions", () => {
  it("defaults to 5 attempts and no flow control", () => {
    expect(DEFAULT_ATTEMPTS).toBe(5);
    expect(parse()).toEqual({
      maxAttempts: 5,
      eventTriggers: [{ event: "app/ping", expression: null }],
      cronTriggers: [],
      concurrency: [],
      rateLimit: null,
      throttle: null,
      debounce: null,
      batch: null,
      priority: null,
      singleton: null,
      idempotency: null,
      timeouts: null,
      cancelOn: [],
    });
  });

  it("makes retries + 1 attempts (retries 3 → 4, retries 0 → 1)", () => {
    expect(parse({}, 3).maxAttempts).toBe(4);
    expect(parse({}, 0).maxAttempts).toBe(1);
  });

  it("splits event and cron triggers, keeping each cron's place", () => {
    const options = parseFunctionOptions({
      ...config(),
      triggers: [{ event: "app/a", expression: "event.data.ok" }, { cron: "0 9 * * *" }],
    });
    expect(options.eventTriggers).toEqual([{ event: "app/a", expression: "event.data.ok" }]);
    expect(options.cronTriggers).toEqual([{ index: 1, cron: "0 9 * * *" }]);
  });

  it("takes a throttle limit of 0 as 1, and no burst as 0", () => {
    expect(parse({ throttle: { limit: 0, period: "10s" } }).throttle).toEqual({
      limit: 1,
      periodMs: 10_000,
      burst: 0,
      key: null,
    });
    expect(
      parse({ throttle: { limit: 3, period: "1m", burst: 2, key: "event.data.u" } }).throttle,
    ).toEqual({ limit: 3, periodMs: 60_000, burst: 2, key: "event.data.u" });
  });

  it("drops a rate limit with limit 0 or no period; keeps the period text", () => {
    expect(parse({ rateLimit: { limit: 0, period: "1m" } }).rateLimit).toBeNull();
    expect(parse({ rateLimit: { limit: 5 } }).rateLimit).toBeNull();
    expect(parse({ rateLimit: { limit: 5, period: "1m" } }).rateLimit).toEqual({
      limit: 5,
      periodMs: 60_000,
      period: "1m",
      key: null,
    });
  });

  it("gives a batch a 60 s timeout by default", () => {
    expect(parse({ batchEvents: { maxSize: 10 } }).batch).toEqual({
      maxSize: 10,
      timeoutMs: 60_000,
      key: null,
      if: null,
    });
    expect(parse({ batchEvents: { maxSize: 10, timeout: "5s" } }).batch?.timeoutMs).toBe(5000);
  });

  it("reads debounce with and without a timeout", () => {
    expect(parse({ debounce: { period: "5s" } }).debounce).toEqual({
      periodMs: 5000,
      timeoutMs: null,
      key: null,
    });
    expect(
      parse({ debounce: { period: "5s", timeout: "1m", key: "event.data.u" } }).debounce,
    ).toEqual({ periodMs: 5000, timeoutMs: 60_000, key: "event.data.u" });
  });

  it("reads concurrency as a number", () => {
    expect(parse({ concurrency: 3 }).concurrency).toEqual([
      { limit: 3, key: null, scope: "fn", index: 0 },
    ]);
  });

  it("reads concurrency as one object, with its key and scope", () => {
    expect(
      parse({ concurrency: { limit: 2, key: "event.data.u", scope: "env" } }).concurrency,
    ).toEqual([{ limit: 2, key: "event.data.u", scope: "env", index: 0 }]);
  });

  it("reads concurrency as a list, ignoring a limit of 0 but keeping the others' places", () => {
    expect(
      parse({
        concurrency: [
          { limit: 0 },
          { limit: 1, scope: "account", key: "event.data.t" },
          { limit: 4, scope: "bogus" },
        ],
      }).concurrency,
    ).toEqual([
      { limit: 1, key: "event.data.t", scope: "account", index: 1 },
      { limit: 4, key: null, scope: "fn", index: 2 },
    ]);
    expect(parse({ concurrency: 0 }).concurrency).toEqual([]);
  });

  it("reads singleton mode (skip unless cancel), priority, idempotency, timeouts, cancelOn", () => {
    const options = parse({
      singleton: { key: "event.data.u", mode: "cancel" },
      priority: { run: "event.data.p" },
      idempotency: "event.data.orderId",
      timeouts: { start: "10s", finish: "1h" },
      cancel: [{ event: "app/stop", if: "async.data.id == event.data.id" }, { if: "x" }],
    });
    expect(options.singleton).toEqual({ key: "event.data.u", mode: "cancel" });
    expect(parse({ singleton: { mode: "other" } }).singleton).toEqual({ key: null, mode: "skip" });
    expect(options.priority).toEqual({ run: "event.data.p" });
    expect(parse({ priority: { run: "" } }).priority).toBeNull();
    expect(options.idempotency).toBe("event.data.orderId");
    expect(options.timeouts).toEqual({ startMs: 10_000, finishMs: 3_600_000 });
    expect(options.cancelOn).toEqual([
      { event: "app/stop", if: "async.data.id == event.data.id", timeout: null },
    ]);
  });
});
