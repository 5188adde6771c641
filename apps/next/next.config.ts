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
};

export default config;
