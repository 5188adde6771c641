/**
 * Next runs `register` once when the server starts: the env is validated, a wrong env stops the
 * start, and the migrations are applied (before the first request in production; see lib/start.ts).
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") await import("./lib/start");
}
