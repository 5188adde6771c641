import type { Flow } from "@repo/contracts/flows";
import { createElement, type ReactElement, type ReactNode, useEffect } from "react";
import { attachFlowPages } from "./flow-page";
import { flowListMarkup, flowPageMarkup, type MarkupNode } from "./markup";

/**
 * The flow page of Next and Remix: the tree of `flowPageMarkup`, rendered by React (18 or 19), with
 * the browser module attached once it is in the document (and detached when it leaves). In Next it
 * is a client component (the app marks it so), server-rendered like any other: the page works
 * before the module attaches.
 */
export function FlowPage({ flow }: { flow: Flow }): ReactNode {
  useEffect(() => attachFlowPages(document), []);
  return toReact(flowPageMarkup(flow));
}

/** The home page's list of flows. */
export function FlowList({ flows }: { flows: readonly Flow[] }): ReactNode {
  return toReact(flowListMarkup(flows));
}

/** HTML attribute names that React spells otherwise. */
const REACT_NAMES: Record<string, string> = {
  class: "className",
  for: "htmlFor",
};

/** The tree as React elements. A field's value becomes its `defaultValue`: React does not own it. */
export function toReact(node: MarkupNode): ReactElement | string | null {
  if (node === null || typeof node === "string") return node;
  const props: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node.attributes)) {
    if (value === undefined) continue;
    const isFieldValue = name === "value" && ["input", "select", "textarea"].includes(node.tag);
    props[isFieldValue ? "defaultValue" : (REACT_NAMES[name] ?? name)] = value;
  }
  // Children as arguments, not an array: their order is fixed, so they need no keys.
  return createElement(node.tag, props, ...node.children.map(toReact));
}
