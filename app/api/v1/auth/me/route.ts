import { authOf } from "@/lib/auth/request";
import { userById } from "@/lib/auth/users";
import { handle, json } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

// GET /api/v1/auth/me – the server's mode and who is asking: { mode, user: { name, role } | null, key: {...} | null }
export const GET = handle(async (req: Request) => {
  const { mode, principal: p } = authOf(req);
  return json({
    mode,
    user:
      p?.kind === "user"
        ? { name: p.name, role: p.role, passwordChangeRequired: p.passwordChangeRequired === true }
        : p?.kind === "key"
          ? { name: p.scope.userName, role: userById(p.scope.userId)?.role ?? null }
          : null,
    key: p?.kind === "key" ? { id: p.scope.keyId, access: p.scope.access, projects: p.scope.projects } : null,
  });
});
