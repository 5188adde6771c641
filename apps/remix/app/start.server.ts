/**
 * The app's start: the env is validated and the migrations are applied before the first request,
 * and a wrong env stops the start. Imported by entry.server.tsx (so remix-serve runs it when it
 * loads the build) and, under `remix vite:dev`, by the plugin in vite.config.ts.
 */
const fail = (error: unknown): never => {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
};

try {
  // Importing the runtime validates the env: a wrong one stops the start here, before anything.
  const { runtime } = await import("./runtime.server");
  const started = runtime.start().catch(fail);
  // Production: the server build waits for the migrations. `remix vite:dev` answers meanwhile
  // (its Inngest sync and its pages need no database; what does waits for it on first use): on a
  // fresh clone, creating the embedded database held the dev server's sync back by seconds.
  if (runtime.env.NODE_ENV === "production") await started;
} catch (error) {
  fail(error);
}
