export {
  type FakeInngest,
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
} from "./rest-client";
export { DEADLINE_MS, type WaitOptions, waitFor } from "./wait";
