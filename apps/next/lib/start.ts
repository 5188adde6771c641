// Loaded by instrumentation.ts in the Node.js runtime only, once, when the server starts.
try {
  // Importing the runtime validates the env: a wrong one stops the start here.
  const { runtime } = await import("./runtime");
  // Production applies the migrations before Next takes the first request. `next dev` opens the
  // database on first use instead (`pnpm dev` asks for it once every app is synced): creating the
  // embedded database costs seconds of CPU that the sync and the first compile need more
  // (README, "The apps").
  if (runtime.env.NODE_ENV === "production") await runtime.start();
} catch (error) {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
