import {
  analyticsEvents,
  approvalRequests,
  datasetRecords,
  datasets,
  emailOutbox,
  eventBatches,
  functionFailures,
  jobAttempts,
  profiles,
  reports,
  syncRuns,
  taskRuns,
  users,
  webhookLog,
} from "@repo/db";
import { describe, expect, it } from "vitest";
import { drivers, ORIGIN, readJsonResponse, useHandlers } from "./support";

const at = (iso: string) => new Date(iso);

type Row = Record<string, unknown>;

describe.each(drivers)("flowResults (%s)", (driver) => {
  const h = useHandlers(driver);

  async function results(flowId: string, key?: string) {
    const query = key === undefined ? "" : `?key=${encodeURIComponent(key)}`;
    const response = await h.handlers.handle(
      new Request(`${ORIGIN}/api/flows/${flowId}/results${query}`),
    );
    return readJsonResponse(response);
  }

  async function resultsOf(flowId: string, key?: string) {
    const response = await results(flowId, key);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ flow: flowId, key: key ?? null });
    return response.body.results as Record<string, unknown>;
  }

  describe("refuses what it cannot answer", () => {
    it.each([
      ["an unknown flow", "nope", "x", 404, /^unknown flow "nope"$/],
      ["no key", "signup", undefined, 400, /missing query parameter "key" \(the userId/],
      ["an empty key", "concurrency", "", 400, /missing query parameter "key"/],
      ["a webhook key that is not a number", "webhook", "abc", 400, /webhook log id.*"abc"/],
      ["webhook log id 0", "webhook", "0", 400, /webhook log id/],
      ["a webhook log id past integer", "webhook", "2147483648", 400, /webhook log id/],
    ])("%s → %i", async (_, flowId, key, status, error) => {
      const response = await results(flowId, key);
      expect(response.status).toBe(status);
      expect(response.body.error).toMatch(error);
    });
  });

  it("hello: no rows (its result is the run's output)", async () => {
    expect(await results("hello")).toEqual({
      status: 200,
      body: { flow: "hello", key: null, results: {} },
    });
  });

  it("signup: the user, profile, welcome email and signup analytics of that user only", async () => {
    await h.db.insert(users).values([
      { id: "ada", email: "ada@example.com", name: "Ada", createdAt: at("2025-01-02T03:04:05Z") },
      { id: "grace", email: "grace@example.com", name: "Grace" },
    ]);
    await h.db.insert(profiles).values([
      { userId: "ada", displayName: "Ada", plan: "pro" },
      { userId: "grace", displayName: "Grace" },
    ]);
    await h.db.insert(emailOutbox).values([
      { dedupeKey: "welcome:ada", recipient: "ada@example.com", template: "welcome", payload: {} },
      {
        dedupeKey: "welcome:grace",
        recipient: "grace@example.com",
        template: "welcome",
        payload: {},
      },
    ]);
    await h.db.insert(analyticsEvents).values([
      { dedupeKey: "user.signed_up:ada", userId: "ada", name: "user.signed_up" },
      { dedupeKey: "page.viewed:e-ada", userId: "ada", name: "page.viewed" },
      { dedupeKey: "user.signed_up:grace", userId: "grace", name: "user.signed_up" },
    ]);

    const found = await resultsOf("signup", "ada");

    expect(found.user).toEqual({
      id: "ada",
      email: "ada@example.com",
      name: "Ada",
      createdAt: "2025-01-02T03:04:05.000Z",
    });
    expect(found.profile).toMatchObject({ userId: "ada", plan: "pro" });
    expect((found.emails as Row[]).map((e) => e.dedupeKey)).toEqual(["welcome:ada"]);
    expect((found.analytics as Row[]).map((e) => e.dedupeKey)).toEqual(["user.signed_up:ada"]);

    expect(await resultsOf("signup", "nobody")).toEqual({
      user: null,
      profile: null,
      emails: [],
      analytics: [],
    });
  });

  it("webhook: the log row by id", async () => {
    const [row] = await h.db
      .insert(webhookLog)
      .values({
        source: "billing",
        payload: '{"type":"invoice.paid"}',
        signatureValid: true,
        status: "processed",
        result: { type: "invoice.paid" },
        receivedAt: at("2025-03-04T05:06:07.250Z"),
      })
      .returning();
    const id = String(row?.id);

    const found = await resultsOf("webhook", id);

    expect(found.webhook).toMatchObject({
      id: row?.id,
      source: "billing",
      status: "processed",
      result: { type: "invoice.paid" },
      receivedAt: "2025-03-04T05:06:07.250Z",
      processedAt: null,
    });
    expect(await resultsOf("webhook", String(Number(id) + 1))).toEqual({ webhook: null });
  });

  it("pipeline: the dataset, its records in row order, and its notification", async () => {
    await h.db.insert(datasets).values([
      {
        id: "sales",
        name: "Sales",
        uploadedBy: "ada@example.com",
        status: "stored",
        recordCount: 2,
      },
      { id: "other", name: "Other", uploadedBy: "ada@example.com" },
    ]);
    await h.db.insert(datasetRecords).values([
      { datasetId: "sales", rowIndex: 1, name: "Grace", email: "g@example.com", amountCents: 3000 },
      { datasetId: "sales", rowIndex: 0, name: "Ada", email: "a@example.com", amountCents: 1250 },
      { datasetId: "other", rowIndex: 0, name: "Zed", email: "z@example.com", amountCents: 1 },
    ]);
    await h.db.insert(emailOutbox).values([
      {
        dedupeKey: "dataset-stored:sales",
        recipient: "ada@example.com",
        template: "dataset-stored",
        payload: { datasetId: "sales" },
      },
      {
        dedupeKey: "dataset-stored:other",
        recipient: "ada@example.com",
        template: "dataset-stored",
        payload: { datasetId: "other" },
      },
    ]);

    const found = await resultsOf("pipeline", "sales");

    expect(found.dataset).toMatchObject({ id: "sales", status: "stored", recordCount: 2 });
    expect((found.records as Row[]).map((r) => [r.rowIndex, r.name])).toEqual([
      [0, "Ada"],
      [1, "Grace"],
    ]);
    expect(found.emails).toEqual([
      expect.objectContaining({
        dedupeKey: "dataset-stored:sales",
        payload: { datasetId: "sales" },
      }),
    ]);
  });

  it("approval: the request row", async () => {
    await h.db.insert(approvalRequests).values([
      {
        id: "refund-1",
        title: "Refund",
        requestedBy: "ada@example.com",
        status: "approved",
        decidedBy: "grace@example.com",
        expiresAt: at("2025-05-06T07:08:09Z"),
      },
      { id: "refund-2", title: "Other", requestedBy: "ada@example.com", expiresAt: new Date() },
    ]);

    const found = await resultsOf("approval", "refund-1");

    expect(found.request).toMatchObject({
      id: "refund-1",
      status: "approved",
      decidedBy: "grace@example.com",
      expiresAt: "2025-05-06T07:08:09.000Z",
    });
  });

  it("retries: the job's attempts in order and its flaky-job failures", async () => {
    await h.db.insert(jobAttempts).values([
      { jobId: "job-1", attempt: 3, succeeded: false, error: "third" },
      { jobId: "job-1", attempt: 1, succeeded: false, error: "first" },
      { jobId: "job-1", attempt: 2, succeeded: false, error: "second" },
      { jobId: "job-2", attempt: 1, succeeded: true },
    ]);
    const failure = { eventName: "app/job.requested", eventData: {}, error: "out of retries" };
    await h.db.insert(functionFailures).values([
      { ...failure, functionId: "flaky-job", runId: "run-1", subjectId: "job-1" },
      { ...failure, functionId: "flaky-job", runId: "run-2", subjectId: "job-2" },
      { ...failure, functionId: "data-pipeline", runId: "run-3", subjectId: "job-1" },
    ]);

    const found = await resultsOf("retries", "job-1");

    expect((found.attempts as Row[]).map((a) => [a.attempt, a.error])).toEqual([
      [1, "first"],
      [2, "second"],
      [3, "third"],
    ]);
    expect((found.failures as Row[]).map((f) => f.runId)).toEqual(["run-1"]);
  });

  it("concurrency: the user's task runs by start time", async () => {
    await h.db.insert(taskRuns).values([
      { taskId: "t2", userId: "ada", runId: "r2", startedAt: at("2025-01-01T00:00:02Z") },
      { taskId: "t1", userId: "ada", runId: "r1", startedAt: at("2025-01-01T00:00:01Z") },
      { taskId: "t3", userId: "grace", runId: "r3", startedAt: at("2025-01-01T00:00:00Z") },
    ]);

    const found = await resultsOf("concurrency", "ada");

    expect(found.tasks).toEqual([
      expect.objectContaining({ taskId: "t1", startedAt: "2025-01-01T00:00:01.000Z" }),
      expect.objectContaining({ taskId: "t2", finishedAt: null }),
    ]);
  });

  it("rate limit: the user's sync runs", async () => {
    await h.db.insert(syncRuns).values([
      { eventId: "e1", userId: "ada", runId: "r1", ranAt: at("2025-01-01T00:00:01Z") },
      { eventId: "e2", userId: "grace", runId: "r2" },
      { eventId: "e3", userId: "ada", runId: "r3", ranAt: at("2025-01-01T00:00:02Z") },
    ]);

    const found = await resultsOf("rate-limit", "ada");

    expect((found.syncs as Row[]).map((s) => s.eventId)).toEqual(["e1", "e3"]);
  });

  it("batching: the user's page views and the batches that hold them", async () => {
    const view = (eventId: string, userId: string, second: number) => ({
      dedupeKey: `page.viewed:${eventId}`,
      userId,
      name: "page.viewed",
      properties: { path: "/pricing" },
      occurredAt: at(`2025-01-01T00:00:0${second}Z`),
    });
    await h.db
      .insert(analyticsEvents)
      .values([
        view("ev-2", "bea", 2),
        view("ev-1", "bea", 1),
        view("ev-9", "cy", 3),
        { dedupeKey: "user.signed_up:bea", userId: "bea", name: "user.signed_up" },
      ]);
    const batch = (runId: string, eventIds: string[]) => ({
      runId,
      functionId: "record-page-views",
      size: eventIds.length,
      eventIds,
    });
    await h.db
      .insert(eventBatches)
      .values([
        batch("run-a", ["ev-1", "ev-9"]),
        batch("run-b", ["ev-2"]),
        batch("run-c", ["ev-9"]),
        { ...batch("run-d", ["ev-1"]), functionId: "another-batcher" },
      ]);

    const found = await resultsOf("batching", "bea");

    expect((found.pageViews as Row[]).map((v) => v.dedupeKey)).toEqual([
      "page.viewed:ev-1",
      "page.viewed:ev-2",
    ]);
    expect((found.batches as Row[]).map((b) => [b.runId, b.eventIds])).toEqual([
      ["run-a", ["ev-1", "ev-9"]],
      ["run-b", ["ev-2"]],
    ]);
    expect(await resultsOf("batching", "nobody")).toEqual({ pageViews: [], batches: [] });
  });

  it("cron: the latest 10 reports, newest first, and no key", async () => {
    const stats = {
      signups: 1,
      emailsSent: 2,
      webhooksProcessed: 3,
      webhooksFailed: 0,
      datasetsStored: 1,
      recordsStored: 2,
      analyticsEvents: 3,
    };
    await h.db.insert(reports).values(
      Array.from({ length: 12 }, (_, index) => {
        const day = String(index + 1).padStart(2, "0");
        return {
          reportDate: `2025-01-${day}`,
          periodStart: at(`2025-01-${day}T00:00:00Z`),
          periodEnd: at(`2025-01-${day}T09:00:00Z`),
          stats,
        };
      }),
    );

    const response = await results("cron", "ignored");
    expect(response.status).toBe(200);
    expect(response.body.key).toBeNull();
    const latest = (response.body.results as { reports: Row[] }).reports;
    expect(latest.map((r) => r.reportDate)).toEqual(
      Array.from({ length: 10 }, (_, i) => `2025-01-${String(12 - i).padStart(2, "0")}`),
    );
    expect(latest[0]).toMatchObject({ stats, periodEnd: "2025-01-12T09:00:00.000Z" });
  });
});
