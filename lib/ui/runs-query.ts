import type { RunListItem } from "./api-types";
import { naturalCompare } from "./natural-sort";

// The runs list's filters and order, as they stand in its URL (?project=&status=&sort=), so a
// reload or a shared link shows the same list. Unknown values fall back to "all" / "newest".

export type SortOrder = "newest" | "oldest" | "name";
export const SORT_ORDERS: readonly SortOrder[] = ["newest", "oldest", "name"];
export type StatusFilter = "" | "running" | "stale" | "finished" | "crashed";
export const STATUS_FILTERS: readonly Exclude<StatusFilter, "">[] = ["running", "stale", "finished", "crashed"];

export interface RunsQuery {
  project: string;
  status: StatusFilter;
  sort: SortOrder;
}

type Params = Record<string, string | string[] | undefined>;

export function parseRunsQuery(q: Params): RunsQuery {
  const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : "");
  const status = one(q.status);
  const sort = one(q.sort);
  return {
    project: one(q.project),
    status: (STATUS_FILTERS as readonly string[]).includes(status) ? (status as StatusFilter) : "",
    sort: (SORT_ORDERS as readonly string[]).includes(sort) ? (sort as SortOrder) : "newest",
  };
}

/** `url` with the query's parameters set, defaults left out. */
export function withRunsQuery(url: URL, q: RunsQuery): URL {
  const u = new URL(url);
  const set = (k: string, v: string, dflt: string) => (v && v !== dflt ? u.searchParams.set(k, v) : u.searchParams.delete(k));
  set("project", q.project, "");
  set("status", q.status, "");
  set("sort", q.sort, "newest");
  return u;
}

export function filterRuns<T extends Pick<RunListItem, "project" | "status" | "name" | "createdAt">>(runs: readonly T[], q: RunsQuery): T[] {
  const rs = runs.filter((r) => (!q.project || r.project === q.project) && (!q.status || r.status === q.status));
  if (q.sort === "name") rs.sort((a, b) => naturalCompare(a.name, b.name) || b.createdAt - a.createdAt);
  else if (q.sort === "oldest") rs.sort((a, b) => a.createdAt - b.createdAt);
  else rs.sort((a, b) => b.createdAt - a.createdAt);
  return rs;
}
