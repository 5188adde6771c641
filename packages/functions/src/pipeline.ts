import { z } from "zod";

/** One uploaded record, as the pipeline accepts it. */
const uploadedRecord = z.object(
  {
    name: z
      .string({ error: "must be a string" })
      .trim()
      .min(1, "must not be empty")
      .max(200, "must be at most 200 characters"),
    email: z.email({ error: "must be a valid email address" }),
    amount: z
      .number({ error: "must be a number" })
      .nonnegative("must not be negative")
      .max(1_000_000, "must be at most 1000000"),
  },
  { error: "must be an object with name, email and amount" },
);

export type UploadedRecord = z.infer<typeof uploadedRecord>;

export interface StoredRecord {
  rowIndex: number;
  name: string;
  email: string;
  amountCents: number;
}

export type ValidationResult =
  | { ok: true; records: UploadedRecord[] }
  | { ok: false; problems: string[]; message: string };

const MAX_PROBLEMS_REPORTED = 10;

/**
 * Checks every record; each problem names the record (1-based, as a person counts rows) and the
 * field: `record 3: field "email" must be a valid email address (got "nope")`.
 */
export function validateRecords(records: readonly unknown[]): ValidationResult {
  const problems: string[] = [];
  const valid: UploadedRecord[] = [];
  records.forEach((record, index) => {
    const parsed = uploadedRecord.safeParse(record);
    if (parsed.success) {
      valid.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      const field = issue.path.join(".");
      const got = field ? (record as Record<string, unknown>)[field] : record;
      const subject = field ? `record ${index + 1}: field "${field}"` : `record ${index + 1}`;
      problems.push(`${subject} ${issue.message} (got ${JSON.stringify(got) ?? "nothing"})`);
    }
  });
  if (problems.length === 0) return { ok: true, records: valid };
  const shown = problems.slice(0, MAX_PROBLEMS_REPORTED);
  const more = problems.length - shown.length;
  return {
    ok: false,
    problems,
    message: `invalid data: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}`,
  };
}

/** Normalises valid records for storage: trimmed names, lower-case emails, amounts in cents. */
export function transformRecords(records: readonly UploadedRecord[]): StoredRecord[] {
  return records.map((record, index) => ({
    rowIndex: index,
    name: record.name.trim(),
    email: record.email.toLowerCase(),
    amountCents: Math.round(record.amount * 100),
  }));
}
