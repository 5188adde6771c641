import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase, testDrivers } from "@repo/db/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Changes } from "../engine/changes";
import { IDEMPOTENCY_TTL_MS } from "../flow-control/idempotency";
import type { Pause, QueueItem, RunRecord, StoredEvent } from "../types";
import { JournalStore } from "./journal-store";
import { MemoryStore } from "./memory-store";
import { openPglite, openPostgres } from "./sql";
import { SqlStore } from "./sql-store";
import type { Store, StoredFunction } from "./store";

/**
 * The store's contract, written once and run against every implementation: SqlStore on PGlite and
 * on PostgreSQL (when reachable), MemoryStore, JournalStore. What one answers, all answer.
 */

interface Implementation {
  name: string;
  open(): Promise<{ store: Store; dispose(): Promise<void> }>;
}

const implementations: Implementation[] = [
  {
    name: "SqlStore on PGlite",
    async open() {
      const store = await SqlStore.open(await openPglite("memory://"));
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: "MemoryStore",
    async open() {
      const store = new MemoryStore();
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: "JournalStore",
    async open() {
      const parent = mkdtempSync(join(tmpdir(), "dev-server-contract-"));
      const store = await JournalStore.open(join(parent, "state"));
      return {
        store,
        async dispose() {
          await store.close();
          rmSync(parent, { recursive: true, force: true });
        },
      };
    },
  },
];
if ((await testDrivers()).includes("postgres")) {
  implementations.push({
    name: "SqlStore on PostgreSQL",
    async open() {
      const database: TestDatabase = await createTestDatabase("postgres", { migrated: false });
      const store = await SqlStore.open(await openPostgres(database.url));
      return {
        store,
        async dispose() {
          await store.close();
          await database.dispose();
        },
      };
    },
  });
}

const T0 = 1_700_000_000_000;

function event(internalId: string, name = "app/a", over: Partial<StoredEvent> = {}): StoredEvent {
  return {
    internalId,
    id: null,
    name,
    data: { n: internalId },
    user: {},
    ts: T0,
    v: null,
    receivedAt: T0,
    ...over,
  };
}

function run(runId: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    functionSlug: "app-fn",
    appUrl: "http://app/api",
    eventId: "E01",
    eventIds: ["E01"],
    status: "Running",
    startedAt: T0,
    endedAt: null,
    output: null,
    error: null,
    cron: null,
    forceStepPlan: false,
    requestVersion: 1,
    ...over,
  };
}

function call(
  id: string,
  runId: string,
  dueAt: number,
  attempt = 0,
  data: { unreachable?: number } = {},
): QueueItem {
  return { id, kind: "call", runId, stepId: "step", attempt, dueAt, data };
}

function pause(id: string, runId: string, over: Partial<Pause> = {}): Pause {
  return {
    id,
    runId,
    stepId: "wait-1",
    kind: "wait",
    eventName: "app/go",
    expression: null,
    expiresAt: T0 + 60_000,
    afterEventId: "E00",
    ...over,
  };
}

function changes(fill: (set: Changes) => void): Changes {
  const set = new Changes();
  fill(set);
  return set;
}

const fn = (slug: string, appUrl: string): StoredFunction => ({
  slug,
  appUrl,
  appId: "app",
  name: slug,
  config: {
    id: slug,
    name: slug,
    triggers: [{ event: "app/a" }],
    steps: {},
  } as unknown as StoredFunction["config"],
});

const app = (url: string, functionCount = 0) => ({
  url,
  appId: "app",
  framework: "express",
  sdk: "js:v3",
  functionCount,
  syncedAt: T0,
  error: null,
});

describe.each(implementations)("Store contract: $name", (implementation) => {
  let store: Store;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ store, dispose } = await implementation.open());
  }, 180_000);
  afterAll(async () => {
    await dispose();
  });
  beforeEach(async () => {
    await store.reset();
  });

  it("events: by id, by ids in the order asked, newest first with name, time and cursor filters", async () => {
    const events = [
      event("E01", "app/a", { receivedAt: T0 + 1 }),
      event("E02", "app/b", { receivedAt: T0 + 2 }),
      event("E03", "app/a", { receivedAt: T0 + 3, id: "sender-3", v: "2024-01-01.1" }),
      event("E04", "app/a", { receivedAt: T0 + 4 }),
      event("E05", "app/b", { receivedAt: T0 + 5 }),
    ];
    // Two sets in one group; the second inserted out of id order.
    await store.commit(
      [
        changes((set) => set.events.push(...[0, 2, 1].map((i) => events[i] as StoredEvent))),
        changes((set) => set.events.push(...[4, 3].map((i) => events[i] as StoredEvent))),
      ],
      T0,
    );
    expect(await store.getEvent("E03")).toEqual(events[2]);
    expect(await store.getEvent("E99")).toBeNull();
    expect((await store.getEvents(["E04", "E99", "E01", "E04"])).map((e) => e.internalId)).toEqual([
      "E04",
      "E01",
      "E04",
    ]);
    expect(await store.getEvents([])).toEqual([]);
    const ids = async (filter: Parameters<Store["listEvents"]>[0]) =>
      (await store.listEvents(filter)).map((e) => e.internalId);
    expect(await ids({ limit: 10 })).toEqual(["E05", "E04", "E03", "E02", "E01"]);
    expect(await ids({ limit: 2 })).toEqual(["E05", "E04"]);
    expect(await ids({ limit: 2, cursor: "E04" })).toEqual(["E03", "E02"]);
    expect(await ids({ limit: 2, cursor: "E02" })).toEqual(["E01"]);
    expect(await ids({ limit: 10, name: "app/a" })).toEqual(["E04", "E03", "E01"]);
    expect(await ids({ limit: 1, name: "app/a", cursor: "E04" })).toEqual(["E03"]);
    expect(await ids({ limit: 10, name: "app/none" })).toEqual([]);
    expect(await ids({ limit: 10, receivedAfter: T0 + 2, receivedBefore: T0 + 5 })).toEqual([
      "E04",
      "E03",
    ]);
    expect(await ids({ limit: 0 })).toEqual([]);
  });

  it("a commit whose event id is already stored lands not at all", async () => {
    await store.commit([changes((set) => set.events.push(event("E01")))], T0);
    await expect(
      store.commit(
        [
          changes((set) => {
            set.events.push(event("E02"));
            set.newRuns.push(run("R01", { eventId: "E02", eventIds: ["E02"] }));
          }),
          changes((set) => set.events.push(event("E01"))),
        ],
        T0,
      ),
    ).rejects.toThrow();
    expect(await store.getEvent("E02")).toBeNull();
    expect(await store.getRun("R01")).toBeNull();
    // The same run id twice is refused the same way.
    await store.commit([changes((set) => set.newRuns.push(run("R02")))], T0);
    await expect(
      store.commit(
        [
          changes((set) => set.events.push(event("E03"))),
          changes((s) => s.newRuns.push(run("R02"))),
        ],
        T0,
      ),
    ).rejects.toThrow();
    expect(await store.getEvent("E03")).toBeNull();
  });

  it("event summaries: newest first, name substring in any case, internal events on demand, run counts through every event of a run", async () => {
    await store.commit(
      [
        changes((set) => {
          set.events.push(
            event("E01", "shop/Order.Placed"),
            event("E02", "shop/order.paid"),
            event("E03", "inngest/function.finished"),
            event("E04", "other/thing"),
          );
          set.newRuns.push(
            run("R01", { eventId: "E01", eventIds: ["E01", "E02"] }),
            run("R02", { eventId: "E01", eventIds: ["E01"] }),
            run("R03", { eventId: "E04", eventIds: ["E04", "E04"] }),
          );
        }),
      ],
      T0,
    );
    const summaries = await store.listEventSummaries({ includeInternal: false, limit: 10 });
    expect(summaries.map((s) => [s.internalId, s.runCount])).toEqual([
      ["E04", 1],
      ["E02", 1],
      ["E01", 2],
    ]);
    expect(summaries[1]).toEqual({
      internalId: "E02",
      name: "shop/order.paid",
      data: { n: "E02" },
      receivedAt: T0,
      runCount: 1,
    });
    const named = await store.listEventSummaries({
      nameContains: "ORDER",
      includeInternal: false,
      limit: 10,
    });
    expect(named.map((s) => s.internalId)).toEqual(["E02", "E01"]);
    const all = await store.listEventSummaries({ includeInternal: true, limit: 2 });
    expect(all.map((s) => [s.internalId, s.runCount])).toEqual([
      ["E04", 1],
      ["E03", 0],
    ]);
  });

  it("runs: newest first with status, function and cursor; by event through every event id; updates change the row", async () => {
    await store.commit(
      [
        changes((set) => {
          // Out of id order: the reads order them.
          set.newRuns.push(
            run("R03", { status: "Queued", concurrency: [{ key: "k", limit: 2 }] }),
            run("R01", { eventId: "E01", eventIds: ["E01", "E02"] }),
            run("R04", { eventId: "E03", eventIds: ["E03"], cron: "* * * * *" }),
            run("R02", { functionSlug: "app-other", eventId: "E02", eventIds: ["E02"] }),
          );
        }),
      ],
      T0,
    );
    await store.commit(
      [
        changes((set) => {
          set.updateRun({
            ...run("R04", { eventId: "E03", eventIds: ["E03"], cron: "* * * * *" }),
            status: "Completed",
            endedAt: T0 + 50,
            output: { ok: [1, 2] },
            forceStepPlan: true,
            requestVersion: 2,
          });
          set.updateRun(run("R99", { status: "Failed" }));
        }),
      ],
      T0,
    );
    expect(await store.getRun("R04")).toEqual({
      ...run("R04", { eventId: "E03", eventIds: ["E03"], cron: "* * * * *" }),
      status: "Completed",
      endedAt: T0 + 50,
      output: { ok: [1, 2] },
      forceStepPlan: true,
      requestVersion: 2,
    });
    expect(await store.getRun("R03")).toEqual(
      run("R03", { status: "Queued", concurrency: [{ key: "k", limit: 2 }] }),
    );
    expect(await store.getRun("R99")).toBeNull();
    const ids = async (filter: Parameters<Store["listRuns"]>[0]) =>
      (await store.listRuns(filter)).map((r) => r.runId);
    expect(await ids({ limit: 10 })).toEqual(["R04", "R03", "R02", "R01"]);
    expect(await ids({ limit: 2, cursor: "R03" })).toEqual(["R02", "R01"]);
    expect(await ids({ limit: 10, status: "Running" })).toEqual(["R02", "R01"]);
    expect(await ids({ limit: 10, functionSlug: "app-fn" })).toEqual(["R04", "R03", "R01"]);
    expect(await ids({ limit: 1, functionSlug: "app-fn", status: "Completed" })).toEqual(["R04"]);
    expect((await store.listRunsByEvent("E02")).map((r) => r.runId)).toEqual(["R01", "R02"]);
    expect((await store.listRunsByEvent("E01")).map((r) => r.runId)).toEqual(["R01", "R03"]);
    expect(await store.listRunsByEvent("E77")).toEqual([]);
  });

  it("active runs: Running and Queued by run id, each with its steps by position; a step written again keeps its place", async () => {
    await store.commit(
      [
        changes((set) => {
          set.newRuns.push(run("R02"), run("R01", { status: "Queued" }), run("R03"));
          set.newSteps.push(
            { runId: "R02", stepId: "b", position: 1, value: { data: 2 } },
            { runId: "R02", stepId: "a", position: 0, value: { data: 1 } },
            { runId: "R03", stepId: "x", position: 0, value: null },
          );
        }),
      ],
      T0,
    );
    await store.commit(
      [
        changes((set) => {
          set.updateRun(run("R03", { status: "Cancelled", endedAt: T0 + 1 }));
          set.newSteps.push(
            { runId: "R02", stepId: "a", position: 7, value: { error: "again" } },
            { runId: "R02", stepId: "c", position: 2, value: undefined },
          );
        }),
      ],
      T0,
    );
    const active = await store.listActiveRuns();
    expect(active.map((a) => [a.run.runId, a.run.status])).toEqual([
      ["R01", "Queued"],
      ["R02", "Running"],
    ]);
    expect(active[0]?.steps).toEqual([]);
    expect(active[1]?.steps).toEqual([
      { runId: "R02", stepId: "a", position: 0, value: { error: "again" } },
      { runId: "R02", stepId: "b", position: 1, value: { data: 2 } },
      { runId: "R02", stepId: "c", position: 2, value: null },
    ]);
  });

  it("timeline: seq counts from 1 per run; an end closes the open entries of that step and op only", async () => {
    const entry = (runId: string, stepId: string | null, op: string, startedAt: number) => ({
      runId,
      stepId,
      name: stepId ?? "run",
      op,
      attempt: 0,
      startedAt,
      endedAt: null,
      output: null,
      error: null,
    });
    await store.commit(
      [
        changes((set) => {
          set.newRuns.push(run("R01"), run("R02"));
          set.timeline.push(
            entry("R01", "s1", "StepRun", T0 + 1),
            entry("R02", "s1", "StepRun", T0 + 2),
            entry("R01", "s1", "Sleep", T0 + 3),
          );
        }),
        changes((set) => {
          set.timeline.push(entry("R01", null, "Run", T0 + 4));
          set.endTimeline.push({
            runId: "R01",
            stepId: "s1",
            op: "StepRun",
            endedAt: T0 + 10,
            output: { data: "ok" },
          });
        }),
      ],
      T0,
    );
    await store.commit(
      [
        changes((set) => {
          set.timeline.push(entry("R01", "s1", "StepRun", T0 + 20));
          set.endTimeline.push(
            {
              runId: "R01",
              stepId: "s1",
              op: "StepRun",
              endedAt: T0 + 30,
              error: { message: "boom" },
            },
            { runId: "R09", stepId: "s1", op: "StepRun", endedAt: T0 + 30 },
          );
        }),
      ],
      T0,
    );
    const r1 = await store.timeline("R01");
    expect(r1.map((e) => [e.seq, e.op, e.startedAt, e.endedAt, e.output, e.error])).toEqual([
      [1, "StepRun", T0 + 1, T0 + 10, { data: "ok" }, null],
      [2, "Sleep", T0 + 3, null, null, null],
      [3, "Run", T0 + 4, null, null, null],
      [4, "StepRun", T0 + 20, T0 + 30, null, { message: "boom" }],
    ]);
    expect(r1[2]?.stepId).toBeNull();
    expect((await store.timeline("R02")).map((e) => [e.seq, e.endedAt])).toEqual([[1, null]]);
    expect(await store.timeline("R09")).toEqual([]);
  });

  it("queue: loaded by due time then id; a run's items by due time; a put again moves it; deletes come before adds", async () => {
    await store.commit(
      [
        changes((set) => {
          set.newRuns.push(run("R01"), run("R02"));
          set.add(call("Q3", "R01", T0 + 30));
          set.add(call("Q1", "R01", T0 + 50));
          set.add(call("Q2", "R02", T0 + 30));
          set.add({
            id: "C1",
            kind: "cron",
            runId: null,
            stepId: null,
            attempt: 0,
            dueAt: T0 + 10,
            data: { slug: "app-fn", cron: "* * * * *" },
          });
        }),
      ],
      T0,
    );
    expect((await store.loadQueue()).map((q) => q.id)).toEqual(["C1", "Q2", "Q3", "Q1"]);
    expect((await store.loadQueue())[0]).toEqual({
      id: "C1",
      kind: "cron",
      runId: null,
      stepId: null,
      attempt: 0,
      dueAt: T0 + 10,
      data: { slug: "app-fn", cron: "* * * * *" },
    });
    expect((await store.queueOfRun("R01")).map((q) => q.id)).toEqual(["Q3", "Q1"]);
    await store.commit(
      [
        changes((set) => {
          // Put again: its attempt, due time and data change; its kind, run and step stay.
          set.add({ ...call("Q1", "R01", T0 + 5, 2, { unreachable: 1 }), stepId: "other" });
          set.deleteItems.add("Q3");
          set.deleteItems.add("C1");
          set.addItems.set("C1", { ...call("C1", "R02", T0 + 100) });
        }),
      ],
      T0,
    );
    expect(await store.queueOfRun("R01")).toEqual([
      call("Q1", "R01", T0 + 5, 2, { unreachable: 1 }),
    ]);
    // Deleted, then put back in the same set.
    expect((await store.loadQueue()).map((q) => [q.id, q.dueAt])).toEqual([
      ["Q1", T0 + 5],
      ["Q2", T0 + 30],
      ["C1", T0 + 100],
    ]);
    expect((await store.queueOfRun("R02")).map((q) => q.id)).toEqual(["Q2", "C1"]);
  });

  it("idempotency: a held key skips the new run and leaves nothing of it; the key frees after 24 h", async () => {
    const start = (runId: string, eventId: string) =>
      changes((set) => {
        set.events.push(event(eventId));
        set.newRuns.push(run(runId, { eventId, eventIds: [eventId] }));
        set.idempotencyKeys.set(runId, "app-fn:key-1");
        set.newSteps.push({ runId, stepId: "s", position: 0, value: { data: 1 } });
        set.add(call(`Q-${runId}`, runId, T0));
        set.addPauses.push(pause(`P-${runId}`, runId));
        set.timeline.push({
          runId,
          stepId: null,
          name: "run",
          op: "Run",
          attempt: 0,
          startedAt: T0,
          endedAt: null,
          output: null,
          error: null,
        });
      });
    expect(await store.commit([start("R01", "E01")], T0)).toEqual([new Set()]);
    // A second run at the same time and one an hour later: both skipped, their events kept.
    const skipped = await store.commit([start("R02", "E02")], T0);
    expect(skipped).toEqual([new Set(["R02"])]);
    const later = await store.commit(
      [start("R03", "E03"), changes((set) => set.newRuns.push(run("R04")))],
      T0 + 3600_000,
    );
    expect(later).toEqual([new Set(["R03"]), new Set()]);
    for (const runId of ["R02", "R03"]) {
      expect(await store.getRun(runId)).toBeNull();
      expect(await store.timeline(runId)).toEqual([]);
      expect(await store.queueOfRun(runId)).toEqual([]);
    }
    expect((await store.loadPauses()).map((p) => p.id)).toEqual(["P-R01"]);
    expect((await store.listActiveRuns()).map((a) => [a.run.runId, a.steps.length])).toEqual([
      ["R01", 1],
      ["R04", 0],
    ]);
    expect(await store.getEvent("E03")).not.toBeNull();
    expect(await store.listRunsByEvent("E02")).toEqual([]);
    // One millisecond before the 24 h are up the key is held; at 24 h it is free again.
    expect(await store.commit([start("R05", "E05")], T0 + IDEMPOTENCY_TTL_MS - 1)).toEqual([
      new Set(["R05"]),
    ]);
    expect(await store.commit([start("R06", "E06")], T0 + IDEMPOTENCY_TTL_MS)).toEqual([new Set()]);
    expect(await store.getRun("R06")).not.toBeNull();
    // Claimed again at T0 + 24 h: held for 24 h from then.
    expect(await store.commit([start("R07", "E07")], T0 + 2 * IDEMPOTENCY_TTL_MS - 1)).toEqual([
      new Set(["R07"]),
    ]);
  });

  it("pauses, GCRA states and batches: added, kept once, replaced, deleted", async () => {
    await store.commit(
      [
        changes((set) => {
          set.newRuns.push(run("R01"));
          set.addPauses.push(pause("P1", "R01"), pause("P2", "R01", { kind: "cancel" }));
          set.gcra.set("k1", T0 + 1);
          set.gcra.set("k2", T0 + 2);
          set.batches.set("b2", { slug: "app-fn", eventIds: ["E01"] });
          set.batches.set("b1", { slug: "app-fn", eventIds: ["E02", "E03"] });
        }),
      ],
      T0,
    );
    await store.commit(
      [
        changes((set) => {
          // An id already there is not replaced.
          set.addPauses.push(pause("P1", "R01", { eventName: "app/changed" }));
          set.deletePauses.set("P2", pause("P2", "R01"));
          set.gcra.set("k1", T0 + 100);
          set.batches.set("b2", { slug: "app-fn", eventIds: ["E01", "E04"] });
          set.batches.set("b1", { slug: "app-fn", eventIds: null });
        }),
      ],
      T0,
    );
    expect(await store.loadPauses()).toEqual([pause("P1", "R01")]);
    expect(await store.loadGcraStates()).toEqual(
      new Map([
        ["k1", T0 + 100],
        ["k2", T0 + 2],
      ]),
    );
    expect(await store.loadBatches()).toEqual([
      { key: "b2", functionSlug: "app-fn", eventIds: ["E01", "E04"] },
    ]);
  });

  it("apps: saved by URL, their functions replaced, a slug taken over by the latest app; errors set alone", async () => {
    const a = "http://a.test/api";
    const b = "http://b.test/api";
    await store.saveApp(app(b, 2), [fn("b-one", b), fn("shared", b)]);
    await store.saveApp(app(a, 2), [fn("a-one", a), fn("a-two", a)]);
    await store.saveApp(app(a, 2), [fn("a-two", a), fn("shared", a)]);
    const mine = async () =>
      (await store.listFunctions())
        .filter((f) => f.appUrl === a || f.appUrl === b)
        .map((f) => [f.slug, f.appUrl]);
    expect(await mine()).toEqual([
      ["a-two", a],
      ["b-one", b],
      ["shared", a],
    ]);
    expect((await store.listFunctions()).find((f) => f.slug === "a-two")).toEqual(fn("a-two", a));
    // Without functions: the app's row only.
    await store.saveApp({ ...app(a, 5), framework: "next" }, null);
    expect((await mine()).length).toBe(3);
    await store.setAppError(a, "unreachable");
    await store.setAppError("http://c.test/api", "refused");
    const apps = (await store.listApps()).filter((x) => /^http:\/\/[abc]\.test\//.test(x.url));
    expect(apps).toEqual([
      { ...app(a, 5), framework: "next", error: "unreachable" },
      { ...app(b, 2) },
      {
        url: "http://c.test/api",
        appId: null,
        framework: null,
        sdk: null,
        functionCount: 0,
        syncedAt: null,
        error: "refused",
      },
    ]);
    await store.saveApp(app(b, 0), []);
    expect(await mine()).toEqual([
      ["a-two", a],
      ["shared", a],
    ]);
  });

  it("reset: events, runs and scheduled work go, apps and functions stay, keys are free again", async () => {
    const url = "http://reset.test/api";
    await store.saveApp(app(url, 1), [fn("reset-fn", url)]);
    const start = (runId: string) =>
      changes((set) => {
        set.events.push(event("E01"));
        set.newRuns.push(run(runId));
        set.idempotencyKeys.set(runId, "reset-key");
        set.add(call("Q1", runId, T0));
        set.addPauses.push(pause("P1", runId));
        set.gcra.set("g", 1);
        set.batches.set("b", { slug: "reset-fn", eventIds: ["E01"] });
      });
    await store.commit([start("R01")], T0);
    await store.reset();
    expect(await store.listEvents({ limit: 10 })).toEqual([]);
    expect(await store.listRuns({ limit: 10 })).toEqual([]);
    expect(await store.listActiveRuns()).toEqual([]);
    expect(await store.loadQueue()).toEqual([]);
    expect(await store.loadPauses()).toEqual([]);
    expect(await store.loadGcraStates()).toEqual(new Map());
    expect(await store.loadBatches()).toEqual([]);
    expect((await store.listApps()).some((x) => x.url === url)).toBe(true);
    expect((await store.listFunctions()).some((f) => f.slug === "reset-fn")).toBe(true);
    expect(await store.commit([start("R02")], T0)).toEqual([new Set()]);
  });

  it("what it hands out and what it was given are copies: mutating either changes nothing stored", async () => {
    const given = event("E01", "app/a", { data: { list: [1, 2], nested: { x: 1 } } });
    const givenRun = run("R01", { output: { v: 1 } });
    const step = { runId: "R01", stepId: "s", position: 0, value: { data: { n: 1 } } };
    const item = call("Q1", "R01", T0);
    await store.commit(
      [
        changes((set) => {
          set.events.push(given);
          set.newRuns.push(givenRun);
          set.newSteps.push(step);
          set.add(item);
        }),
      ],
      T0,
    );
    (given.data.list as number[]).push(3);
    givenRun.status = "Failed";
    (step.value.data as { n: number }).n = 2;
    item.dueAt = 0;
    const read = await store.getEvent("E01");
    (read?.data.nested as { x: number }).x = 9;
    const [active] = await store.listActiveRuns();
    const value = active?.steps[0]?.value as { data: { n: number } } | undefined;
    if (value) value.data.n = 3;
    if (active) active.run.status = "Cancelled";
    const [queued] = await store.loadQueue();
    if (queued) queued.attempt = 5;
    expect((await store.getEvent("E01"))?.data).toEqual({ list: [1, 2], nested: { x: 1 } });
    expect((await store.getRun("R01"))?.status).toBe("Running");
    expect((await store.listActiveRuns())[0]?.steps[0]?.value).toEqual({ data: { n: 1 } });
    expect(await store.loadQueue()).toEqual([call("Q1", "R01", T0)]);
  });
});
