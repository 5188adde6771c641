import { type Flow, findFlow, flows, testIds } from "@repo/contracts/flows";
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { attachFlowPages, UNREPORTED } from "./flow-page";
import { flowPageMarkup, renderMarkup } from "./markup";
import { FlowPage } from "./react";

/**
 * The page as each app renders it: Astro as HTML from the markup tree, Next and Remix with the
 * React component (server-rendered; the browser module then attaches to that DOM, as it does once
 * React has hydrated). Every test of the browser module runs on both.
 */
const renderers = {
  "HTML (Astro)": (flow: Flow) => renderMarkup(flowPageMarkup(flow)),
  "React (Next, Remix)": (flow: Flow) => renderToString(createElement(FlowPage, { flow })),
} as const;
type RendererName = keyof typeof renderers;

/** A DOM subtree as comparable text: attributes sorted, comments dropped, adjacent text merged. */
function canonical(html: string): string {
  const template = document.createElement("template");
  template.innerHTML = html;
  const walk = (node: Node): string => {
    if (node.nodeType === 3) return JSON.stringify(node.textContent);
    if (node.nodeType !== 1) return "";
    const element = node as Element;
    const attributes = [...element.attributes]
      .map((attribute) => `${attribute.name}=${JSON.stringify(attribute.value)}`)
      .sort()
      .join(" ");
    // A field's current value: what the person sees, however each renderer spelled it.
    const value =
      element instanceof HTMLInputElement ||
      element instanceof HTMLSelectElement ||
      element instanceof HTMLTextAreaElement
        ? ` value=${JSON.stringify(element.value)}`
        : "";
    const children: string[] = [];
    for (const child of element.childNodes) {
      const text = walk(child);
      const previous = children.at(-1);
      if (child.nodeType === 3 && previous?.startsWith('"')) {
        children[children.length - 1] = JSON.stringify(
          JSON.parse(previous) + (child.textContent ?? ""),
        );
      } else if (text) children.push(text);
    }
    return `<${element.tagName.toLowerCase()} ${attributes}${value}>${children.join("")}</>`;
  };
  return [...template.content.childNodes].map(walk).join("");
}

describe("the flow page's markup", () => {
  it.each(flows.map((flow) => [flow.id, flow] as const))(
    "%s: React and the HTML renderer render the same page",
    (_id, flow) => {
      const html = canonical(renderers["HTML (Astro)"](flow));
      expect(canonical(renderers["React (Next, Remix)"](flow))).toBe(html);
      // Something to compare: the page holds every form, field and panel of the catalogue.
      for (const form of flow.forms) {
        expect(html).toContain(`data-testid="${testIds.submit(form.id)}"`);
        for (const field of form.fields) {
          expect(html).toContain(`data-testid="${testIds.field(form.id, field.name)}"`);
        }
      }
      expect(html).toContain(`data-testid="${testIds.runs}"`);
    },
  );

  it("pre-fills fields the way a person sees them: text, select and textarea", () => {
    const signup = findFlow("signup");
    const webhook = findFlow("webhook");
    if (!signup || !webhook) throw new Error("the catalogue lost a flow");
    for (const render of Object.values(renderers)) {
      document.body.innerHTML = render(signup) + render(webhook);
      const value = (id: string) =>
        document.querySelector<HTMLInputElement>(`[data-testid="${id}"]`)?.value;
      expect(value(testIds.field("send", "email"))).toBe("ada@example.com");
      expect(value(testIds.field("send", "plan"))).toBe("free");
      expect(value(testIds.field("send", "payload"))).toContain('"type":"invoice.paid"');
    }
  });
});

type Route = (url: string, init?: RequestInit) => { status: number; body: unknown } | undefined;

/** A stubbed fetch that answers from `route` and records every call. */
function stubFetch(route: Route) {
  const calls: { url: string; body?: unknown; cache?: RequestCache | undefined }[] = [];
  vi.stubGlobal("fetch", async (input: string, init?: RequestInit) => {
    const { pathname, search } = new URL(input, "http://app.test");
    const url = pathname + search;
    calls.push({
      url,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
      ...(init?.cache ? { cache: init.cache } : {}),
    });
    const answer = route(url, init) ?? { status: 404, body: { error: `no stub for ${url}` } };
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  });
  return calls;
}

const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);

let renderer: RendererName = "HTML (Astro)";

function mount(flowId: string) {
  const flow = findFlow(flowId);
  if (!flow) throw new Error(`no flow ${flowId}`);
  document.body.innerHTML = renderers[renderer](flow);
  return attachFlowPages(document);
}

async function submit(formId: string) {
  byTestId(testIds.submit(formId))?.click();
  await vi.advanceTimersByTimeAsync(0);
}

describe.each(Object.keys(renderers) as RendererName[])(
  "the browser module on the page rendered by %s",
  (name) => {
    let detach: () => void = () => {};
    beforeEach(() => {
      renderer = name;
      vi.useFakeTimers();
    });
    afterEach(() => {
      detach();
      vi.useRealTimers();
      vi.unstubAllGlobals();
    });

    it("sends the form as JSON and shows each field's errors next to it", async () => {
      const calls = stubFetch((url) =>
        url === "/api/flows/signup/send"
          ? {
              status: 400,
              body: {
                error: "invalid input",
                fieldErrors: {
                  email: ["must be a valid email address"],
                  _form: ["too many fields"],
                },
              },
            }
          : undefined,
      );
      detach = mount("signup");
      await submit("send");

      expect(calls[0]).toEqual({
        url: "/api/flows/signup/send",
        body: { userId: "user-1", email: "ada@example.com", name: "Ada Lovelace", plan: "free" },
      });
      const emailError = byTestId(testIds.fieldError("send", "email"));
      expect(emailError?.hidden).toBe(false);
      expect(emailError?.textContent).toBe("must be a valid email address");
      expect(byTestId(testIds.field("send", "email"))?.getAttribute("aria-invalid")).toBe("true");
      expect(byTestId(testIds.fieldError("send", "userId"))?.hidden).toBe(true);
      expect(byTestId(testIds.formError("send"))?.textContent).toBe("too many fields");
      expect(byTestId(testIds.eventIds("send"))?.textContent).toBe("");
    });

    it("shows a failure without field errors (a 502 from Inngest) in the form's error", async () => {
      stubFetch(() => ({ status: 502, body: { error: "could not send the event to Inngest" } }));
      detach = mount("hello");
      await submit("send");
      const formError = byTestId(testIds.formError("send"));
      expect(formError?.hidden).toBe(false);
      expect(formError?.textContent).toBe("could not send the event to Inngest");
    });

    it("shows the event ids, then the runs and rows, updating until every run has ended", async () => {
      let runsStatus = "Running";
      const calls = stubFetch((url) => {
        if (url === "/api/flows/signup/send") return { status: 200, body: { ids: ["01EVENT"] } };
        if (url === "/api/events/01EVENT/runs") {
          return {
            status: 200,
            body: {
              runs: ["send-welcome-email", "create-profile"].map((fn) => ({
                run_id: `run-${fn}`,
                function_id: `next-${fn}`,
                function: fn,
                status: runsStatus,
                ended_at: null,
                output: runsStatus === "Completed" ? { ok: true } : null,
              })),
            },
          };
        }
        if (url === "/api/flows/signup/results?key=user-1") {
          return {
            status: 200,
            body: { results: { user: { id: "user-1", email: "ada@example.com" }, emails: [] } },
          };
        }
        return undefined;
      });
      detach = mount("signup");
      await submit("send");

      expect(byTestId(testIds.eventIds("send"))?.textContent).toBe("01EVENT");
      await vi.advanceTimersByTimeAsync(0);
      expect(byTestId(testIds.runStatus("create-profile"))?.textContent).toBe("Running");
      expect(document.querySelector('[data-result="user"]')?.textContent).toContain(
        "ada@example.com",
      );
      expect(document.querySelector('[data-result="emails"]')?.textContent).toBe(
        "emails: none yet",
      );

      runsStatus = "Completed";
      await vi.advanceTimersByTimeAsync(1_000);
      expect(byTestId(testIds.runStatus("create-profile"))?.dataset.status).toBe("Completed");
      expect(byTestId(testIds.runStatus("send-welcome-email"))?.textContent).toBe("Completed");

      // Every run has ended: once the settling time after the send has passed, polling stops.
      await vi.advanceTimersByTimeAsync(30_000);
      const polls = calls.length;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(calls.length).toBe(polls);
      expect(document.querySelector("[data-flow-page]")?.getAttribute("data-polling")).toBe(
        "false",
      );
    });

    it("says so where the Inngest server reports no output of an ended run", async () => {
      const calls = stubFetch((url) => {
        if (url === "/api/flows/hello/send") return { status: 200, body: { ids: ["01EVENT"] } };
        if (url === "/api/events/01EVENT/runs") {
          return {
            status: 200,
            body: {
              runs: [
                {
                  run_id: "01RUN",
                  function_id: "586d4050-1d5e-5ee9-800c-c46753c99135",
                  function: "hello-world",
                  status: "Completed",
                  ended_at: "2026-01-01T00:00:00.000Z",
                  output: null,
                  output_reported: false,
                },
              ],
            },
          };
        }
        return { status: 200, body: { results: {} } };
      });
      detach = mount("hello");
      await submit("send");
      await vi.advanceTimersByTimeAsync(0);
      expect(byTestId(testIds.runStatus("hello-world"))?.dataset.status).toBe("Completed");
      const output = document.querySelector<HTMLElement>('[data-output="unreported"]');
      expect(output?.textContent).toBe(UNREPORTED);
      // Polled past any cache the browser keeps.
      const polls = calls.filter((call) => call.url === "/api/events/01EVENT/runs");
      expect(polls.length).toBeGreaterThan(0);
      expect(polls.every((call) => call.cache === "no-store")).toBe(true);
    });

    it("keys the webhook flow's results by the log id the answer returns", async () => {
      const calls = stubFetch((url) => {
        if (url === "/api/flows/webhook/send") {
          return { status: 202, body: { logId: 7, ids: ["01HOOK"] } };
        }
        if (url === "/api/events/01HOOK/runs") return { status: 200, body: { runs: [] } };
        if (url.startsWith("/api/flows/webhook/results"))
          return { status: 200, body: { results: {} } };
        return undefined;
      });
      detach = mount("webhook");
      await submit("send");
      await vi.advanceTimersByTimeAsync(0);
      expect(calls.map((call) => call.url)).toContain("/api/flows/webhook/results?key=7");
    });

    it("shows the results of a flow without a form (the daily reports) at once", async () => {
      const calls = stubFetch((url) =>
        url === "/api/flows/cron/results"
          ? { status: 200, body: { results: { reports: [{ reportDate: "2026-01-01" }] } } }
          : undefined,
      );
      detach = mount("cron");
      await vi.advanceTimersByTimeAsync(0);
      expect(calls.map((call) => call.url)).toEqual(["/api/flows/cron/results"]);
      expect(document.querySelector('[data-result="reports"]')?.textContent).toContain(
        "2026-01-01",
      );
    });

    it("stops polling once detached (a client-side navigation away)", async () => {
      const calls = stubFetch((url) =>
        url === "/api/flows/hello/send"
          ? { status: 200, body: { ids: ["01EVENT"] } }
          : { status: 200, body: { runs: [], results: {} } },
      );
      detach = mount("hello");
      const page = document.querySelector<HTMLElement>("[data-flow-page]");
      expect(page?.dataset.attached).toBe("true");
      await submit("send");
      detach();
      // The readiness mark goes with the listeners: a script waiting for it must not submit now.
      expect(page?.dataset.attached).toBeUndefined();
      const before = calls.length;
      await vi.advanceTimersByTimeAsync(30_000);
      expect(calls.length).toBe(before);
    });
  },
);
