export { type AppProcess, childEnv, type Env, freePort, spawnApp, waitFor } from "./app-process";
export { type AppSuiteOptions, describeAppSuite, expectedFunctionCount } from "./suite";
