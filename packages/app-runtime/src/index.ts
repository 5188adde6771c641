export { type AppDatabase, type AppDatabaseOptions, createAppDatabase } from "./database";
export {
  type AppEnv,
  DEFAULT_DEV_SERVER_URL,
  DEFAULT_PGLITE_DATA_DIR,
  DEV_WEBHOOK_SECRET,
  InvalidEnvError,
  type LoadAppEnvOptions,
  loadAppEnv,
} from "./env";
export { type AppRun, createRunsProxy, ENDED_RUN_STATUSES, RunsProxyError } from "./runs";
export {
  type AppRuntime,
  type AppRuntimeOptions,
  createAppRuntime,
  type RuntimeLogger,
} from "./runtime";
