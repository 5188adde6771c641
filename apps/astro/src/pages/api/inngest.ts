import { serve } from "inngest/astro";
import { runtime } from "../../runtime";

export const { GET, POST, PUT } = serve({ client: runtime.inngest, functions: runtime.functions });
