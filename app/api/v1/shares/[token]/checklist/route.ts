import { GET as runGET } from "@/app/api/v1/runs/[id]/checklist/route";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token]/checklist – as GET /api/v1/runs/[id]/checklist, for the run the link opens
export const GET = viaShare(runGET);
