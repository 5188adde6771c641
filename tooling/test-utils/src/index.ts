export {
  type FakeInngest,
  restFunction,
  restRun,
  type SentEvent,
  startFakeInngest,
} from "./fake-inngest";
export { freePort } from "./ports";
export type * from "./rest-api";
export {
  createRestClient,
  RestApiError,
  type RestClient,
  type RestClientOptions,
  restError,
} from "./rest-client";
export { DEADLINE_MS, type WaitOptions, waitFor } from "./wait";
