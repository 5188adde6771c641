import { fileURLToPath } from "node:url";
import node from "@astrojs/node";
import { defineConfig } from "astro/config";

const startModule = fileURLToPath(new URL("./src/start.ts", import.meta.url));

/**
 * @astrojs/node loads pages on their first request; the app's start (the env check; in production
 * the migrations, see src/start.ts) must run before that. Dev: the dev server loads src/start.ts once it listens (not before: waiting
 * for it held `astro dev`'s "ready" back by seconds, and the Inngest sync with it). Build:
 * src/start.ts becomes dist/server/start.mjs, which the start script preloads (`node --import`).
 * @returns {import("astro").AstroIntegration}
 */
function appStart() {
  return {
    name: "app-start",
    hooks: {
      "astro:server:setup": ({ server }) => {
        server.httpServer?.once("listening", () => {
          void server.ssrLoadModule(startModule);
        });
      },
      "astro:build:setup": ({ vite, target }) => {
        if (target !== "server") return;
        vite.plugins ??= [];
        vite.plugins.push({
          name: "app-start-entry",
          buildStart() {
            this.emitFile({ type: "chunk", id: startModule, fileName: "start.mjs" });
          },
        });
      },
    },
  };
}

export default defineConfig({
  output: "server",
  adapter: node({ mode: "standalone" }),
  integrations: [appStart()],
  // `pnpm dev` binds here; the production server takes HOST and PORT from its start script.
  server: { host: "127.0.0.1", port: 3002 },
});
