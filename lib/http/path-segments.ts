// Which decoded path segments the front gate (gate.ts) refuses because some reader of the path
// would take them for a step up or sideways: Next.js and browsers resolve `.` and `..` (also as
// %2e, in any case), a proxy or servlet container may cut a segment at `;` (`..;x`), decode twice
// (%252e%252e) or split a segment at an encoded / or \ (..%2f..). A path naming one thing must name
// the same thing to every reader, so all of these are refused before routing.

const DOTS = new Set([".", ".."]);

/** Extra decoding rounds looked through (a proxy decoding twice or three times). */
const MORE_DECODES = 2;

function isDotLike(segment: string): boolean {
  const semi = segment.indexOf(";");
  return DOTS.has(segment) || (semi >= 0 && DOTS.has(segment.slice(0, semi)));
}

/** The reason a path is refused, or null; `segments` are the path's segments decoded once. */
export function pathSegmentProblem(segments: readonly string[]): string | null {
  for (const decoded of segments) {
    let s = decoded;
    for (let round = 0; ; round++) {
      if (isDotLike(s)) return "the URL path must not hold . or .. segments";
      if (s.includes("/") || s.includes("\\")) return "the URL path must not hold an encoded / or \\ in a segment";
      if (round === MORE_DECODES || !s.includes("%")) break;
      try {
        const next = decodeURIComponent(s);
        if (next === s) break;
        s = next;
      } catch {
        break; // not a second encoding: a literal % is data
      }
    }
  }
  return null;
}
