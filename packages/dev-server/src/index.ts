export type { RetryPolicy } from "./engine/executor";
export {
  type DevServer,
  type DevServerOptions,
  parseEvents,
  startDevServer,
  validateFunctions,
} from "./server";
