import type { IncomingMessage } from "node:http";
import { AUTH_HEADER } from "../auth/front";
import { authFromHeader } from "../auth/request";
import { AppError } from "../errors";
import { importHead } from "../import/import-request";
import { assertRunExists } from "../runs/assert-run-exists";
import type { RouteMatch } from "./routes";

// What the head of a request with a large body already decides, answered before a byte of that
// body is read (server.ts asks right after the access check of lib/auth/front.ts): a client may
// send up to importFileBytes (64 MiB) to POST /api/v1/import, and a refusal it could have had at
// once (a key scoped to another project, a bad query, a run that is not there) must not cost the
// server reading, holding and dropping all of it. The route then asks the same again once the body
// is here (the world may change while it arrives), so this is never the only check.

/** The refusal `req`'s head earns on `match`, or null when only its body can decide. */
export function refusalBeforeBody(req: IncomingMessage, match: RouteMatch): AppError | null {
  if (req.method !== "POST") return null;
  try {
    switch (match.route.path) {
      case "/api/v1/import": {
        const who = authFromHeader((req.headers[AUTH_HEADER] as string | undefined) ?? null).principal;
        if (who) importHead(new URL(req.url ?? "/", "http://localhost"), req.headers["content-type"], who);
        return null;
      }
      case "/api/v1/runs/[id]/log":
      case "/api/v1/runs/[id]/logs":
        assertRunExists(match.params.get("id") ?? "");
        return null;
      default:
        return null;
    }
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}
