import { flowResultsReaders } from "@repo/functions";
import { Inngest } from "inngest";
import { describe, expect, it } from "vitest";
import { createRequestHandlers } from "../src/index";
import { ORIGIN, readJsonResponse, WEBHOOK_SECRET } from "./support";

/**
 * Routing only: every request here is answered before a database or Inngest is needed, so both
 * are unreachable, and reaching them would fail the test.
 */
const handlers = createRequestHandlers({
  inngest: new Inngest({ id: "routing-test", isDev: true, baseUrl: "http://127.0.0.1:9" }),
  getDatabase: () => Promise.reject(new Error("routing tests have no database")),
  results: flowResultsReaders,
  webhookSecret: WEBHOOK_SECRET,
  logger: { error: () => {} },
});

const request = (method: string, path: string, body?: unknown) =>
  new Request(`${ORIGIN}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });

describe("handle", () => {
  it.each([
    ["GET", "/"],
    ["GET", "/flows/signup"],
    ["GET", "/api/inngest"],
    ["PUT", "/api/inngest"],
    ["GET", "/api/flows"],
    ["GET", "/api/flows/signup"],
    ["POST", "/api/flows/signup/send/extra"],
    ["POST", "/api/webhooks"],
    ["POST", "/api/webhooks/billing/extra"],
    ["POST", "/app/api/webhooks/billing"],
  ])("leaves %s %s to the app (null)", async (method, path) => {
    expect(await handlers.handle(request(method, path))).toBeNull();
  });

  it.each([
    ["GET", "/api/flows/signup/send", "POST"],
    ["PUT", "/api/webhooks/billing", "POST"],
    ["DELETE", "/api/flows/signup/results", "GET, POST"],
  ])("answers %s %s with 405, allowing %s", async (method, path, allowed) => {
    const response = await handlers.handle(request(method, path));

    expect(response?.status).toBe(405);
    expect(response?.headers.get("allow")).toBe(allowed);
    expect(await response?.json()).toEqual({
      error: `method ${method} is not allowed on ${path}; use ${allowed}`,
    });
  });

  it("routes POST /api/flows/:flowId/:formId to sendFlowEvent, decoding the segments", async () => {
    expect(
      await readJsonResponse(
        await handlers.handle(request("POST", "/api/flows/sign%75p/nope", {})),
      ),
    ).toEqual({
      status: 404,
      body: { error: 'flow "signup" has no form "nope"' },
    });
    const invalid = await readJsonResponse(
      await handlers.handle(request("POST", "/api/flows/signup/send", {})),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.fieldErrors).toHaveProperty("userId");
  });

  it("routes GET /api/flows/:flowId/results to flowResults, with or without a trailing /", async () => {
    for (const path of [
      "/api/flows/webhook/results?key=abc",
      "/api/flows/webhook/results/?key=abc",
    ]) {
      const response = await readJsonResponse(await handlers.handle(request("GET", path)));
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(/webhook log id.*"abc"/);
    }
  });

  it("routes POST /api/webhooks/:source to receiveWebhook", async () => {
    expect(
      await readJsonResponse(await handlers.handle(request("POST", "/api/webhooks/billing", {}))),
    ).toEqual({
      status: 401,
      body: { error: "missing x-webhook-signature header" },
    });
  });

  it("answers 400 for a path segment with broken percent-encoding", async () => {
    const response = await readJsonResponse(
      await handlers.handle(request("POST", "/api/flows/%E0%A4%A/send", {})),
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/malformed percent-encoding/);
  });
});

describe("createRequestHandlers", () => {
  it("refuses an empty webhook secret (an empty HMAC key would accept forged webhooks)", () => {
    expect(() =>
      createRequestHandlers({
        inngest: new Inngest({ id: "routing-test", isDev: true }),
        getDatabase: () => Promise.reject(new Error("unused")),
        results: flowResultsReaders,
        webhookSecret: "",
      }),
    ).toThrow(/webhookSecret must not be empty/);
  });
});
