import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { findFlow } from "@repo/contracts/flows";
import { FlowPage } from "@repo/ui/react";

export function loader({ params }: LoaderFunctionArgs) {
  const flow = findFlow(params.flow ?? "");
  if (!flow) throw new Response("Not found", { status: 404 });
  return { flowId: flow.id };
}

export const meta: MetaFunction<typeof loader> = ({ data }) => {
  const flow = findFlow(data?.flowId ?? "");
  return [{ title: flow ? `${flow.title} · Inngest flows · Remix` : "Inngest flows · Remix" }];
};

export default function Page() {
  const { flowId } = useLoaderData<typeof loader>();
  const flow = findFlow(flowId);
  if (!flow) throw new Error(`flow ${flowId} vanished from the catalogue`);
  return <FlowPage key={flow.id} flow={flow} />;
}
