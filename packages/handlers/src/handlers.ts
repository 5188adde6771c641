import { type FlowForm, findFlow, flows } from "@repo/contracts/flows";
import type { Database } from "@repo/db";
import type { Inngest } from "inngest";
import { createFormParser, type FormParser } from "./forms";
import { HttpError, jsonResponse, readBodyBytes, readJsonObject } from "./http";
import { prepareResultsRead, type ResultsReaders } from "./results";
import { type Logger, sendEvents } from "./send-events";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from "./signature";
import {
  acceptWebhook,
  checkWebhookSource,
  missingSignature,
  WEBHOOK_BODY_LIMIT,
  type WebhookDependencies,
} from "./webhooks";

/** Form bodies are a few fields (and at most 1000 pipeline records). */
export const FLOW_BODY_LIMIT = 512 * 1024;
export { WEBHOOK_BODY_LIMIT };

export interface RequestHandlerOptions {
  /** The client events are sent with (the app's, from `createInngestClient` of @repo/functions). */
  inngest: Inngest.Any;
  getDatabase: () => Promise<Database>;
  /** What each flow's results panel shows (`flowResultsReaders` of @repo/functions). */
  results: ResultsReaders;
  /** The HMAC key webhook senders sign with (WEBHOOK_SECRET). */
  webhookSecret: string;
  /** Where unexpected errors and failed sends are reported (default: `console`). */
  logger?: Logger;
}

export interface RequestHandlers {
  /** `POST /api/flows/:flowId/:formId`: validates a form's fields and sends its events. */
  sendFlowEvent(request: Request, flowId: string, formId: string): Promise<Response>;
  /** `POST /api/webhooks/:source`: verifies, logs, then announces a signed webhook. */
  receiveWebhook(request: Request, source: string): Promise<Response>;
  /** `GET /api/flows/:flowId/results?key=...`: the rows the flow's functions wrote. */
  flowResults(request: Request, flowId: string): Promise<Response>;
  /**
   * Routes a request under `/api` to the handler above. `null` when no route matches (the app
   * answers, e.g. its own 404 or `/api/inngest`); 405 for a known path with the wrong method.
   */
  handle(request: Request): Promise<Response | null>;
}

/** Runs a handler; client errors become their JSON answer, anything else a bare 500. */
async function answer(logger: Logger, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof HttpError) return error.toResponse();
    logger.error("[@repo/handlers] unexpected error", error);
    return jsonResponse(500, { error: "internal error" });
  }
}

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  run(request: Request, params: string[]): Promise<Response>;
}

export function createRequestHandlers(options: RequestHandlerOptions): RequestHandlers {
  if (!options.webhookSecret) {
    throw new Error("createRequestHandlers: webhookSecret must not be empty (set WEBHOOK_SECRET)");
  }
  const logger = options.logger ?? console;
  const deps: WebhookDependencies = {
    inngest: options.inngest,
    getDatabase: options.getDatabase,
    webhookSecret: options.webhookSecret,
    logger,
  };

  // Built once, up front: a catalogue field missing from its event schema fails here, not later.
  const parsers = new Map<FlowForm, FormParser>(
    flows.flatMap((flow) =>
      (flow.forms as readonly FlowForm[]).map((form) => [form, createFormParser(form)] as const),
    ),
  );

  const sendFlowEvent: RequestHandlers["sendFlowEvent"] = (request, flowId, formId) =>
    answer(logger, async () => {
      const flow = findFlow(flowId);
      if (!flow) throw new HttpError(404, `unknown flow "${flowId}"`);
      const form = flow.forms.find((candidate) => candidate.id === formId);
      const parse = form && parsers.get(form);
      if (!parse) throw new HttpError(404, `flow "${flowId}" has no form "${formId}"`);

      // JSON only: a form posted without the page's script (urlencoded), or a cross-site
      // "simple" request (text/plain), is named as such instead of failing as malformed JSON.
      const type = request.headers.get("content-type") ?? "";
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        const got = type ? JSON.stringify(type.slice(0, 80)) : "none";
        throw new HttpError(415, `content-type must be application/json, got ${got}`);
      }
      const parsed = parse(await readJsonObject(request, FLOW_BODY_LIMIT));
      if (!parsed.ok) {
        throw new HttpError(400, "invalid input", { fieldErrors: parsed.fieldErrors });
      }
      const { submission } = parsed;
      if (submission.kind === "webhook") {
        // The form plays the sender: it signs unless the person typed a signature to test.
        return acceptWebhook(deps, {
          source: submission.source,
          rawBody: new TextEncoder().encode(submission.payload),
          signature: submission.signature ?? signWebhook(options.webhookSecret, submission.payload),
        });
      }
      const ids = await sendEvents(options.inngest, submission.events, logger);
      return jsonResponse(200, { ids });
    });

  const receiveWebhook: RequestHandlers["receiveWebhook"] = (request, source) =>
    answer(logger, async () => {
      checkWebhookSource(source);
      const signature = request.headers.get(WEBHOOK_SIGNATURE_HEADER);
      if (!signature) throw missingSignature();
      const rawBody = await readBodyBytes(request, WEBHOOK_BODY_LIMIT);
      return acceptWebhook(deps, { source, rawBody, signature });
    });

  const flowResults: RequestHandlers["flowResults"] = (request, flowId) =>
    answer(logger, async () => {
      const flow = findFlow(flowId);
      if (!flow) throw new HttpError(404, `unknown flow "${flowId}"`);
      const requested = new URL(request.url).searchParams.get("key");
      const key = flow.resultsKey ? requested : null;
      const read = prepareResultsRead(options.results, flow, key);
      const results = await read(await options.getDatabase());
      return jsonResponse(200, { flow: flow.id, key, results });
    });

  // The results route comes first: `results` is not a form id, and a GET there means results.
  const routes: Route[] = [
    {
      method: "GET",
      pattern: /^\/api\/flows\/([^/]+)\/results$/,
      run: (request, [flowId = ""]) => flowResults(request, flowId),
    },
    {
      method: "POST",
      pattern: /^\/api\/flows\/([^/]+)\/([^/]+)$/,
      run: (request, [flowId = "", formId = ""]) => sendFlowEvent(request, flowId, formId),
    },
    {
      method: "POST",
      pattern: /^\/api\/webhooks\/([^/]+)$/,
      run: (request, [source = ""]) => receiveWebhook(request, source),
    },
  ];

  const handle: RequestHandlers["handle"] = async (request) => {
    const path = new URL(request.url).pathname.replace(/(.)\/$/, "$1");
    const matches = routes.flatMap((route) => {
      const match = route.pattern.exec(path);
      return match ? [{ route, encoded: match.slice(1) }] : [];
    });
    if (matches.length === 0) return null;

    const match = matches.find(({ route }) => route.method === request.method);
    if (!match) {
      const allowed = [...new Set(matches.map(({ route }) => route.method))].join(", ");
      return new HttpError(
        405,
        `method ${request.method} is not allowed on ${path}; use ${allowed}`,
        {},
        { allow: allowed },
      ).toResponse();
    }
    let params: string[];
    try {
      params = match.encoded.map((segment) => decodeURIComponent(segment));
    } catch {
      return new HttpError(400, `malformed percent-encoding in the path ${path}`).toResponse();
    }
    return match.route.run(request, params);
  };

  return { sendFlowEvent, receiveWebhook, flowResults, handle };
}
