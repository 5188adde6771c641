export type { RetryPolicy } from "./executor";
export {
  type DevServer,
  type DevServerOptions,
  parseEvents,
  startDevServer,
  validateFunctions,
} from "./server";
