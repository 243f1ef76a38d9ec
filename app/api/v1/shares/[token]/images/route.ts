import { GET as runGET } from "@/app/api/v1/runs/[id]/images/route";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token]/images – as GET /api/v1/runs/[id]/images, for the run the link opens
export const GET = viaShare(runGET);
