import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { runtime } from "../runtime.server";

// Every other /api/* route: the shared handlers, /api/hello and the runs of an event.
const handle = ({ request }: LoaderFunctionArgs | ActionFunctionArgs) => runtime.handle(request);

export { handle as action, handle as loader };
