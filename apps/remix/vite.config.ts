import { fileURLToPath } from "node:url";
import { vitePlugin as remix } from "@remix-run/dev";
import { defineConfig, type Plugin } from "vite";

const startModule = fileURLToPath(new URL("./app/start.server.ts", import.meta.url));

/**
 * The app's start (the env check; in production the migrations, see app/start.server.ts) runs
 * when the server starts. Production: remix-serve imports the server build, whose entry imports
 * app/start.server.ts. Dev: Vite loads the server build on the first request only, so this loads
 * the start module as soon as the server listens.
 */
function appStart(): Plugin {
  return {
    name: "app-start",
    apply: "serve",
    configureServer(server) {
      server.httpServer?.once("listening", () => {
        void server.ssrLoadModule(startModule);
      });
    },
  };
}

export default defineConfig({
  plugins: [
    remix({
      future: {
        v3_fetcherPersist: true,
        v3_lazyRouteDiscovery: true,
        v3_relativeSplatPath: true,
        v3_singleFetch: true,
        v3_throwAbortReason: true,
      },
    }),
    appStart(),
  ],
  // app/start.server.ts awaits at its top level (the server build waits for the migrations).
  build: { target: "es2022" },
  server: { host: "127.0.0.1", port: 3003, strictPort: true },
});
