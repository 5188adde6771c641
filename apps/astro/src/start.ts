/**
 * The app's start: the env is validated and the migrations are applied before the first request,
 * and a wrong env stops the start. Run once when the server starts: by `node --import` in
 * production (the start script), by the integration in astro.config.mjs under `astro dev`.
 */
try {
  const { runtime } = await import("./runtime");
  await runtime.start();
} catch (error) {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
