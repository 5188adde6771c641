import { describe, expect, it } from "vitest";
import { parseOps } from "./ops";

describe("parseOps", () => {
  it("reads StepRun, labelled by displayName, else name, else id", () => {
    expect(
      parseOps([
        { op: "StepRun", id: "h1", name: "fetch", displayName: "Fetch user", data: { n: 1 } },
        { op: "StepRun", id: "h2", name: "save", data: 0 },
        { op: "StepRun", id: "h3", data: false },
      ]),
    ).toEqual([
      { op: "StepRun", id: "h1", label: "Fetch user", data: { n: 1 } },
      { op: "StepRun", id: "h2", label: "save", data: 0 },
      { op: "StepRun", id: "h3", label: "h3", data: false },
    ]);
  });

  it("memoizes an undefined StepRun data as null, and reads the old Step op as StepRun", () => {
    expect(
      parseOps([
        { op: "StepRun", id: "h1" },
        { op: "Step", id: "h2", data: "x" },
      ]),
    ).toEqual([
      { op: "StepRun", id: "h1", label: "h1", data: null },
      { op: "StepRun", id: "h2", label: "h2", data: "x" },
    ]);
  });

  it("reads StepError and StepFailed, with a default error when none is an object", () => {
    const error = { name: "TypeError", message: "boom" };
    expect(
      parseOps([
        { op: "StepError", id: "h1", error },
        { op: "StepFailed", id: "h2", error: "boom" },
        { op: "StepError", id: "h3" },
      ]),
    ).toEqual([
      { op: "StepError", id: "h1", label: "h1", error },
      {
        op: "StepFailed",
        id: "h2",
        label: "h2",
        error: { name: "Error", message: "Unknown error" },
      },
      {
        op: "StepError",
        id: "h3",
        label: "h3",
        error: { name: "Error", message: "Unknown error" },
      },
    ]);
  });

  it("reads StepPlanned, RunComplete (data default null) and DiscoveryRequest", () => {
    expect(
      parseOps([
        { op: "StepPlanned", id: "h1", name: "a" },
        { op: "RunComplete", id: "h2", data: { ok: true } },
        { op: "RunComplete", id: "h3" },
        { op: "DiscoveryRequest", id: "h4" },
      ]),
    ).toEqual([
      { op: "StepPlanned", id: "h1", label: "a" },
      { op: "RunComplete", id: "h2", label: "h2", data: { ok: true } },
      { op: "RunComplete", id: "h3", label: "h3", data: null },
      { op: "DiscoveryRequest", id: "h4", label: "h4" },
    ]);
  });

  it("takes a Sleep's end from its name", () => {
    expect(parseOps([{ op: "Sleep", id: "h1", name: "1h30m", displayName: "nap" }])).toEqual([
      { op: "Sleep", id: "h1", label: "nap", until: "1h30m" },
    ]);
    expect(parseOps([{ op: "Sleep", id: "h2" }])).toEqual([
      { op: "Sleep", id: "h2", label: "h2", until: "" },
    ]);
  });

  it("takes a WaitForEvent's event from its name, else from opts.event", () => {
    expect(
      parseOps([
        {
          op: "WaitForEvent",
          id: "h1",
          name: "app/approved",
          displayName: "wait",
          opts: { event: "ignored", if: "async.data.id == event.data.id", timeout: "1d" },
        },
        { op: "WaitForEvent", id: "h2", opts: { event: "app/go", timeout: "5m" } },
        { op: "WaitForEvent", id: "h3" },
      ]),
    ).toEqual([
      {
        op: "WaitForEvent",
        id: "h1",
        label: "wait",
        event: "app/approved",
        if: "async.data.id == event.data.id",
        timeout: "1d",
      },
      { op: "WaitForEvent", id: "h2", label: "h2", event: "app/go", if: null, timeout: "5m" },
      { op: "WaitForEvent", id: "h3", label: "h3", event: "", if: null, timeout: "" },
    ]);
  });

  it("reads an InvokeFunction's target, timeout and the object fields of its payload", () => {
    expect(
      parseOps([
        {
          op: "InvokeFunction",
          id: "h1",
          opts: {
            function_id: "app-other",
            timeout: "1h",
            payload: { data: { a: 1 }, user: { u: 2 }, v: "2", extra: true },
          },
        },
        {
          op: "InvokeFunction",
          id: "h2",
          opts: { function_id: "app-other", payload: { data: "not an object", v: 3 } },
        },
        { op: "InvokeFunction", id: "h3" },
      ]),
    ).toEqual([
      {
        op: "InvokeFunction",
        id: "h1",
        label: "h1",
        functionId: "app-other",
        payload: { data: { a: 1 }, user: { u: 2 }, v: "2" },
        timeout: "1h",
      },
      {
        op: "InvokeFunction",
        id: "h2",
        label: "h2",
        functionId: "app-other",
        payload: {},
        timeout: "",
      },
      { op: "InvokeFunction", id: "h3", label: "h3", functionId: "", payload: {}, timeout: "" },
    ]);
  });

  it("reads an op it does not carry out as Unsupported, with its name", () => {
    expect(parseOps([{ op: "AIGateway", id: "h1", name: "infer" }, { id: "h2" }])).toEqual([
      { op: "Unsupported", id: "h1", label: "infer", name: "AIGateway" },
      { op: "Unsupported", id: "h2", label: "h2", name: "undefined" },
    ]);
  });

  it("reads a single object body as one op", () => {
    expect(parseOps({ op: "StepRun", id: "h1", data: 1 })).toEqual([
      { op: "StepRun", id: "h1", label: "h1", data: 1 },
    ]);
  });

  it("drops entries that are not objects", () => {
    expect(
      parseOps([null, 1, "StepRun", [{ op: "StepRun" }], { op: "StepPlanned", id: "h1" }]),
    ).toEqual([{ op: "StepPlanned", id: "h1", label: "h1" }]);
    expect(parseOps(null)).toEqual([]);
    expect(parseOps("text")).toEqual([]);
  });
});
