export {
  createDatabase,
  createDatabaseFromEnv,
  type Database,
  type DatabaseDriver,
  type DatabaseHandle,
  type DatabaseOptions,
  DEFAULT_PGLITE_DIR,
  lockDataDir,
  type Schema,
} from "./client";
export { migrate, migrationsFolder } from "./migrate";
export * as schema from "./schema";
export * from "./schema";
