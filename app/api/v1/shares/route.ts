import { principalOf } from "@/lib/auth/request";
import { canListShares, shareListScope } from "@/lib/auth/share-list-access";
import { AppError } from "@/lib/errors";
import { handle, json } from "@/lib/http/handler";
import { listAllShares } from "@/lib/shares/list-all-shares";

export const dynamic = "force-dynamic";

// GET /api/v1/shares – shared links across runs, newest first, never their tokens: an admin's (and the local user's) every link, a member's own: { shares, total }
export const GET = handle(async (req: Request) => {
  const p = principalOf(req);
  if (!canListShares(p)) throw new AppError("forbidden", "only people list shared links (log in to the dashboard)");
  return json(listAllShares(shareListScope(p)));
});
