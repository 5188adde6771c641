import { randomBytes } from "node:crypto";
import { type EventName, eventSchemas } from "@repo/contracts/events";
import type { FlowField, FlowForm } from "@repo/contracts/flows";
import { z } from "zod";
import type { FlowEvent } from "./send-events";
import { WEBHOOK_SOURCE_PATTERN, WEBHOOK_SOURCE_RULE } from "./webhook-source";

/**
 * Turns a form's JSON body into the events to send. The event schemas of @repo/contracts are the
 * contract; the form layer only adapts what HTML forms produce (numbers as strings, JSON in a
 * textarea, empty optional inputs) and adds what the form does not ask for (`count`, task ids).
 */

export type FormSubmission =
  | { kind: "events"; events: FlowEvent[] }
  | { kind: "webhook"; source: string; payload: string; signature?: string | undefined };

export type FormParseResult =
  | { ok: true; submission: FormSubmission }
  | { ok: false; fieldErrors: Record<string, string[]> };

/** Fields that are a textarea holding JSON: parsed here, so the schema sees the value. */
const JSON_TEXT_FIELDS = new Set(["records"]);

/** Fields the form does not ask for: filled in for each event from the submission. */
const generatedFields: Partial<
  Record<EventName, (values: Record<string, unknown>, index: number, batch: string) => object>
> = {
  "app/task.created": (values, index, batch) => ({
    taskId: taskId(String(values.userId), index, batch),
  }),
};

const MAX_ID_LENGTH = 64;

/** `<userId>-task-<n>-<batch>`, with the user id shortened so the whole stays a valid id. */
function taskId(userId: string, index: number, batch: string): string {
  const suffix = `-task-${index + 1}-${batch}`;
  return `${userId.slice(0, MAX_ID_LENGTH - suffix.length)}${suffix}`;
}

/**
 * What an HTML form field holds, turned into what the schema expects. A required field that is
 * missing or blank is "required" (clearer than a type error); an optional one that is empty is
 * left out. Only fields the catalogue types as numbers are coerced, and only from strings that
 * are numbers: anything else reaches the schema unchanged, which then names the problem.
 */
function normalizeFieldValue(field: FlowField, value: unknown, ctx: z.RefinementCtx): unknown {
  const absent = value === undefined || value === null || value === "";
  if (field.required && (absent || (typeof value === "string" && !value.trim()))) {
    ctx.addIssue({ code: "custom", message: "is required" });
    return z.NEVER;
  }
  if (absent) return undefined;
  if (field.type === "number" && typeof value === "string" && value.trim() !== "") {
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }
  if (JSON_TEXT_FIELDS.has(field.name) && typeof value === "string") {
    try {
      return JSON.parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `is not valid JSON: ${(error as Error).message}` });
      return z.NEVER;
    }
  }
  return value;
}

function countSchema(field: FlowField): z.ZodType {
  const min = field.min ?? 1;
  const max = field.max ?? 1;
  const message = `must be a whole number from ${min} to ${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
}

function formSchema(form: FlowForm, dataSchema: z.ZodObject): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const field of form.fields) {
    const schema = field.name === "count" ? countSchema(field) : dataSchema.shape[field.name];
    if (!schema) {
      throw new Error(
        `form "${form.id}" has a field "${field.name}" that event ${form.event} does not have`,
      );
    }
    shape[field.name] = z.preprocess(
      (value, ctx) => normalizeFieldValue(field, value, ctx),
      schema,
    );
  }
  return z.object(shape);
}

/** The webhook form's fields: a delivery to make, not event data (the event carries a log id). */
const webhookFormFields = z.object({
  source: z
    .string({ error: "must be a string" })
    .regex(WEBHOOK_SOURCE_PATTERN, `must be ${WEBHOOK_SOURCE_RULE}`),
  payload: z.string({ error: "must be a string" }),
  signature: z.string({ error: "must be a string" }).optional(),
});

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const { formErrors, fieldErrors } = z.flattenError(error);
  const errors: Record<string, string[]> = { ...(fieldErrors as Record<string, string[]>) };
  if (formErrors.length > 0) errors._form = formErrors;
  return errors;
}

function withoutUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

export type FormParser = (body: Record<string, unknown>) => FormParseResult;

/** Builds the parser of one form; throws when the catalogue and the event schema disagree. */
export function createFormParser(form: FlowForm): FormParser {
  if (form.event === "webhook/received") {
    const schema = formSchema(form, webhookFormFields);
    return (body) => {
      const parsed = schema.safeParse(body);
      if (!parsed.success) return { ok: false, fieldErrors: fieldErrorsOf(parsed.error) };
      const delivery = webhookFormFields.parse(withoutUndefined(parsed.data));
      return { ok: true, submission: { kind: "webhook", ...delivery } };
    };
  }

  const name = form.event;
  const dataSchema: z.ZodObject | undefined = eventSchemas[name];
  if (!dataSchema) throw new Error(`form "${form.id}" sends ${form.event}, which has no schema`);
  const schema = formSchema(form, dataSchema);
  const generate = generatedFields[name];

  return (body) => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) return { ok: false, fieldErrors: fieldErrorsOf(parsed.error) };
    const { count, ...values } = withoutUndefined(parsed.data);
    const batch = randomBytes(3).toString("hex");
    const events = Array.from({ length: typeof count === "number" ? count : 1 }, (_, index) => ({
      name,
      // Parsed once more with the event's own schema: what is sent is exactly what it accepts
      // (a failure here is a bug in this module, not bad input, and surfaces as a 500).
      data: dataSchema.parse({ ...values, ...generate?.(values, index, batch) }) as Record<
        string,
        unknown
      >,
    }));
    return { ok: true, submission: { kind: "events", events } };
  };
}
