export {
  type FieldType,
  type Flow,
  type FlowField,
  type FlowForm,
  type FlowId,
  findFlow,
  flows,
  testIds,
} from "./flows";
export {
  createRequestHandlers,
  FLOW_BODY_LIMIT,
  type RequestHandlerOptions,
  type RequestHandlers,
  WEBHOOK_BODY_LIMIT,
} from "./handlers";
export { signWebhook, verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "./signature";
