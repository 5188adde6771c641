export {
  createDatabase,
  createDatabaseFromEnv,
  type Database,
  type DatabaseDriver,
  type DatabaseHandle,
  type DatabaseOptions,
  DEFAULT_PGLITE_DIR,
  type Schema,
} from "./client";
export { migrate, migrationsFolder } from "./migrate";
export * as schema from "./schema";
export * from "./schema";
