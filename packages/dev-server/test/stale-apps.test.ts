import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../src";
import { CHECKPOINTING, type Harness, type RunJson, startHarness, waitFor } from "./harness";

/**
 * Apps from an earlier session: after a restart on the same storage, an app that has not synced
 * again is listed as such, its functions start no runs (it may not be running at all), and its
 * unfinished runs wait; once it syncs, new events start runs and the waiting runs go on.
 */
describe("apps synced in an earlier session", () => {
  const folder = mkdtempSync(join(tmpdir(), "stale-apps-"));
  let h: Harness;
  let next: DevServer | undefined;
  beforeAll(async () => {
    h = await startHarness(
      "stale",
      (inngest) => [
        inngest.createFunction(
          { id: "napper", triggers: [{ event: "stale/nap" }] },
          async ({ event, step }) => {
            await step.sleep("nap", "1m");
            return step.run("wake", () => event.data.n as number);
          },
        ),
      ],
      { testMode: true, storage: join(folder, "state") },
    );
  });
  afterAll(async () => {
    await next?.close();
    await h.close().catch(() => {});
    rmSync(folder, { recursive: true, force: true });
  });

  it("start no runs and keep their runs waiting until the app syncs again", async () => {
    const [first = ""] = await h.send([{ name: "stale/nap", data: { n: 1 } }]);
    const sleeping = await h.runOf(first);
    await h.waitForStep(sleeping.run_id, (step) => step.op === "Sleep");
    await h.idle();
    const clock = await h.now();
    const napperId = await h.functionId("stale-napper");
    expect(sleeping.function_id).toBe(napperId);
    await h.server.close();

    next = await startDevServer({
      port: 0,
      storage: join(folder, "state"),
      testMode: true,
      clockStart: clock,
      checkpointing: CHECKPOINTING,
    });
    const server = next;
    const call = async <T>(path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${server.url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<T>;
    };
    const runsOfEvent = async (id: string) =>
      (await call<{ data: RunJson[] }>(`/v1/events/${id}/runs`)).data;
    const run = async (id: string) => (await call<{ data: RunJson }>(`/v1/runs/${id}`)).data;

    // Listed, but as not synced since this start.
    const apps = (await call<{ data: { url: string; synced_since_start: boolean }[] }>("/api/apps"))
      .data;
    expect(apps).toEqual([expect.objectContaining({ url: h.appUrl, synced_since_start: false })]);

    // A new event is stored and starts nothing.
    const { ids } = await call<{ ids: string[] }>("/e/key", [
      { name: "stale/nap", data: { n: 2 } },
    ]);
    await call("/test/idle", {});
    expect(await runsOfEvent(ids[0] ?? "")).toEqual([]);

    // The sleeping run's sleep ends, but its next call waits for the app.
    const callsBefore = h.callsOf(sleeping.run_id).length;
    await call("/test/clock/advance", { ms: 60_000 });
    expect((await run(sleeping.run_id)).status).toBe("Running");
    expect(h.callsOf(sleeping.run_id).length).toBe(callsBefore);

    // The app syncs: the waiting run finishes, and events start runs again.
    await server.sync(h.appUrl);
    const resumed = await waitFor("the waiting run to complete", async () => {
      const current = await run(sleeping.run_id);
      return current.status === "Completed" ? current : undefined;
    });
    expect(resumed.output).toBe(1);
    const after = (await call<{ data: { synced_since_start: boolean }[] }>("/api/apps")).data;
    expect(after[0]?.synced_since_start).toBe(true);
    const { ids: later } = await call<{ ids: string[] }>("/e/key", [
      { name: "stale/nap", data: { n: 3 } },
    ]);
    const started = await waitFor("a run of the new event", async () => {
      const runs = await runsOfEvent(later[0] ?? "");
      return runs.length === 1 ? runs : undefined;
    });
    // The function's internal id is the one it had before the restart.
    expect(started[0]?.function_id).toBe(napperId);
    expect(await call<{ internal_id: string; id: string }[]>("/v1/apps/stale/functions")).toEqual([
      expect.objectContaining({ internal_id: napperId, id: "stale-napper" }),
    ]);
  }, 180_000);
});
