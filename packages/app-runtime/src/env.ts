import { z } from "zod";

/**
 * The environment every app validates at start. Local development needs no variable; production
 * (cloud mode: NODE_ENV=production without INNGEST_DEV, or INNGEST_DEV=0) needs the Inngest keys
 * and the webhook secret. A wrong value fails the start with a message that names the variable.
 */

/** Where `pnpm dev` runs the local Inngest server (packages/dev-server). */
export const DEFAULT_DEV_SERVER_URL = "http://127.0.0.1:8288";
export const DEFAULT_PGLITE_DATA_DIR = ".data/pglite";
export const DEV_WEBHOOK_SECRET = "dev-webhook-secret";

// An empty variable (`DATABASE_URL=` in a .env file) means unset, as it does to the SDK.
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

const httpUrl = (example: string) =>
  z.url({
    protocol: /^https?$/,
    error: `must be an http(s) URL such as ${example}`,
  });

const NODE_ENVS = ["development", "production", "test"] as const;
const DEV_FLAGS = ["1", "true"];
const CLOUD_FLAGS = ["0", "false"];

const rawSchema = z.object({
  NODE_ENV: optional(
    z.enum(NODE_ENVS, {
      error: "must be development, production or test",
    }),
  ),
  INNGEST_APP_ID: optional(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1-63 lowercase letters, digits or dashes"),
  ),
  INNGEST_DEV: optional(
    z
      .string()
      .refine(
        (value) => [...DEV_FLAGS, ...CLOUD_FLAGS].includes(value) || URL.canParse(value),
        `must be 1 (dev mode), 0 (cloud mode) or the dev server's URL such as ${DEFAULT_DEV_SERVER_URL}`,
      ),
  ),
  INNGEST_BASE_URL: optional(httpUrl("https://inngest.example.com")),
  INNGEST_API_BASE_URL: optional(httpUrl("https://api.inngest.com")),
  INNGEST_EVENT_KEY: optional(z.string()),
  INNGEST_SIGNING_KEY: optional(
    z.string().regex(/^signkey-[a-z]+-[0-9a-f]+$/i, "must look like signkey-<env>-<hex>"),
  ),
  INNGEST_SIGNING_KEY_FALLBACK: optional(
    z.string().regex(/^signkey-[a-z]+-[0-9a-f]+$/i, "must look like signkey-<env>-<hex>"),
  ),
  DATABASE_URL: optional(
    z
      .string()
      .regex(
        /^postgres(ql)?:\/\/.+/,
        "must be a PostgreSQL URL such as postgres://user:password@host:5432/database",
      ),
  ),
  PGLITE_DATA_DIR: optional(z.string()),
  WEBHOOK_SECRET: optional(z.string()),
});

export interface AppEnv {
  NODE_ENV: "development" | "production" | "test";
  /** The app id the functions register under (one per app: next, astro, remix). */
  INNGEST_APP_ID: string;
  /** `1`/`true` or the dev server's URL in dev mode; undefined (or `0`) in cloud mode. */
  INNGEST_DEV: string | undefined;
  INNGEST_BASE_URL: string | undefined;
  INNGEST_API_BASE_URL: string | undefined;
  INNGEST_EVENT_KEY: string | undefined;
  INNGEST_SIGNING_KEY: string | undefined;
  INNGEST_SIGNING_KEY_FALLBACK: string | undefined;
  DATABASE_URL: string | undefined;
  PGLITE_DATA_DIR: string;
  WEBHOOK_SECRET: string;
  /** Derived: `dev` talks to a dev server without keys; `cloud` signs and needs the keys. */
  inngestMode: "dev" | "cloud";
  /** Derived: the Inngest server's API origin (REST API v1), resolved as the SDK resolves it. */
  inngestApiBaseUrl: string;
}

export class InvalidEnvError extends Error {
  override readonly name = "InvalidEnvError";
  constructor(
    readonly appId: string,
    readonly problems: { variable: string; message: string }[],
  ) {
    super(
      `Invalid environment for the ${appId} app:\n` +
        problems.map(({ variable, message }) => `  - ${variable}: ${message}`).join("\n") +
        "\nSet these variables (every one is documented in .env.example at the repository root) " +
        "and start again.",
    );
  }
}

export interface LoadAppEnvOptions {
  /** The app id used when INNGEST_APP_ID is unset: the app's own name (`next`, `astro`, `remix`). */
  appId: string;
  /** Default `process.env`, which also receives the defaults (see below). */
  source?: Record<string, string | undefined>;
  /**
   * Skip the production requirements, e.g. while `next build` imports route modules: a build needs
   * no secrets, the start that runs it does.
   */
  skipProductionChecks?: boolean;
  /**
   * NODE_ENV when it is unset. Vite-built servers (Astro, Remix) pass `import.meta.env.PROD`'s
   * answer: `node dist/server/entry.mjs` sets no NODE_ENV, and a production build must not fall
   * back to dev mode because of that.
   */
  defaultNodeEnv?: "development" | "production";
}

/**
 * Validates the environment and returns it typed, with defaults. In dev mode it also writes the
 * INNGEST_DEV default back into `process.env` (when that is what it read), because the SDK reads
 * INNGEST_DEV itself, in the client and on every request to `/api/inngest`.
 */
export function loadAppEnv(options: LoadAppEnvOptions): AppEnv {
  const source = options.source ?? process.env;
  const parsed = rawSchema.safeParse(source);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? "environment"),
        message: issue.message,
      }));
  // The production requirements are checked on what was given even when other values are wrong,
  // so one failed start lists every variable to fix.
  const raw = parsed.success ? parsed.data : (source as unknown as z.infer<typeof rawSchema>);
  const nodeEnv =
    NODE_ENVS.find((value) => value === source.NODE_ENV) ?? options.defaultNodeEnv ?? "development";
  const appId = (parsed.success && raw.INNGEST_APP_ID) || options.appId;
  // Dev mode is the default everywhere but production, where it must be asked for explicitly.
  const inngestDev =
    raw.INNGEST_DEV || (nodeEnv === "production" ? undefined : DEFAULT_DEV_SERVER_URL);
  const inngestMode = inngestDev && !CLOUD_FLAGS.includes(inngestDev) ? "dev" : "cloud";

  if (inngestMode === "cloud" && !options.skipProductionChecks) {
    const why = !raw.INNGEST_DEV
      ? "required in production (NODE_ENV=production without INNGEST_DEV)"
      : `required in cloud mode (INNGEST_DEV=${raw.INNGEST_DEV})`;
    if (!raw.INNGEST_SIGNING_KEY) {
      problems.push({
        variable: "INNGEST_SIGNING_KEY",
        message: `${why}: Inngest signs its calls to the app with it (from the Inngest dashboard)`,
      });
    }
    if (!raw.INNGEST_EVENT_KEY) {
      problems.push({
        variable: "INNGEST_EVENT_KEY",
        message: `${why}: the app sends events with it (from the Inngest dashboard)`,
      });
    }
    if (!raw.WEBHOOK_SECRET) {
      problems.push({
        variable: "WEBHOOK_SECRET",
        message: `${why}: the secret webhook senders sign their deliveries with`,
      });
    } else if (raw.WEBHOOK_SECRET.length < 16 || raw.WEBHOOK_SECRET === DEV_WEBHOOK_SECRET) {
      problems.push({
        variable: "WEBHOOK_SECRET",
        message: "must be a secret of at least 16 characters in production, not the dev default",
      });
    }
  }
  if (problems.length > 0) throw new InvalidEnvError(appId, problems);

  const devUrl = inngestDev && URL.canParse(inngestDev) ? inngestDev : undefined;
  const inngestApiBaseUrl =
    raw.INNGEST_API_BASE_URL ??
    raw.INNGEST_BASE_URL ??
    devUrl ??
    (inngestMode === "dev" ? "http://localhost:8288" : "https://api.inngest.com");

  if ((!options.source || options.source === process.env) && inngestDev !== undefined) {
    process.env.INNGEST_DEV = inngestDev;
  }

  return {
    NODE_ENV: nodeEnv,
    INNGEST_APP_ID: appId,
    INNGEST_DEV: inngestDev,
    INNGEST_BASE_URL: raw.INNGEST_BASE_URL,
    INNGEST_API_BASE_URL: raw.INNGEST_API_BASE_URL,
    INNGEST_EVENT_KEY: raw.INNGEST_EVENT_KEY,
    INNGEST_SIGNING_KEY: raw.INNGEST_SIGNING_KEY,
    INNGEST_SIGNING_KEY_FALLBACK: raw.INNGEST_SIGNING_KEY_FALLBACK,
    DATABASE_URL: raw.DATABASE_URL,
    PGLITE_DATA_DIR: raw.PGLITE_DATA_DIR ?? DEFAULT_PGLITE_DATA_DIR,
    WEBHOOK_SECRET: raw.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
    inngestMode,
    inngestApiBaseUrl: inngestApiBaseUrl.replace(/\/+$/, ""),
  };
}
