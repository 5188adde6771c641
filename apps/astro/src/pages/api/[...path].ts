import type { APIRoute } from "astro";
import { runtime } from "../../runtime";

/** Every other /api/* route: the shared handlers, /api/hello and the runs of an event. */
export const ALL: APIRoute = ({ request }) => runtime.handle(request);
