import { serve } from "inngest/next";
import { runtime } from "@/lib/runtime";

export const { GET, POST, PUT } = serve({ client: runtime.inngest, functions: runtime.functions });
