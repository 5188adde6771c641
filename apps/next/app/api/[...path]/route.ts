import { runtime } from "@/lib/runtime";

// Every other /api/* route: the shared handlers, /api/hello and the runs of an event.
const handle = (request: Request) => runtime.handle(request);

export const dynamic = "force-dynamic";
export { handle as GET, handle as POST };
