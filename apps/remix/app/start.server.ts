/**
 * The app's start: the env is validated, a wrong env stops the start, and in production the
 * migrations are applied before the first request. Imported by entry.server.tsx (so remix-serve
 * runs it when it loads the build) and, under `remix vite:dev`, by the plugin in vite.config.ts.
 */
try {
  // Importing the runtime validates the env: a wrong one stops the start here.
  const { runtime } = await import("./runtime.server");
  // `remix vite:dev` opens the database on first use instead (`pnpm dev` asks for it once every
  // app is synced): creating the embedded database costs seconds of CPU that the sync and the
  // first compile need more (README, "The apps").
  if (runtime.env.NODE_ENV === "production") await runtime.start();
} catch (error) {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
