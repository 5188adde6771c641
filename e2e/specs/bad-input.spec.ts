import { createHmac } from "node:crypto";
import { expect, test } from "@playwright/test";
import { DEV_SERVER_URL, WEBHOOK_SECRET } from "../support/env";

/**
 * Bad input on the apps' own `/api` routes (`@repo/handlers` as each framework mounts it), the
 * fault suite's scenario 7 for the apps (README "Reliability"; the dev server's surfaces are in
 * `tooling/faults`). Every case runs on Next, Astro and Remix: a 4xx (never a 500, never the
 * framework's own page) whose JSON names the field or the problem, nothing stored (no event
 * reaches the Inngest server, so no webhook was logged either: a logged one is always announced),
 * and the app still answers afterwards. The handlers' unit tests cover each rule in depth; these
 * prove that the frameworks hand the requests through unchanged.
 */

const sign = (body: string | Uint8Array, secret = WEBHOOK_SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

const payload = JSON.stringify({ type: "invoice.paid", id: "evt-bad-input", data: {} });
const bigPayload = JSON.stringify({ pad: "x".repeat(1024 * 1024) });
const notUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]);
const json = { "content-type": "application/json" };

interface Case {
  name: string;
  method: "GET" | "POST";
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  /** What the JSON `error` must say, or the field `fieldErrors` must name. */
  error?: RegExp;
  field?: string;
  /**
   * Where a framework answers before the handler: Astro refuses a POST with a form's content type
   * whose Origin is not the one it believes is its own (it sees itself as localhost unless
   * `security.allowedDomains` says otherwise) with a 403 of its own, in text.
   */
  framework?: Partial<Record<string, { status: number; text: RegExp }>>;
}

const astroRefusesFormPosts = {
  astro: { status: 403, text: /^Cross-site POST form submissions are forbidden$/ },
};

const cases: Case[] = [
  {
    name: "an unknown flow",
    method: "POST",
    path: "/api/flows/nope/send",
    body: "{}",
    headers: json,
    status: 404,
    error: /^unknown flow "nope"$/,
  },
  {
    name: "an unknown form",
    method: "POST",
    path: "/api/flows/signup/nope",
    body: "{}",
    headers: json,
    status: 404,
    error: /^flow "signup" has no form "nope"$/,
  },
  {
    name: "malformed JSON",
    method: "POST",
    path: "/api/flows/signup/send",
    body: '{"userId": ',
    headers: json,
    status: 400,
    error: /^request body is not valid JSON/,
  },
  {
    name: "a JSON array",
    method: "POST",
    path: "/api/flows/signup/send",
    body: "[]",
    headers: json,
    status: 400,
    error: /must be a JSON object of form fields, got an array/,
  },
  {
    name: "a number above its maximum",
    method: "POST",
    path: "/api/flows/retries/send",
    body: JSON.stringify({ jobId: "job-bad-input", failTimes: 11 }),
    headers: json,
    status: 400,
    field: "failTimes",
  },
  {
    name: "a text/plain body",
    method: "POST",
    path: "/api/flows/signup/send",
    body: JSON.stringify({ userId: "u", email: "ada@example.com", name: "Ada", plan: "pro" }),
    headers: { "content-type": "text/plain" },
    status: 415,
    error: /^content-type must be application\/json, got "text\/plain"$/,
    framework: astroRefusesFormPosts,
  },
  {
    name: "a form post without the page's script",
    method: "POST",
    path: "/api/flows/hello/send",
    body: "name=Ada",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    status: 415,
    error: /^content-type must be application\/json, got "application\/x-www-form-urlencoded"$/,
    framework: astroRefusesFormPosts,
  },
  {
    name: "a body over 512 KiB",
    method: "POST",
    path: "/api/flows/hello/send",
    body: JSON.stringify({ name: "a".repeat(512 * 1024) }),
    headers: json,
    status: 413,
    error: /larger than the limit of 512 KiB/,
  },
  {
    name: "GET on a form's route",
    method: "GET",
    path: "/api/flows/signup/send",
    status: 405,
    error: /^method GET is not allowed on \/api\/flows\/signup\/send; use POST$/,
  },
  {
    name: "results of an unknown flow",
    method: "GET",
    path: "/api/flows/nope/results",
    status: 404,
    error: /^unknown flow "nope"$/,
  },
  {
    name: "a webhook with a wrong signature",
    method: "POST",
    path: "/api/webhooks/billing",
    body: payload,
    headers: { ...json, "x-webhook-signature": `sha256=${"0".repeat(64)}` },
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a webhook signed with another secret",
    method: "POST",
    path: "/api/webhooks/billing",
    body: payload,
    headers: { ...json, "x-webhook-signature": sign(payload, "not-the-secret") },
    status: 401,
    error: /^invalid webhook signature$/,
  },
  {
    name: "a signed webhook over 1 MiB",
    method: "POST",
    path: "/api/webhooks/billing",
    body: bigPayload,
    headers: { ...json, "x-webhook-signature": sign(bigPayload) },
    status: 413,
    error: /^request body is larger than the limit of 1 MiB$/,
  },
  {
    name: "a webhook source that is not a slug",
    method: "POST",
    path: "/api/webhooks/Billing%20Team",
    body: payload,
    headers: { ...json, "x-webhook-signature": sign(payload) },
    status: 400,
    error: /^invalid webhook source "Billing Team"/,
  },
  {
    name: "a signed webhook body that is not UTF-8",
    method: "POST",
    path: "/api/webhooks/billing",
    body: notUtf8,
    headers: { ...json, "x-webhook-signature": sign(notUtf8) },
    status: 400,
    error: /^webhook body is not valid UTF-8 text$/,
  },
];

/** The events the Inngest server holds that apps send (the server's own left out). */
async function sentEvents(): Promise<string[]> {
  const response = await fetch(`${DEV_SERVER_URL}/v1/events?limit=1000`);
  expect(response.status).toBe(200);
  const { data } = (await response.json()) as { data: { internal_id: string; name: string }[] };
  return data.filter((event) => !event.name.startsWith("inngest/")).map((e) => e.internal_id);
}

test.describe("bad input on the app's /api routes", () => {
  for (const bad of cases) {
    test(`${bad.name} → ${bad.status}, nothing stored`, async ({ request, baseURL }, testInfo) => {
      const before = await sentEvents();
      const response = await request.fetch(bad.path, {
        method: bad.method,
        // Same-origin, as the app's own page would post (Astro refuses cross-site form posts).
        headers: { origin: baseURL as string, ...bad.headers },
        // A Buffer is sent as it is (a string with a JSON content type would be serialized).
        ...(bad.body === undefined ? {} : { data: Buffer.from(bad.body) }),
      });
      const text = await response.text();
      const own = bad.framework?.[testInfo.project.name];
      if (own) {
        expect(response.status(), text).toBe(own.status);
        expect(text).toMatch(own.text);
      } else {
        expect(response.status(), text).toBe(bad.status);
        expect(response.headers()["content-type"], text).toMatch(/^application\/json/);
        const body = JSON.parse(text) as {
          error?: string;
          fieldErrors?: Record<string, string[]>;
        };
        if (bad.error) expect(body.error).toMatch(bad.error);
        if (bad.field) expect(Object.keys(body.fieldErrors ?? {})).toEqual([bad.field]);
      }
      expect(await sentEvents()).toEqual(before);
      // The app still answers.
      const alive = await request.get("/api/flows/hello/results");
      expect(alive.status()).toBe(200);
    });
  }
});
