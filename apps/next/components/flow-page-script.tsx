"use client";

import { attachFlowPages } from "@repo/ui/flow-page";
import { useEffect } from "react";

/** Attaches the shared browser module to the server-rendered page (and detaches it on leave). */
export function FlowPageScript() {
  useEffect(() => attachFlowPages(document), []);
  return null;
}
