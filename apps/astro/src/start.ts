/**
 * The app's start: the env is validated, a wrong env stops the start, and in production the
 * migrations are applied before the first request. Run once when the server starts: by
 * `node --import` in production (the start script), by the integration in astro.config.mjs under
 * `astro dev`.
 */
try {
  // Importing the runtime validates the env: a wrong one stops the start here.
  const { runtime } = await import("./runtime");
  // `astro dev` opens the database on first use instead (`pnpm dev` asks for it once every app is
  // synced): creating the embedded database costs seconds of CPU that the sync and the first
  // compile need more (README, "The apps").
  if (runtime.env.NODE_ENV === "production") await runtime.start();
} catch (error) {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
