// Loaded by instrumentation.ts in the Node.js runtime only, once, when the server starts.
try {
  const { runtime } = await import("./runtime");
  await runtime.start();
} catch (error) {
  // The message names what to fix; a server that cannot work must not start.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
