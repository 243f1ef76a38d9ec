import { handle } from "../http/handler";
import { runIdForToken } from "./shares";

type RunHandler = (req: Request, ctx: { params: Promise<{ id: string }> }) => Promise<Response>;

/** A GET route of /api/v1/runs/[id]/... served at /api/v1/shares/[token]/... for the run the token opens. */
export function viaShare(runHandler: RunHandler) {
  return handle(async (req: Request, ctx: { params: Promise<{ token: string }> }) => {
    const id = runIdForToken((await ctx.params).token, { touch: true });
    return runHandler(req, { params: Promise.resolve({ id }) });
  });
}
