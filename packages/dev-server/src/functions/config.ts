/**
 * A function as the SDK registers it (in a sync's PUT answer or its POST /fn/register): its id,
 * triggers, the URL to call it at, and its options in the SDK's own shape. Options stay `unknown`
 * here on purpose: they are checked by `validation.ts` and read only through the typed
 * `FunctionOptions` that `options.ts` makes of them. Unknown fields are kept (the UI shows them).
 */
export interface FunctionTrigger {
  event?: string;
  expression?: string;
  cron?: string;
  jitter?: string;
}

export interface FunctionConfig {
  id: string;
  name?: string;
  triggers: FunctionTrigger[];
  steps: Record<
    string,
    {
      id: string;
      name: string;
      runtime: { type: string; url: string };
      retries?: { attempts?: number };
    }
  >;
  [option: string]: unknown;
}
