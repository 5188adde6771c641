import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Context, Hono } from "hono";
import { packageRoot } from "../package-root";

/**
 * Serves the dev UI (ui/, Preact in TSX) from the dev server itself: the shell at `/` and at each
 * client route, the script bundled by esbuild in-process and the one stylesheet. The bundle is
 * made on the first request for it, not at start (test suites start many servers that never show
 * a page), and kept in memory for the life of the process, so running from source (`tsx`, `pnpm
 * dev`) needs no build step and nothing from the network.
 */

const UI_DIR = join(packageRoot(), "ui/");

/** The client's routes: a reload or a shared link there gets the shell, which routes itself. */
export const UI_ROUTES = [
  "/",
  "/apps",
  "/functions",
  "/functions/:slug",
  "/events",
  "/events/:id",
  "/runs",
  "/runs/:id",
] as const;

interface Asset {
  body: string;
  etag: string;
}

let bundle: Promise<Asset> | undefined;
let stylesheet: Promise<Asset> | undefined;

/** How long the last bundle took (ms), for whoever wants to know (the tests print it). */
export let lastBundleMs: number | null = null;

function asset(body: string): Asset {
  return { body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` };
}

async function buildBundle(): Promise<Asset> {
  const started = performance.now();
  // Imported here, not at the top: a server that never shows the UI never loads esbuild.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [`${UI_DIR}main.tsx`],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild produced no bundle for the dev UI");
  lastBundleMs = Math.round(performance.now() - started);
  return asset(output.text);
}

function loadBundle(): Promise<Asset> {
  bundle ??= buildBundle().catch((error: unknown) => {
    // A failed build is not cached: the next request tries again (after a fix, in development).
    bundle = undefined;
    throw error;
  });
  return bundle;
}

function loadStylesheet(): Promise<Asset> {
  stylesheet ??= readFile(`${UI_DIR}styles.css`, "utf8").then(asset, (error: unknown) => {
    stylesheet = undefined;
    throw error;
  });
  return stylesheet;
}

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Inngest dev server</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/styles.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body><div id="app"><p class="booting">Loading the dev server UI…</p></div></body>
</html>
`;

function serveAsset(c: Context, asset: Asset, type: string) {
  if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304);
  return c.body(asset.body, 200, {
    "content-type": type,
    etag: asset.etag,
    // Revalidated each time: a restarted server may serve a different UI under the same path.
    "cache-control": "no-cache",
  });
}

export function registerUiAssets(app: Hono): void {
  for (const route of UI_ROUTES) {
    app.get(route, (c, next) => {
      // Only for pages: an API client (Accept: application/json) keeps getting JSON 404s here.
      const accept = c.req.header("accept") ?? "";
      if (!accept.includes("text/html") && !accept.includes("*/*") && accept !== "") return next();
      return c.html(SHELL, 200, { "cache-control": "no-cache" });
    });
  }
  app.get("/ui/app.js", async (c) =>
    serveAsset(c, await loadBundle(), "text/javascript; charset=utf-8"),
  );
  app.get("/ui/styles.css", async (c) =>
    serveAsset(c, await loadStylesheet(), "text/css; charset=utf-8"),
  );
}
