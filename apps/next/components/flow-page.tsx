"use client";

// The pages of @repo/ui/react attach the browser module in an effect: client components for Next
// (server-rendered all the same). Remix has no server components, so it imports them directly.
export { FlowList, FlowPage } from "@repo/ui/react";
