import { GET as runGET } from "@/app/api/v1/runs/[id]/histograms/route";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token]/histograms – as GET /api/v1/runs/[id]/histograms, for the run the link opens
export const GET = viaShare(runGET);
