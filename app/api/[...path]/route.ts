import { errorBody } from "@/lib/errors";

export const dynamic = "force-dynamic";

// Any other /api path – the JSON 404 envelope instead of an HTML page
function notFound(req: Request): Response {
  return Response.json(errorBody("not_found", `no API route ${req.method} ${new URL(req.url).pathname}`), { status: 404 });
}
export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
