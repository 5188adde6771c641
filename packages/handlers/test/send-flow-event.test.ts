import { taskCreatedData } from "@repo/contracts/events";
import { webhookLog } from "@repo/db";
import { flowResultsReaders } from "@repo/functions";
import { describe, expect, it } from "vitest";
import { createRequestHandlers, signWebhook } from "../src/index";
import {
  drivers,
  endlessBody,
  postJson,
  postStream,
  readJsonResponse,
  startFakeInngest,
  testInngestClient,
  useHandlers,
  WEBHOOK_SECRET,
  webhookLogCount,
} from "./support";

const signup = { userId: "user-1", email: "ada@example.com", name: "Ada Lovelace", plan: "pro" };
const pipeline = {
  datasetId: "dataset-1",
  name: "November sales",
  uploadedBy: "ada@example.com",
  records: '[{"name":"Ada","email":"ada@example.com","amount":12.5}]',
};
const approvalRequest = {
  requestId: "request-1",
  title: "Refund order 1042",
  requestedBy: "ada@example.com",
  timeoutSeconds: "3600",
};
const approvalDecision = {
  requestId: "request-1",
  decision: "approved",
  decidedBy: "grace@example.com",
};
const webhookPayload = '{"type":"invoice.paid","id":"evt_1","data":{"invoice":"inv_1"}}';

interface BadInput {
  name: string;
  path: string;
  body: unknown;
  status: number;
  error: RegExp;
  /** Field name → a pattern its (first) message must match; exactly these fields are named. */
  fieldErrors?: Record<string, RegExp>;
}

const badInputs: BadInput[] = [
  {
    name: "malformed JSON",
    path: "/api/flows/signup/send",
    body: '{"userId": ',
    status: 400,
    error: /^request body is not valid JSON: /,
  },
  {
    name: "an empty body",
    path: "/api/flows/signup/send",
    body: "",
    status: 400,
    error: /^request body is not valid JSON: /,
  },
  {
    name: "a JSON array",
    path: "/api/flows/signup/send",
    body: [signup],
    status: 400,
    error: /must be a JSON object of form fields, got an array/,
  },
  {
    name: "JSON null",
    path: "/api/flows/signup/send",
    body: "null",
    status: 400,
    error: /must be a JSON object of form fields, got null/,
  },
  {
    name: "an unknown flow",
    path: "/api/flows/nope/send",
    body: signup,
    status: 404,
    error: /^unknown flow "nope"$/,
  },
  {
    name: "an unknown form",
    path: "/api/flows/signup/nope",
    body: signup,
    status: 404,
    error: /^flow "signup" has no form "nope"$/,
  },
  {
    name: "a flow without forms (cron)",
    path: "/api/flows/cron/send",
    body: {},
    status: 404,
    error: /^flow "cron" has no form "send"$/,
  },
  {
    name: "missing required fields",
    path: "/api/flows/signup/send",
    body: { userId: "user-1" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { email: /^is required$/, name: /^is required$/ },
  },
  {
    name: "wrong types",
    path: "/api/flows/signup/send",
    body: { ...signup, userId: 5, name: ["Ada"] },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { userId: /userId must be a string/, name: /expected string/ },
  },
  {
    name: "a malformed email and an unknown plan",
    path: "/api/flows/signup/send",
    body: { ...signup, email: "ada-at-example", plan: "gold" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { email: /valid email/, plan: /free|pro/ },
  },
  {
    name: "an id with spaces",
    path: "/api/flows/signup/send",
    body: { ...signup, userId: "user 1" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { userId: /1-64 letters/ },
  },
  {
    name: "a name of only spaces",
    path: "/api/flows/hello/send",
    body: { name: "   " },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { name: /must not be empty/ },
  },
  {
    name: "a number field that is not a number",
    path: "/api/flows/retries/send",
    body: { jobId: "job-1", failTimes: "two" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { failTimes: /expected number/ },
  },
  {
    name: "an empty required number field",
    path: "/api/flows/retries/send",
    body: { jobId: "job-1", failTimes: "" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { failTimes: /^is required$/ },
  },
  {
    name: "a number field above its maximum",
    path: "/api/flows/retries/send",
    body: { jobId: "job-1", failTimes: "11" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { failTimes: /10/ },
  },
  {
    name: "a fractional number",
    path: "/api/flows/retries/send",
    body: { jobId: "job-1", failTimes: 2.5 },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { failTimes: /int/ },
  },
  {
    name: "an optional number field below its minimum",
    path: "/api/flows/approval/request",
    body: { ...approvalRequest, timeoutSeconds: "0" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { timeoutSeconds: />=1/ },
  },
  {
    name: "an unknown decision",
    path: "/api/flows/approval/decide",
    body: { ...approvalDecision, decision: "maybe" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { decision: /approved|rejected/ },
  },
  {
    name: "count 0",
    path: "/api/flows/concurrency/send",
    body: { userId: "user-1", count: 0, durationMs: 500 },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { count: /^must be a whole number from 1 to 20$/ },
  },
  {
    name: "count above the form's maximum",
    path: "/api/flows/concurrency/send",
    body: { userId: "user-1", count: "21", durationMs: "500" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { count: /^must be a whole number from 1 to 20$/ },
  },
  {
    name: "count that is not a number",
    path: "/api/flows/rate-limit/send",
    body: { userId: "user-1", count: "six" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { count: /^must be a whole number from 1 to 20$/ },
  },
  {
    name: "a missing count",
    path: "/api/flows/rate-limit/send",
    body: { userId: "user-1" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { count: /^is required$/ },
  },
  {
    name: "a fractional count, and a path without /",
    path: "/api/flows/batching/send",
    body: { userId: "user-1", count: "2.5", path: "pricing" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { count: /from 1 to 50/, path: /must start with \// },
  },
  {
    name: "records that are not JSON",
    path: "/api/flows/pipeline/send",
    body: { ...pipeline, records: "[{name: Ada}]" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { records: /^is not valid JSON: / },
  },
  {
    name: "records that are a JSON object, not an array",
    path: "/api/flows/pipeline/send",
    body: { ...pipeline, records: '{"name":"Ada"}' },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { records: /must be an array of records/ },
  },
  {
    name: "an empty records array",
    path: "/api/flows/pipeline/send",
    body: { ...pipeline, records: "[]" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { records: /at least one record/ },
  },
  {
    name: "records that are not objects",
    path: "/api/flows/pipeline/send",
    body: { ...pipeline, records: [1, 2] },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { records: /expected record/ },
  },
  {
    name: "a webhook source with capitals and spaces",
    path: "/api/flows/webhook/send",
    body: { source: "Billing Team", payload: webhookPayload },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { source: /lowercase letters/ },
  },
  {
    name: "a webhook without payload",
    path: "/api/flows/webhook/send",
    body: { source: "billing", payload: "" },
    status: 400,
    error: /^invalid input$/,
    fieldErrors: { payload: /^is required$/ },
  },
  {
    name: "a wrong webhook signature",
    path: "/api/flows/webhook/send",
    body: { source: "billing", payload: webhookPayload, signature: `sha256=${"0".repeat(64)}` },
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a webhook signature made with another secret",
    path: "/api/flows/webhook/send",
    body: {
      source: "billing",
      payload: webhookPayload,
      signature: signWebhook("not-the-secret", webhookPayload),
    },
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a body over 512 KiB",
    path: "/api/flows/signup/send",
    body: { ...signup, name: "a".repeat(512 * 1024) },
    status: 413,
    error: /larger than the limit of 512 KiB/,
  },
];

describe.each(drivers)("sendFlowEvent (%s)", (driver) => {
  const h = useHandlers(driver);

  /** What the fake event API accepted, without the `ts` the SDK adds. */
  const sent = () => h.inngest.events.map(({ name, data }) => ({ name, data }));

  async function submit(path: string, body: unknown) {
    return readJsonResponse(await h.handlers.handle(postJson(path, body)));
  }

  describe("rejects bad input, and then sends and stores nothing", () => {
    it.each(badInputs)("$name → $status", async ({ path, body, status, error, fieldErrors }) => {
      const response = await submit(path, body);

      expect(response.status).toBe(status);
      expect(response.body.error).toMatch(error);
      if (fieldErrors) {
        const got = response.body.fieldErrors as Record<string, string[]>;
        expect(Object.keys(got).sort()).toEqual(Object.keys(fieldErrors).sort());
        for (const [field, message] of Object.entries(fieldErrors)) {
          expect(got[field]?.[0], `message for ${field}`).toMatch(message);
        }
      } else {
        expect(response.body).not.toHaveProperty("fieldErrors");
      }
      expect(h.inngest.requests).toBe(0);
      expect(await webhookLogCount(h.db)).toBe(0);
      expect(h.logged).toEqual([]);
    });

    it.each([
      ["text/plain;charset=UTF-8", /got "text\/plain;charset=UTF-8"/],
      ["application/x-www-form-urlencoded", /got "application\/x-www-form-urlencoded"/],
      ["", /got none/],
    ])("refuses content-type %j with a 415 naming it, sending nothing", async (type, got) => {
      const request = new Request("http://127.0.0.1/api/flows/signup/send", {
        method: "POST",
        headers: type ? { "content-type": type } : {},
        body: JSON.stringify(signup),
      });
      if (!type) request.headers.delete("content-type");
      const response = await readJsonResponse(await h.handlers.handle(request));
      expect(response.status).toBe(415);
      expect(response.body.error).toMatch(/^content-type must be application\/json, /);
      expect(response.body.error).toMatch(got);
      expect(h.inngest.requests).toBe(0);
    });

    it("takes application/json with a charset", async () => {
      const response = await readJsonResponse(
        await h.handlers.handle(
          postJson("/api/flows/signup/send", signup, {
            "content-type": "application/json; charset=utf-8",
          }),
        ),
      );
      expect(response.status).toBe(200);
    });

    it("stops reading a body stream at 512 KiB (no Content-Length to trust)", async () => {
      const response = await readJsonResponse(
        await h.handlers.sendFlowEvent(
          postStream("/api/flows/signup/send", endlessBody(), {
            "content-type": "application/json",
          }),
          "signup",
          "send",
        ),
      );
      expect(response).toEqual({
        status: 413,
        body: { error: "request body is larger than the limit of 512 KiB" },
      });
      expect(h.inngest.requests).toBe(0);
    });

    it("refuses a declared Content-Length over the limit before reading", async () => {
      const request = postStream("/api/flows/signup/send", endlessBody(), {
        "content-type": "application/json",
        "content-length": String(512 * 1024 + 1),
      });
      const response = await h.handlers.sendFlowEvent(request, "signup", "send");
      expect(response.status).toBe(413);
      // Unread, so the connection cannot carry another request: the client is told so.
      expect(response.headers.get("connection")).toBe("close");
      expect(request.bodyUsed).toBe(false);
      expect(h.inngest.requests).toBe(0);
    });
  });

  describe("sends the events, with exactly the schema's data", () => {
    it("signup: one event with the fields, answering the ids Inngest gave", async () => {
      const response = await submit("/api/flows/signup/send", signup);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ids: h.inngest.answeredIds });
      expect(h.inngest.answeredIds).toHaveLength(1);
      expect(sent()).toEqual([{ name: "app/user.signup", data: signup }]);
    });

    it("drops empty optional fields and fields that are not the form's", async () => {
      const response = await submit("/api/flows/signup/send", {
        ...signup,
        plan: "",
        isAdmin: true,
      });

      expect(response.status).toBe(200);
      expect(sent()).toEqual([
        {
          name: "app/user.signup",
          data: { userId: "user-1", email: "ada@example.com", name: "Ada Lovelace" },
        },
      ]);
    });

    it("hello: an empty name is left out, a padded one trimmed by the schema", async () => {
      await submit("/api/flows/hello/send", { name: "" });
      await submit("/api/flows/hello/send", { name: "  Grace " });

      expect(sent()).toEqual([
        { name: "test/hello.world", data: {} },
        { name: "test/hello.world", data: { name: "Grace" } },
      ]);
    });

    it("number fields arrive as numbers whether the form sent strings or numbers", async () => {
      await submit("/api/flows/approval/request", approvalRequest);
      await submit("/api/flows/approval/request", { ...approvalRequest, timeoutSeconds: 60 });
      await submit("/api/flows/approval/request", { ...approvalRequest, timeoutSeconds: "" });
      await submit("/api/flows/retries/send", { jobId: "job-1", failTimes: "2" });
      await submit("/api/flows/retries/send", { jobId: "job-2", failTimes: 0 });

      const { timeoutSeconds: _, ...withoutTimeout } = approvalRequest;
      expect(sent()).toEqual([
        { name: "app/approval.requested", data: { ...approvalRequest, timeoutSeconds: 3600 } },
        { name: "app/approval.requested", data: { ...approvalRequest, timeoutSeconds: 60 } },
        { name: "app/approval.requested", data: withoutTimeout },
        { name: "app/job.requested", data: { jobId: "job-1", failTimes: 2 } },
        { name: "app/job.requested", data: { jobId: "job-2", failTimes: 0 } },
      ]);
    });

    it("approval decision: an empty or null comment is left out, a comment kept", async () => {
      await submit("/api/flows/approval/decide", { ...approvalDecision, comment: "" });
      await submit("/api/flows/approval/decide", { ...approvalDecision, comment: null });
      await submit("/api/flows/approval/decide", { ...approvalDecision, comment: "fine" });

      expect(sent()).toEqual([
        { name: "app/approval.decided", data: approvalDecision },
        { name: "app/approval.decided", data: approvalDecision },
        { name: "app/approval.decided", data: { ...approvalDecision, comment: "fine" } },
      ]);
    });

    it("pipeline: records from the textarea's JSON text, or given as an array", async () => {
      const records = [{ name: "Ada", email: "ada@example.com", amount: 12.5 }];
      await submit("/api/flows/pipeline/send", pipeline);
      await submit("/api/flows/pipeline/send", { ...pipeline, records });

      const data = { ...pipeline, records };
      expect(sent()).toEqual([
        { name: "app/data.uploaded", data },
        { name: "app/data.uploaded", data },
      ]);
    });

    it("concurrency: count becomes that many events, each with its own task id", async () => {
      const response = await submit("/api/flows/concurrency/send", {
        userId: "user-1",
        count: "3",
        durationMs: "500",
      });

      expect(response.status).toBe(200);
      expect(response.body.ids).toEqual(h.inngest.answeredIds);
      expect(h.inngest.answeredIds).toHaveLength(3);
      const events = sent();
      expect(events).toHaveLength(3);
      const taskIds = events.map(({ data }) => data.taskId as string);
      expect(new Set(taskIds).size).toBe(3);
      events.forEach(({ name, data }, index) => {
        expect(name).toBe("app/task.created");
        expect(data).toEqual({ userId: "user-1", taskId: taskIds[index], durationMs: 500 });
        expect(data.taskId).toMatch(new RegExp(`^user-1-task-${index + 1}-[0-9a-f]{6}$`));
      });
    });

    it("concurrency: task ids stay valid ids for the longest user id, and new per submission", async () => {
      const userId = `u${"x".repeat(63)}`;
      await submit("/api/flows/concurrency/send", { userId, count: 20, durationMs: 0 });
      await submit("/api/flows/concurrency/send", { userId, count: 20, durationMs: 0 });

      const taskIds = sent().map(({ data }) => data.taskId as string);
      expect(taskIds).toHaveLength(40);
      expect(new Set(taskIds).size).toBe(40);
      for (const { data } of sent()) {
        expect(taskCreatedData.safeParse(data).success, String(data.taskId)).toBe(true);
      }
    });

    it("rate limit: count repeats the same data", async () => {
      const response = await submit("/api/flows/rate-limit/send", { userId: "user-2", count: 6 });

      expect(response.body.ids).toHaveLength(6);
      expect(sent()).toEqual(
        Array.from({ length: 6 }, () => ({
          name: "app/user.sync.requested",
          data: { userId: "user-2" },
        })),
      );
    });

    it("batching: count repeats the same page view", async () => {
      await submit("/api/flows/batching/send", { userId: "user-3", count: "3", path: "/pricing" });

      expect(sent()).toEqual(
        Array.from({ length: 3 }, () => ({
          name: "app/page.viewed",
          data: { userId: "user-3", path: "/pricing" },
        })),
      );
    });
  });

  describe("the webhook form", () => {
    it("signs an unsigned payload, logs it, then sends its log id", async () => {
      for (const signature of [undefined, ""]) {
        h.inngest.reset();
        await h.db.delete(webhookLog);
        const response = await submit("/api/flows/webhook/send", {
          source: "billing",
          payload: webhookPayload,
          ...(signature === undefined ? {} : { signature }),
        });

        expect(response.status).toBe(202);
        const [row, ...others] = await h.db.select().from(webhookLog);
        expect(others).toEqual([]);
        expect(row).toMatchObject({
          source: "billing",
          payload: webhookPayload,
          signatureValid: true,
          status: "received",
        });
        expect(response.body).toEqual({ logId: row?.id, ids: h.inngest.answeredIds });
        expect(sent()).toEqual([
          { name: "webhook/received", data: { logId: row?.id, app: "test" } },
        ]);
      }
    });

    it("accepts a correct signature typed into the form", async () => {
      const response = await submit("/api/flows/webhook/send", {
        source: "billing",
        payload: "not JSON: process-webhook reports it",
        signature: signWebhook(WEBHOOK_SECRET, "not JSON: process-webhook reports it"),
      });

      expect(response.status).toBe(202);
      expect(await webhookLogCount(h.db)).toBe(1);
      expect(h.inngest.events).toHaveLength(1);
    });
  });

  describe("when Inngest or the database fails", () => {
    it("answers 502 naming Inngest when the event API refuses the events", async () => {
      const response = await readJsonResponse(
        await h.failingHandlers.handle(postJson("/api/flows/signup/send", signup)),
      );

      expect(response.status).toBe(502);
      expect(response.body.error).toMatch(/^could not send the event to Inngest: .*500/);
      expect(h.failingInngest.requests).toBeGreaterThan(0);
      expect(h.logged).toHaveLength(1);
    });

    it("answers a bare 500 for an unexpected error, and logs it", async () => {
      const logged: unknown[][] = [];
      const fake = await startFakeInngest();
      try {
        const handlers = createRequestHandlers({
          inngest: testInngestClient(fake),
          getDatabase: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432")),
          results: flowResultsReaders,
          webhookSecret: WEBHOOK_SECRET,
          logger: { error: (...args: unknown[]) => void logged.push(args) },
        });
        const response = await readJsonResponse(
          await handlers.handle(
            postJson("/api/flows/webhook/send", { source: "billing", payload: webhookPayload }),
          ),
        );

        expect(response).toEqual({ status: 500, body: { error: "internal error" } });
        expect(String(logged[0]?.[1])).toMatch(/ECONNREFUSED/);
        expect(fake.requests).toBe(0);
      } finally {
        await fake.close();
      }
    });
  });
});
