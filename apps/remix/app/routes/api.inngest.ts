import { serve } from "inngest/remix";
import { runtime } from "../runtime.server";

const handler = serve({ client: runtime.inngest, functions: runtime.functions });

export { handler as action, handler as loader };
