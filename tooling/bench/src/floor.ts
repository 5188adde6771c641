/**
 * The floor of `pnpm bench`: the same `functions` array the apps serve, mounted at /api/inngest by
 * the SDK's plain Node adapter (`inngest/node`) on a bare `node:http` server. No framework, no
 * routing, no start-up work (no env module, no database): what is left is the SDK's own cost.
 * Bundled by the bench (esbuild, like the apps' builds bundle their code) to dist/floor.mjs and run
 * with `node`; INNGEST_APP_ID and INNGEST_DEV come from the environment, as in the apps.
 */
import { createServer } from "node:http";
import { createFunctions, createInngestClient } from "@repo/functions";
import { serve } from "inngest/node";

const inngest = createInngestClient({ appId: process.env.INNGEST_APP_ID || "floor" });
const functions = createFunctions({
  inngest,
  db: () => {
    throw new Error("the floor has no database: only bench-three-steps runs here");
  },
});
const handler = serve({ client: inngest, functions: Object.values(functions) });
const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? "127.0.0.1";

const server = createServer((req, res) => {
  if (req.url === "/api/inngest" || req.url?.startsWith("/api/inngest?")) {
    void handler(req, res);
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" }).end("not found");
});
server.listen(port, host, () => {
  console.log(`floor (inngest/node on node:http) listening on http://${host}:${port}/api/inngest`);
});
const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
