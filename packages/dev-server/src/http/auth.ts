import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import { hashedSigningKey } from "../signing";
import type { ErrorJson } from "./wire";

/**
 * Secure mode's API authentication, as Inngest Cloud's REST API has it: every read or action of
 * the REST API v1, the UI API (`/api/...`), `/dev` and `/test/...` needs `Authorization: Bearer
 * <signing key>`, else a 401 whose message says what is wrong (no header, not a Bearer token, the
 * wrong key) and nothing is read or done. The key's hashed form, `signkey-<env>-<sha256>`, which
 * the SDK sends on its own API calls, is taken too. Without a signing key nothing is checked.
 *
 * Not here: the event API (its key is in the path, `/e/<event key>`), `/fn/register` and
 * `/v1/checkpoint` (the SDK's, which check the hashed key themselves), and the UI's page and
 * assets (the page asks for the key, see `ui/auth.ts`).
 */
export const PROTECTED_PATHS = ["/v1/*", "/api/*", "/dev", "/test/*"] as const;

/** Paths under the protected prefixes that authenticate on their own. */
const OWN_AUTH = /^\/v1\/checkpoint\//;

export function requireBearer(app: Hono, signingKey: string | undefined): void {
  if (!signingKey) return;
  const accepted = [signingKey, hashedSigningKey(signingKey)].map(digest);
  const refuse = (c: Context, error: string) =>
    c.json<ErrorJson>({ error: `authorization: ${error}`, status: 401 }, 401, {
      "www-authenticate": 'Bearer realm="inngest-dev-server"',
    });
  for (const path of PROTECTED_PATHS) {
    app.use(path, async (c, next) => {
      if (OWN_AUTH.test(c.req.path)) return next();
      const header = c.req.header("authorization");
      if (!header?.trim())
        return refuse(
          c,
          "missing: the server runs in secure mode; send Authorization: Bearer <signing key>",
        );
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
      if (!match)
        return refuse(
          c,
          `not a Bearer token (got "${header.trim().split(/\s+/)[0]?.slice(0, 20)} ..."); send Authorization: Bearer <signing key>`,
        );
      const given = digest(match[1] as string);
      // Compared by their digests, in constant time: the key's length is not told either.
      if (!accepted.some((key) => timingSafeEqual(key, given)))
        return refuse(
          c,
          "wrong token: the Bearer token is not the server's signing key (nor its hashed form)",
        );
      return next();
    });
  }
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
