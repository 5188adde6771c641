import { afterEach, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_DEV_SERVER_URL,
  DEFAULT_PGLITE_DATA_DIR,
  DEV_WEBHOOK_SECRET,
  InvalidEnvError,
  loadAppEnv,
} from "./env";

const SIGNING_KEY = "signkey-prod-0123456789abcdef";
const production = {
  NODE_ENV: "production",
  INNGEST_SIGNING_KEY: SIGNING_KEY,
  INNGEST_EVENT_KEY: "event-key",
  WEBHOOK_SECRET: "a-long-enough-webhook-secret",
};

function problemsOf(source: Record<string, string | undefined>): Record<string, string> {
  try {
    loadAppEnv({ appId: "next", source });
  } catch (error) {
    if (!(error instanceof InvalidEnvError)) throw error;
    return Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
  }
  throw new Error("expected the environment to be refused");
}

describe("loadAppEnv", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("needs nothing in development: dev mode against the local dev server, embedded database", () => {
    const env = loadAppEnv({ appId: "astro", source: {} });
    expect(env).toMatchObject({
      NODE_ENV: "development",
      INNGEST_APP_ID: "astro",
      INNGEST_DEV: DEFAULT_DEV_SERVER_URL,
      inngestMode: "dev",
      inngestApiBaseUrl: DEFAULT_DEV_SERVER_URL,
      DATABASE_URL: undefined,
      PGLITE_DATA_DIR: DEFAULT_PGLITE_DATA_DIR,
      WEBHOOK_SECRET: DEV_WEBHOOK_SECRET,
    });
  });

  it("refuses production without the Inngest keys and the webhook secret, naming each", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    expect(Object.keys(problems).sort()).toEqual([
      "INNGEST_EVENT_KEY",
      "INNGEST_SIGNING_KEY",
      "WEBHOOK_SECRET",
    ]);
    expect(problems.INNGEST_SIGNING_KEY).toContain("NODE_ENV=production without INNGEST_DEV");
  });

  it("says which app and what to do in its message", () => {
    expect(() => loadAppEnv({ appId: "remix", source: { NODE_ENV: "production" } })).toThrow(
      /^Invalid environment for the remix app:\n {2}- INNGEST_SIGNING_KEY: .*\.env\.example/s,
    );
  });

  it("runs in cloud mode in production with the keys, against Inngest Cloud or INNGEST_BASE_URL", () => {
    expect(loadAppEnv({ appId: "next", source: production })).toMatchObject({
      inngestMode: "cloud",
      inngestApiBaseUrl: "https://api.inngest.com",
      INNGEST_SIGNING_KEY: SIGNING_KEY,
    });
    const selfHosted = loadAppEnv({
      appId: "next",
      source: { ...production, INNGEST_BASE_URL: "https://inngest.example.com/" },
    });
    expect(selfHosted.inngestApiBaseUrl).toBe("https://inngest.example.com");
    const apiBase = loadAppEnv({
      appId: "next",
      source: {
        ...production,
        INNGEST_BASE_URL: "https://inngest.example.com",
        INNGEST_API_BASE_URL: "https://api.example.com",
      },
    });
    expect(apiBase.inngestApiBaseUrl).toBe("https://api.example.com");
  });

  it("runs a production build in dev mode when INNGEST_DEV asks for it (tests, local tries)", () => {
    const env = loadAppEnv({
      appId: "next",
      source: { NODE_ENV: "production", INNGEST_DEV: "http://127.0.0.1:9999" },
    });
    expect(env).toMatchObject({ inngestMode: "dev", inngestApiBaseUrl: "http://127.0.0.1:9999" });
    expect(env.WEBHOOK_SECRET).toBe(DEV_WEBHOOK_SECRET);
    expect(loadAppEnv({ appId: "next", source: { INNGEST_DEV: "1" } }).inngestApiBaseUrl).toBe(
      "http://localhost:8288",
    );
  });

  it("treats INNGEST_DEV=0 as cloud mode, which needs the keys even in development", () => {
    expect(Object.keys(problemsOf({ INNGEST_DEV: "0" }))).toContain("INNGEST_SIGNING_KEY");
  });

  it("names every malformed variable, and the missing production ones in the same message", () => {
    const problems = problemsOf({
      NODE_ENV: "production",
      INNGEST_APP_ID: "Not_An_Id",
      DATABASE_URL: "mysql://db/app",
      INNGEST_SIGNING_KEY: "not-a-key",
      INNGEST_BASE_URL: "ftp://inngest",
    });
    expect(problems).toMatchObject({
      INNGEST_APP_ID: expect.stringContaining("lowercase"),
      DATABASE_URL: expect.stringContaining("postgres://"),
      INNGEST_SIGNING_KEY: expect.stringContaining("signkey-"),
      INNGEST_BASE_URL: expect.stringContaining("http(s) URL"),
      INNGEST_EVENT_KEY: expect.stringContaining("required in production"),
      WEBHOOK_SECRET: expect.stringContaining("required in production"),
    });
    expect(problemsOf({ INNGEST_DEV: "yes please" })).toEqual({
      INNGEST_DEV: expect.stringContaining("must be 1 (dev mode), 0 (cloud mode)"),
    });
  });

  it("refuses the dev webhook secret, or a short one, in production", () => {
    expect(problemsOf({ ...production, WEBHOOK_SECRET: DEV_WEBHOOK_SECRET })).toEqual({
      WEBHOOK_SECRET: expect.stringContaining("at least 16 characters"),
    });
    expect(problemsOf({ ...production, WEBHOOK_SECRET: "short" })).toHaveProperty("WEBHOOK_SECRET");
  });

  it("treats empty variables as unset, as a .env file with `DATABASE_URL=` means", () => {
    const env = loadAppEnv({ appId: "next", source: { DATABASE_URL: "", INNGEST_DEV: "" } });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.INNGEST_DEV).toBe(DEFAULT_DEV_SERVER_URL);
  });

  it("takes a production build for production when nothing set NODE_ENV", () => {
    expect(() => loadAppEnv({ appId: "astro", source: {}, defaultNodeEnv: "production" })).toThrow(
      InvalidEnvError,
    );
  });

  it("skips the production requirements while a build imports the routes", () => {
    const env = loadAppEnv({
      appId: "next",
      source: { NODE_ENV: "production" },
      skipProductionChecks: true,
    });
    expect(env.inngestMode).toBe("cloud");
  });

  it("hands the dev server to the SDK through process.env, and the app id to no one", () => {
    vi.stubEnv("INNGEST_APP_ID", "");
    vi.stubEnv("INNGEST_DEV", "");
    vi.stubEnv("NODE_ENV", "development");
    expect(loadAppEnv({ appId: "remix" }).INNGEST_APP_ID).toBe("remix");
    expect(process.env.INNGEST_DEV).toBe(DEFAULT_DEV_SERVER_URL);
    // The app passes its id to the client it creates: nothing reads it back from the environment.
    expect(process.env.INNGEST_APP_ID).toBe("");
  });

  it("leaves process.env alone when it reads another source", () => {
    vi.stubEnv("INNGEST_DEV", "");
    loadAppEnv({ appId: "remix", source: {} });
    expect(process.env.INNGEST_DEV).toBe("");
  });
});
