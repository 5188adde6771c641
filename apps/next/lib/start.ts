// Loaded by instrumentation.ts in the Node.js runtime only, once, when the server starts.
const fail = (error: unknown): never => {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
};

try {
  // Importing the runtime validates the env: a wrong one stops the start here, before anything.
  const { runtime } = await import("./runtime");
  const started = runtime.start().catch(fail);
  // Production: the migrations are applied before Next takes the first request. `next dev` takes
  // requests meanwhile (its Inngest sync and its pages need no database; what does waits for it
  // on first use): on a fresh clone, creating the embedded database held the dev server's sync
  // back by seconds (README, "The apps").
  if (runtime.env.NODE_ENV === "production") await started;
} catch (error) {
  fail(error);
}
