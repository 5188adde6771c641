import { defineConfig } from "drizzle-kit";

// `pnpm --filter @repo/db db:generate` writes SQL migrations from the schema; no database needed.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema.ts",
  out: "./drizzle",
});
