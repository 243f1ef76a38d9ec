import { LIMITS } from "@/lib/contract/limits";
import { handle, json, parse, queryOf, readJson } from "@/lib/http/handler";
import { appendLogs } from "@/lib/logs/append-logs";
import { getLogs, logsQueryOf } from "@/lib/logs/get-logs";
import { logLinesBatch } from "@/lib/schemas/run-logs";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/logs – the run's console lines in order (?after=&q=&limit=): a page, and where the next starts
export const GET = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(getLogs(id, logsQueryOf(queryOf(req))));
});

// POST /api/v1/runs/[id]/logs – append numbered console lines (`babysit run`); lines sent again are not stored twice
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const { lines } = parse(logLinesBatch, await readJson(req, { limit: LIMITS.runLogBodyBytes.value }));
  return json(appendLogs(id, lines));
});
