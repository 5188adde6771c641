// First, on its own line: the env module sets INNGEST_APP_ID before @repo/functions creates the
// client with it (an import sorted above it would create the client too early).
import "./env.server";

export { configureDatabase, functions, inngest } from "@repo/functions";
