import type { NextConfig } from "next";

const config: NextConfig = {
  // `pnpm typecheck` checks the types (of the tests too): the build does not do it a second time.
  typescript: { ignoreBuildErrors: true },
  // The workspace packages are TypeScript source: Next compiles them with the app.
  transpilePackages: [
    "@repo/app-runtime",
    "@repo/contracts",
    "@repo/db",
    "@repo/functions",
    "@repo/handlers",
    "@repo/ui",
  ],
  // PGlite loads its WebAssembly and data files next to its own module: kept out of the bundle.
  // The Inngest SDK (and the OpenTelemetry packages it imports) is plain Node code: loaded from
  // node_modules rather than compiled, which saves `next dev` most of its first compile.
  serverExternalPackages: ["@electric-sql/pglite", "inngest"],
  // `next dev` keeps Turbopack's cache in memory only. Writing it to .next/cache after each compile
  // (Next 16's default) held the dev server at about 1 GB for some seconds after the first page, 300
  // to 400 MB above its figure without it (measured with `pnpm dev:measure`, README "The apps"); a
  // second start compiles the pages again instead of reading them back. The build is not affected.
  experimental: { turbopackFileSystemCacheForDev: false },
};

export default config;
