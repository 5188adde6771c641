import { createHash } from "node:crypto";

/**
 * Internal ids, as Inngest gives them: UUIDs. A run's `function_id` in the REST API is its
 * function's internal id, and `GET /v1/apps/:app/functions` lists each function's `internal_id`
 * beside its slug (`id`).
 *
 * Inngest makes them with `uuid.NewSHA1(uuid.NameSpaceOID, name)` (a version 5 UUID): an app's
 * id from its name (the SDK's app id), a function's from its name and URL at its first sync, then
 * kept in its database. This server keeps no such table: a function's internal id is the version 5
 * UUID of its slug (`<app id>-<function id>`, which names its app too, and is the key functions
 * are registered by here), so it is the same across re-syncs, restarts and storage kinds, and any
 * run can be named by it, even after its function is gone.
 */

/** Go's `uuid.NameSpaceOID`, 6ba7b812-9dad-11d1-80b4-00c04fd430c8. */
const NAMESPACE_OID = Buffer.from("6ba7b8129dad11d180b400c04fd430c8", "hex");

/** RFC 9562's version 5 UUID of `name` in `namespace` (SHA-1), as Go's `uuid.NewSHA1`. */
export function uuidV5(name: string, namespace: Buffer = NAMESPACE_OID): string {
  const hash = createHash("sha1").update(namespace).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A function's internal id: the version 5 UUID (OID namespace) of its slug. */
export function functionInternalId(slug: string): string {
  return uuidV5(slug);
}

/** An app's internal id, as Inngest's `DeterministicAppUUID(appName)` makes it. */
export function appInternalId(appId: string): string {
  return uuidV5(appId);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}
