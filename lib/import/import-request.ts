import { LIMITS, nameProblem } from "../contract/limits";
import { AppError } from "../errors";
import { queryOf, tooLarge } from "../http/handler";
import { assertMayCreateRun } from "../auth/create-run-access";
import type { Principal } from "../auth/permissions";
import { FORMATS, type Format } from "./parse-file";
import { type ImportFileInput, importInputProblem, importRunIdFor } from "./import-file";

// POST /api/v1/import: the file is the body, as it is on disk (Content-Type application/octet-stream,
// which no page of another site can send without asking); everything else is in the query.

const QUERY = new Set(["project", "source", "formerSource", "path", "name", "format", "stepColumn", "patterns", "offset"]);

function bad(message: string): never {
  throw new AppError("invalid_import", message);
}

export type ImportQuery = Omit<ImportFileInput, "bytes">;

/**
 * Everything about an import its head decides: the media type, the query, and whether `who` may write
 * to the project (and to the run the source already has there, a resumed one keeping its project).
 * The server asks this before reading a byte of the body (lib/http/before-body.ts), so a refusal costs
 * no upload of up to importFileBytes; the route handler asks again once the body is here. Throws
 * unsupported_media_type / invalid_query / invalid_import / forbidden.
 */
export function importHead(url: URL, contentType: string | null | undefined, who: Principal): ImportQuery {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/octet-stream") {
    throw new AppError("unsupported_media_type", "send the file's bytes as the body with Content-Type: application/octet-stream");
  }
  const q = queryOf({ url: url.href });
  for (const name of Object.keys(q)) if (!QUERY.has(name)) bad(`unknown query parameter ${JSON.stringify(name.slice(0, 100))}`);
  for (const name of ["project", "source", "path"]) if (!q[name]) bad(`${name} is required`);
  const format = q.format === undefined || q.format === "auto" ? undefined : (q.format as Format);
  if (format !== undefined && !FORMATS.includes(format)) bad(`format must be one of auto, ${FORMATS.join(", ")}`);
  let patterns: string[] | undefined;
  if (q.patterns !== undefined) {
    let p: unknown;
    try {
      p = JSON.parse(q.patterns);
    } catch {
      bad("patterns must be a JSON array of strings");
    }
    if (!Array.isArray(p) || !p.every((s) => typeof s === "string")) bad("patterns must be a JSON array of strings");
    if (p.length > LIMITS.importPatternsMax.value) bad(`patterns must hold at most ${LIMITS.importPatternsMax.value} templates`);
    for (const s of p) {
      const problem = nameProblem(s, LIMITS.importPatternMaxLength, "patterns");
      if (problem) bad(problem);
    }
    patterns = p;
  }
  if (q.stepColumn !== undefined) {
    const problem = nameProblem(q.stepColumn, LIMITS.importSourceMaxLength, "stepColumn");
    if (problem) bad(problem);
  }
  let offset: number | undefined;
  if (q.offset !== undefined) {
    if (!/^\d{1,16}$/.test(q.offset) || !Number.isSafeInteger(Number(q.offset))) bad("offset must be a non-negative integer (bytes)");
    offset = Number(q.offset);
  }
  const project = q.project.trim();
  assertMayCreateRun(who, { project, id: importRunIdFor(project, q.source, q.formerSource) });
  const problem = importInputProblem({ project: q.project, source: q.source, path: q.path, name: q.name });
  if (problem) bad(problem);
  return {
    project: q.project,
    source: q.source,
    formerSource: q.formerSource,
    path: q.path,
    name: q.name,
    offset,
    options: { format, stepColumn: q.stepColumn, patterns },
  };
}

/** The import a request asks for; throws what importHead throws, and payload_too_large. */
export async function readImportRequest(req: Request, who: Principal): Promise<ImportFileInput> {
  const head = importHead(new URL(req.url), req.headers.get("content-type"), who);
  const buf = new Uint8Array(await req.arrayBuffer());
  if (buf.length > LIMITS.importFileBytes.value) throw tooLarge(LIMITS.importFileBytes.value);
  return { ...head, bytes: buf };
}
