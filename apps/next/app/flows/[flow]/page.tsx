import { findFlow, flows } from "@repo/contracts/flows";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { FlowPage } from "@/components/flow-page";

interface Props {
  params: Promise<{ flow: string }>;
}

export const dynamicParams = false;

export function generateStaticParams() {
  return flows.map((flow) => ({ flow: flow.id }));
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: findFlow((await params).flow)?.title ?? "Unknown flow" };
}

export default async function Page({ params }: Props) {
  const flow = findFlow((await params).flow);
  if (!flow) notFound();
  return <FlowPage flow={flow} />;
}
