import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../src";
import { CHECKPOINTING, type Harness, type RunJson, startHarness, waitFor } from "./harness";

/**
 * Flow-control state lives in the store: a dev server restarted on the same storage keeps open
 * batches and debounces, rate-limit budgets and singleton holders.
 */
const drivers = await testDrivers();

describe.each(drivers)("flow control across a restart on %s", (driver) => {
  const folder = mkdtempSync(join(tmpdir(), "flow-restart-"));
  let database: TestDatabase | undefined;
  let storage = folder;
  let h: Harness;
  let next: DevServer | undefined;
  beforeAll(async () => {
    if (driver === "postgres") {
      database = await createTestDatabase("postgres", { migrated: false });
      storage = database.url;
    }
    h = await startHarness(
      "flow-restart",
      (inngest) => [
        inngest.createFunction(
          {
            id: "batched",
            triggers: [{ event: "rs/batch" }],
            batchEvents: { maxSize: 10, timeout: "5s" },
          },
          async ({ events }) =>
            events.map((each: { data: Record<string, unknown> }) => each.data.n),
        ),
        inngest.createFunction(
          { id: "debounced", triggers: [{ event: "rs/debounce" }], debounce: { period: "5s" } },
          async ({ event }) => event.data.n as number,
        ),
        inngest.createFunction(
          {
            id: "limited",
            triggers: [{ event: "rs/limit" }],
            rateLimit: { limit: 2, period: "1h" },
          },
          async ({ event }) => event.data.n as number,
        ),
        inngest.createFunction(
          { id: "single", triggers: [{ event: "rs/single" }], singleton: { mode: "skip" } },
          async ({ event, step }) => {
            await step.sleep("hold", "1m");
            return event.data.n as number;
          },
        ),
      ],
      { testMode: true, storage },
    );
  });
  afterAll(async () => {
    await next?.close();
    await h.close().catch(() => {});
    await database?.dispose();
    rmSync(folder, { recursive: true, force: true });
  });

  it("keeps batches, debounces, rate limits and singletons", async () => {
    await h.send([1, 2, 3].map((n) => ({ name: "rs/batch", data: { n } })));
    await h.send([{ name: "rs/debounce", data: { n: 7 } }]);
    const limited = await h.send([1, 2].map((n) => ({ name: "rs/limit", data: { n } })));
    for (const id of limited) await h.waitForRuns(id);
    const [single = ""] = await h.send([{ name: "rs/single", data: { n: 1 } }]);
    const holder = await h.runOf(single);
    await h.waitForStep(holder.run_id, (step) => step.op === "Sleep");
    await h.idle();
    const clock = await h.now();
    await h.server.close();

    next = await startDevServer({
      port: 0,
      storage,
      testMode: true,
      clockStart: clock,
      checkpointing: CHECKPOINTING,
    });
    const server = next;
    // Functions of an app from before the restart start nothing until the app syncs again.
    await server.sync(h.appUrl);
    const call = async <T>(path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${server.url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<T>;
    };
    const runsOf = async (slug: string) =>
      (await call<{ data: RunJson[] }>(`/v1/runs?function_id=${slug}`)).data;
    const ended = (slug: string, count: number) =>
      waitFor(`${count} ended run(s) of ${slug}`, async () => {
        const runs = await runsOf(slug);
        return runs.length === count && runs.every((run) => run.status !== "Running")
          ? runs
          : undefined;
      });

    // Budget used before the restart: a third run within the hour is skipped.
    await call("/e/key", [{ name: "rs/limit", data: { n: 3 } }]);
    expect((await ended("flow-restart-limited", 3)).map((run) => run.status)).toContain("Skipped");
    // The holder still runs: a second singleton run is skipped.
    await call("/e/key", [{ name: "rs/single", data: { n: 2 } }]);
    const statuses = await waitFor("a second singleton run", async () => {
      const runs = await runsOf("flow-restart-single");
      return runs.length === 2 ? runs.map((run) => run.status).sort() : undefined;
    });
    expect(statuses).toEqual(["Running", "Skipped"]);
    // The open batch and the debounce fire on their timers, with the events from before.
    await call("/test/clock/advance", { ms: 60_000 });
    const [batch] = await ended("flow-restart-batched", 1);
    expect(batch?.output).toEqual([1, 2, 3]);
    const [debounced] = await ended("flow-restart-debounced", 1);
    expect(debounced?.output).toBe(7);
    const singles = await ended("flow-restart-single", 2);
    expect(singles.find((run) => run.run_id === holder.run_id)?.status).toBe("Completed");
  }, 180_000);
});
