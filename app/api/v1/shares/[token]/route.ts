import { GET as getRun } from "@/app/api/v1/runs/[id]/route";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token] – the shared run, as GET /api/v1/runs/[id] gives it (a link holder cannot revoke it: its owner does)
export const GET = viaShare(getRun);
