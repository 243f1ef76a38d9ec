import { userOf } from "@/lib/auth/request";
import { listUserNames } from "@/lib/auth/users";
import { handle, json } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

// GET /api/v1/users/names – the enabled accounts' names, for any logged-in person (whom a run can be given to): { names: [...] }
export const GET = handle(async (req: Request) => {
  userOf(req);
  return json({ names: listUserNames() });
});
