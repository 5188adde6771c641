/**
 * The HTTP plumbing the handlers share: JSON responses, errors that carry their status, and body
 * reading with a byte limit.
 */

/** An error meant for the client: its status and message become the JSON response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra fields of the JSON body, next to `error`. */
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }

  toResponse(): Response {
    return jsonResponse(this.status, { error: this.message, ...this.details }, this.headers);
  }
}

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  // API answers reflect the moment they were made: no cache may keep them.
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

function tooLarge(limit: number, headers: Record<string, string> = {}): HttpError {
  return new HttpError(
    413,
    `request body is larger than the limit of ${formatBytes(limit)}`,
    {},
    headers,
  );
}

/**
 * Reads the whole body, but never more than `limit` bytes: the stream is cut off as soon as it
 * passes the limit, so a client that sends no (or a false) Content-Length cannot make the server
 * buffer an unbounded body.
 */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    // Refused unread, but not cancelled: cancelling makes some servers (remix-serve's Express
    // adapter) destroy the socket, and the client gets a reset instead of this 413. The body is
    // left unread on the connection, so the client is told not to send anything more on it.
    throw tooLarge(limit, { connection: "close" });
  }
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }

  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Reads a body that must be one JSON object (a form's fields). */
export async function readJsonObject(
  request: Request,
  limit: number,
): Promise<Record<string, unknown>> {
  const text = new TextDecoder().decode(await readBodyBytes(request, limit));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    const got = json === null ? "null" : Array.isArray(json) ? "an array" : typeof json;
    throw new HttpError(400, `request body must be a JSON object of form fields, got ${got}`);
  }
  return json as Record<string, unknown>;
}
