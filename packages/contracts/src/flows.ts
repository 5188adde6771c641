import type { EventName } from "./events";

/**
 * The flow catalogue: every flow the apps offer, with its page route, its forms, their fields and
 * the `data-testid`s. Pure data, imported by the three apps and the browser module (to render and
 * drive the same pages), by the handlers (to parse the forms) and by the e2e suite (to drive them),
 * so that one spec fits every app.
 */

export type FieldType = "text" | "email" | "number" | "select" | "textarea";

export interface FlowField {
  /** The key in the JSON body sent to the form's endpoint. */
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  /** Pre-filled value (as the input holds it). */
  defaultValue?: string;
  options?: readonly string[];
  help?: string;
  /** `number` fields: bounds, as the schema checks them. */
  min?: number;
  max?: number;
}

export interface FlowForm {
  /** Unique within its flow; the endpoint is `POST /api/flows/<flow id>/<form id>`. */
  id: string;
  submitLabel: string;
  /** The event the form sends (one or several of it; see `count` fields). */
  event: EventName;
  fields: readonly FlowField[];
}

export interface Flow {
  id: string;
  title: string;
  summary: string;
  /** The page route, the same in every app. */
  route: string;
  /** Ids of the functions the flow's events start. */
  functions: readonly string[];
  forms: readonly FlowForm[];
  /** The field whose value keys the flow's results (`GET /api/flows/<id>/results?key=...`). */
  resultsKey?: string;
}

const userId = (defaultValue: string): FlowField => ({
  name: "userId",
  label: "User id",
  type: "text",
  required: true,
  defaultValue,
});

const count = (defaultValue: number, max: number, help: string): FlowField => ({
  name: "count",
  label: "How many events",
  type: "number",
  required: true,
  defaultValue: String(defaultValue),
  min: 1,
  max,
  help,
});

export const flows = [
  {
    id: "hello",
    title: "Hello world",
    summary: "One event, one durable 1 s sleep, a greeting.",
    route: "/flows/hello",
    functions: ["hello-world"],
    forms: [
      {
        id: "send",
        submitLabel: "Say hello",
        event: "test/hello.world",
        fields: [
          { name: "name", label: "Name", type: "text", required: false, defaultValue: "World" },
        ],
      },
    ],
  },
  {
    id: "signup",
    title: "User signup fan-out",
    summary: "One signup event starts three functions: welcome email, profile, analytics.",
    route: "/flows/signup",
    functions: ["send-welcome-email", "create-profile", "track-analytics"],
    resultsKey: "userId",
    forms: [
      {
        id: "send",
        submitLabel: "Sign up",
        event: "app/user.signup",
        fields: [
          userId("user-1"),
          {
            name: "email",
            label: "Email",
            type: "email",
            required: true,
            defaultValue: "ada@example.com",
          },
          {
            name: "name",
            label: "Name",
            type: "text",
            required: true,
            defaultValue: "Ada Lovelace",
          },
          {
            name: "plan",
            label: "Plan",
            type: "select",
            required: false,
            options: ["free", "pro"],
            defaultValue: "free",
          },
        ],
      },
    ],
  },
  {
    id: "webhook",
    title: "Webhook processing",
    summary: "A signed webhook is logged first, then processed by a function from the log.",
    route: "/flows/webhook",
    functions: ["process-webhook"],
    resultsKey: "logId",
    forms: [
      {
        id: "send",
        submitLabel: "Deliver webhook",
        event: "webhook/received",
        fields: [
          {
            name: "source",
            label: "Source",
            type: "text",
            required: true,
            defaultValue: "billing",
          },
          {
            name: "payload",
            label: "Payload (JSON)",
            type: "textarea",
            required: true,
            defaultValue:
              '{"type":"invoice.paid","id":"evt_1","data":{"invoice":"inv_1","amount":4200}}',
          },
          {
            name: "signature",
            label: "Signature",
            type: "text",
            required: false,
            help: "Leave empty to sign with the app's WEBHOOK_SECRET, as the real sender would.",
          },
        ],
      },
    ],
  },
  {
    id: "pipeline",
    title: "Data pipeline",
    summary: "validate → transform → store → notify; bad data fails without retries.",
    route: "/flows/pipeline",
    functions: ["data-pipeline"],
    resultsKey: "datasetId",
    forms: [
      {
        id: "send",
        submitLabel: "Upload",
        event: "app/data.uploaded",
        fields: [
          {
            name: "datasetId",
            label: "Dataset id",
            type: "text",
            required: true,
            defaultValue: "dataset-1",
          },
          {
            name: "name",
            label: "Name",
            type: "text",
            required: true,
            defaultValue: "November sales",
          },
          {
            name: "uploadedBy",
            label: "Uploaded by",
            type: "email",
            required: true,
            defaultValue: "ada@example.com",
          },
          {
            name: "records",
            label: "Records (JSON array)",
            type: "textarea",
            required: true,
            defaultValue:
              '[{"name":"Ada","email":"ada@example.com","amount":12.5},{"name":"Grace","email":"grace@example.com","amount":30}]',
          },
        ],
      },
    ],
  },
  {
    id: "approval",
    title: "Approval (wait for event)",
    summary: "A request waits durably for a decision event, or expires.",
    route: "/flows/approval",
    functions: ["request-approval"],
    resultsKey: "requestId",
    forms: [
      {
        id: "request",
        submitLabel: "Request approval",
        event: "app/approval.requested",
        fields: [
          {
            name: "requestId",
            label: "Request id",
            type: "text",
            required: true,
            defaultValue: "request-1",
          },
          {
            name: "title",
            label: "Title",
            type: "text",
            required: true,
            defaultValue: "Refund order 1042",
          },
          {
            name: "requestedBy",
            label: "Requested by",
            type: "email",
            required: true,
            defaultValue: "ada@example.com",
          },
          {
            name: "timeoutSeconds",
            label: "Expires after (seconds)",
            type: "number",
            required: false,
            defaultValue: "3600",
            min: 1,
            max: 604800,
          },
        ],
      },
      {
        id: "decide",
        submitLabel: "Send decision",
        event: "app/approval.decided",
        fields: [
          {
            name: "requestId",
            label: "Request id",
            type: "text",
            required: true,
            defaultValue: "request-1",
          },
          {
            name: "decision",
            label: "Decision",
            type: "select",
            required: true,
            options: ["approved", "rejected"],
            defaultValue: "approved",
          },
          {
            name: "decidedBy",
            label: "Decided by",
            type: "email",
            required: true,
            defaultValue: "grace@example.com",
          },
          { name: "comment", label: "Comment", type: "text", required: false },
        ],
      },
    ],
  },
  {
    id: "retries",
    title: "Retries with backoff",
    summary: "A step fails its first K attempts; past its retries, the failure handler records it.",
    route: "/flows/retries",
    functions: ["flaky-job", "flaky-job-failure"],
    resultsKey: "jobId",
    forms: [
      {
        id: "send",
        submitLabel: "Start job",
        event: "app/job.requested",
        fields: [
          { name: "jobId", label: "Job id", type: "text", required: true, defaultValue: "job-1" },
          {
            name: "failTimes",
            label: "Failing attempts",
            type: "number",
            required: true,
            defaultValue: "2",
            min: 0,
            max: 10,
            help: "The job has 3 retries (4 attempts): 4 or more failing attempts exhaust them.",
          },
        ],
      },
    ],
  },
  {
    id: "concurrency",
    title: "Concurrency per user",
    summary: "One user's tasks run one at a time; other users' tasks are not held up.",
    route: "/flows/concurrency",
    functions: ["process-user-task"],
    resultsKey: "userId",
    forms: [
      {
        id: "send",
        submitLabel: "Create tasks",
        event: "app/task.created",
        fields: [
          userId("user-1"),
          count(3, 20, "Each event is one task of this user."),
          {
            name: "durationMs",
            label: "Work per task (ms)",
            type: "number",
            required: true,
            defaultValue: "500",
            min: 0,
            max: 10000,
          },
        ],
      },
    ],
  },
  {
    id: "rate-limit",
    title: "Rate limit per user",
    summary:
      "5 runs per user a minute, as Inngest counts it: one at once, then one more every 12 s. Events over the limit are stored, but start no run (Skipped).",
    route: "/flows/rate-limit",
    functions: ["sync-user-data"],
    resultsKey: "userId",
    forms: [
      {
        id: "send",
        submitLabel: "Request syncs",
        event: "app/user.sync.requested",
        fields: [userId("user-1"), count(6, 20, "Events sent at once for this user.")],
      },
    ],
  },
  {
    id: "batching",
    title: "Event batching",
    summary: "Page views are processed in batches of up to 10 (or after 5 s).",
    route: "/flows/batching",
    functions: ["record-page-views"],
    resultsKey: "userId",
    forms: [
      {
        id: "send",
        submitLabel: "Send page views",
        event: "app/page.viewed",
        fields: [
          userId("user-1"),
          count(3, 50, "Page views sent together."),
          { name: "path", label: "Path", type: "text", required: true, defaultValue: "/pricing" },
        ],
      },
    ],
  },
  {
    id: "cron",
    title: "Daily report (cron)",
    summary: "Every day at 09:00 UTC the last 24 hours are aggregated into a report.",
    route: "/flows/cron",
    functions: ["daily-report"],
    forms: [],
  },
] as const satisfies readonly Flow[];

export type FlowId = (typeof flows)[number]["id"];

export function findFlow(id: string): Flow | undefined {
  return (flows as readonly Flow[]).find((flow) => flow.id === id);
}

/**
 * The `data-testid`s, the same on every app's pages. Forms and fields are prefixed with their form
 * id, so a page with two forms (approval) keeps them apart.
 */
export const testIds = {
  flowLink: (flowId: string) => `flow-link-${flowId}`,
  form: (formId: string) => `form-${formId}`,
  field: (formId: string, field: string) => `field-${formId}-${field}`,
  fieldError: (formId: string, field: string) => `field-error-${formId}-${field}`,
  formError: (formId: string) => `form-error-${formId}`,
  submit: (formId: string) => `submit-${formId}`,
  eventIds: (formId: string) => `event-ids-${formId}`,
  runs: "runs",
  runStatus: (functionId: string) => `run-status-${functionId}`,
  results: "results",
} as const;
