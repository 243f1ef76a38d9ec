import { keyById, revokeApiKey } from "@/lib/auth/api-keys";
import { canAdminister } from "@/lib/auth/permissions";
import { userOf } from "@/lib/auth/request";
import { AppError } from "@/lib/errors";
import { handle, json } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

// DELETE /api/v1/keys/[id] – revokes a key (its owner or an admin); the revoked key answers 401 from then on: { key }
export const DELETE = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const me = userOf(req);
  const { id } = await ctx.params;
  const key = /^[1-9][0-9]{0,15}$/.test(id) ? keyById(Number(id)) : null;
  // someone else's key is "not found", not "forbidden": ids are not for guessing at
  if (!key || (key.user !== me.name && !canAdminister(me))) throw new AppError("not_found", `no API key ${id.slice(0, 40)}`);
  return json({ key: revokeApiKey(key.id) });
});
