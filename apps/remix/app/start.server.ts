/**
 * The app's start: the env is validated and the migrations are applied before the first request,
 * and a wrong env stops the start. Imported by entry.server.tsx (so remix-serve runs it when it
 * loads the build) and, under `remix vite:dev`, by the plugin in vite.config.ts.
 */
try {
  const { runtime } = await import("./runtime.server");
  await runtime.start();
} catch (error) {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
