import { cookieValues, sessionCookieName } from "@/lib/auth/front";
import { sessionCookie } from "@/lib/auth/login";
import { authOf } from "@/lib/auth/request";
import { disconnectSessions } from "@/lib/auth/session-sockets";
import { deleteSession } from "@/lib/auth/sessions";
import { hashSecret, looksLikeSecret } from "@/lib/auth/tokens";
import { handle } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

// POST /api/v1/auth/logout – ends this browser's session (its row is deleted) and clears the cookie: 204
export const POST = handle(async (req: Request) => {
  const auth = authOf(req);
  // every session the browser sent ends (one planted beside the user's own too: it is a session, not the user's)
  const ids = cookieValues(req.headers.get("cookie") ?? undefined, sessionCookieName(auth.secure))
    .filter(looksLikeSecret)
    .slice(0, 4);
  if (auth.mode === "team") {
    for (const id of ids) {
      deleteSession(id);
      disconnectSessions({ sessionHash: hashSecret(id) }, "logged_out");
    }
  }
  return new Response(null, { status: 204, headers: { "set-cookie": sessionCookie("", auth.secure), "cache-control": "no-store" } });
});
