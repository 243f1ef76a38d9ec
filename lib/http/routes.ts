// Every /api route with the methods it answers: the one list the front gate in server.ts checks a
// request against before Next.js sees it (unknown path -> 404, wrong method -> 405 with Allow).
// tests/api/routes.test.ts checks it against the route handlers under app/api (and server.ts's own).

import { AUTH_ROUTES } from "../auth/routes";
import { LIMITS } from "../contract/limits";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ApiRoute {
  /** Path with `[param]` segments, as the folder names under app/. */
  path: string;
  methods: readonly Method[];
  /** Answered by server.ts itself (lib/ingest/log-request.ts), with no route handler under app/. */
  server?: true;
  /**
   * The body limit (a name in LIMITS) of the route's methods that take a body (POST, PATCH, PUT);
   * absent: smallBodyBytes. The server refuses a larger body before reading it (bodyLimitOf).
   */
  body?: BodyLimitName;
  /**
   * The body is a file's bytes, sent as application/octet-stream (which a page of another site
   * cannot send without asking either); absent: JSON, like every other write (lib/http/origin.ts).
   */
  binary?: true;
  /**
   * A trailing slash is not this route: `/api/v1/shares/` is the start of a link's path with an
   * empty token, never the server-wide list (which the share-only listener must not serve).
   */
  exactPath?: true;
}

export type BodyLimitName = "bodyBytes" | "runCreateBodyBytes" | "editBodyBytes" | "smallBodyBytes" | "importFileBytes" | "runLogBodyBytes";

export const API_ROUTES: readonly ApiRoute[] = [
  { path: "/api/v1/runs", methods: ["GET", "POST"], body: "runCreateBodyBytes" },
  // run management (lib/runs/update-run.ts, delete-run.ts); "bulk" comes before [id], which it
  // would otherwise match, and is refused as a run id (lib/schemas/runs.ts)
  { path: "/api/v1/runs/bulk", methods: ["POST"], body: "editBodyBytes" },
  { path: "/api/v1/runs/[id]", methods: ["GET", "PATCH", "DELETE"], body: "editBodyBytes" },
  // the one route for large bodies: a log batch
  { path: "/api/v1/runs/[id]/log", methods: ["POST"], server: true, body: "bodyBytes" },
  { path: "/api/v1/runs/[id]/finish", methods: ["POST"] },
  // one source file (a TensorBoard event file, a CSV, a log) into the run it belongs to: lib/import
  { path: "/api/v1/import", methods: ["POST"], body: "importFileBytes", binary: true },
  // a run's console output (`babysit run`): lib/logs
  { path: "/api/v1/runs/[id]/logs", methods: ["GET", "POST"], body: "runLogBodyBytes" },
  { path: "/api/v1/runs/[id]/series", methods: ["GET"] },
  { path: "/api/v1/runs/[id]/histograms", methods: ["GET"] },
  { path: "/api/v1/runs/[id]/images", methods: ["GET"] },
  { path: "/api/v1/runs/[id]/alerts", methods: ["GET"] },
  { path: "/api/v1/runs/[id]/checklist", methods: ["GET"] },
  // a sweep's trial: stop now? (lib/sweeps/get-sweep.ts)
  { path: "/api/v1/runs/[id]/should-stop", methods: ["GET"] },
  { path: "/api/v1/runs/[id]/shares", methods: ["GET", "POST"] },
  { path: "/api/v1/runs/[id]/shares/[shareId]", methods: ["DELETE"] },
  // sweeps (hyperparameter search, lib/sweeps): a space can be large, so the edit limit
  { path: "/api/v1/sweeps", methods: ["GET", "POST"], body: "editBodyBytes" },
  { path: "/api/v1/sweeps/[id]", methods: ["GET"] },
  { path: "/api/v1/sweeps/[id]/alerts", methods: ["GET"] },
  { path: "/api/v1/sweeps/[id]/trials", methods: ["POST"] },
  { path: "/api/v1/sweeps/[id]/refine", methods: ["POST"] },
  // every link across runs (an admin's view; a member's own): lib/auth/share-list-access.ts
  { path: "/api/v1/shares", methods: ["GET"], exactPath: true },
  { path: "/api/v1/shares/[token]", methods: ["GET"] },
  { path: "/api/v1/shares/[token]/series", methods: ["GET"] },
  { path: "/api/v1/shares/[token]/histograms", methods: ["GET"] },
  { path: "/api/v1/shares/[token]/images", methods: ["GET"] },
  { path: "/api/v1/shares/[token]/alerts", methods: ["GET"] },
  { path: "/api/v1/shares/[token]/checklist", methods: ["GET"] },
  ...AUTH_ROUTES,
];

export interface RouteMatch {
  route: ApiRoute;
  /** Decoded `[param]` segments by name (a Map: names come from the table, values from the user). */
  params: Map<string, string>;
}

const SPLIT = API_ROUTES.map((r) => ({ route: r, parts: r.path.split("/").slice(1) }));

/** The route a list of decoded path segments names, or null. */
export function matchRoute(segments: readonly string[]): RouteMatch | null {
  for (const { route, parts } of SPLIT) {
    if (parts.length !== segments.length) continue;
    const params = new Map<string, string>();
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const p = parts[i];
      if (p.startsWith("[")) params.set(p.slice(1, -1), segments[i]);
      else ok = p === segments[i];
    }
    if (ok) return { route, params };
  }
  return null;
}

const BODY_METHODS = new Set(["POST", "PATCH", "PUT"]);

/**
 * How many body bytes a request may send: its route's limit for a method that takes a body, else
 * smallBodyBytes (a page, GET, DELETE: nothing reads their body, so a large one is refused too).
 */
export function bodyLimitOf(match: RouteMatch | null, method: string): number {
  const name = match && BODY_METHODS.has(method) ? (match.route.body ?? "smallBodyBytes") : "smallBodyBytes";
  return LIMITS[name].value;
}

/** The Allow header of a route: its methods, HEAD with GET, and OPTIONS. */
export function allowOf(methods: readonly string[]): string {
  const all = [...methods];
  if (methods.includes("GET")) all.push("HEAD");
  all.push("OPTIONS");
  return all.join(", ");
}
