export {
  createRequestHandlers,
  FLOW_BODY_LIMIT,
  type RequestHandlerOptions,
  type RequestHandlers,
  WEBHOOK_BODY_LIMIT,
} from "./handlers";
export type { FlowResults, ResultsReader, ResultsReaders } from "./results";
export { signWebhook, verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "./signature";
