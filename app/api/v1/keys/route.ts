import { createApiKey, listApiKeys } from "@/lib/auth/api-keys";
import { userOf } from "@/lib/auth/request";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { createKey } from "@/lib/schemas/auth";

export const dynamic = "force-dynamic";

// POST /api/v1/keys – a new API key for the logged-in user, { name, access, projects?, expiresInDays? }: { key, token } (token shown this once)
export const POST = handle(async (req: Request) => {
  const me = userOf(req);
  const input = parse(createKey, await readJson(req));
  return json(createApiKey(me.id, input), 201);
});

// GET /api/v1/keys – the user's keys (an admin's: everyone's), without their secrets: { keys: [...] }
export const GET = handle(async (req: Request) => {
  const me = userOf(req);
  return json({ keys: listApiKeys(me.role === "admin" ? null : me.id) });
});
