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

// Run management filters, beside the ones above (?q=&tag=&archived=&owner=): sent to the server, which
// searches and filters in SQL (GET /api/v1/runs), and kept in the URL the same way.
export type ArchivedFilter = "false" | "true" | "all";
export const ARCHIVED_FILTERS: readonly ArchivedFilter[] = ["false", "true", "all"];

export interface ListFilters {
  q: string;
  tag: string;
  archived: ArchivedFilter;
  /** A user's name: only their runs (team mode); absent or "": everyone's. */
  owner?: string;
}

export function parseListFilters(q: Params): ListFilters {
  const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : "");
  const archived = one(q.archived);
  return {
    q: one(q.q),
    tag: one(q.tag),
    archived: (ARCHIVED_FILTERS as readonly string[]).includes(archived) ? (archived as ArchivedFilter) : "false",
    ...(one(q.owner) ? { owner: one(q.owner) } : {}),
  };
}

export function withListFilters(url: URL, f: ListFilters): URL {
  const u = new URL(url);
  const set = (k: string, v: string, dflt: string) => (v && v !== dflt ? u.searchParams.set(k, v) : u.searchParams.delete(k));
  set("q", f.q, "");
  set("tag", f.tag, "");
  set("archived", f.archived, "false");
  set("owner", f.owner ?? "", "");
  return u;
}

/** A chosen column of the runs list: a config value, or a metric's last / min / max. */
export interface ListColumn {
  kind: "config" | "metric";
  key: string;
  agg: "last" | "min" | "max";
}

/** An ordering by a chosen column, or null for the list's own orders. */
export interface ColumnSort {
  column: ListColumn;
  desc: boolean;
}

/** The GET /api/v1/runs query of the list's state (keys travel as JSON arrays: any key stays one key). */
export function runsApiQuery(q: RunsQuery, f: ListFilters, columns: readonly ListColumn[], by: ColumnSort | null, limit = 1000): string {
  const p = new URLSearchParams();
  p.set("limit", String(limit));
  if (q.project) p.set("project", q.project);
  if (q.status) p.set("status", q.status);
  if (f.q.trim()) p.set("q", f.q.trim());
  if (f.tag) p.set("tag", f.tag);
  if (f.archived !== "false") p.set("archived", f.archived);
  if (f.owner) p.set("owner", f.owner);
  const config = [...new Set(columns.filter((c) => c.kind === "config").map((c) => c.key))];
  const metrics = [...new Set(columns.filter((c) => c.kind === "metric").map((c) => c.key))];
  if (config.length) p.set("configColumns", JSON.stringify(config));
  if (metrics.length) p.set("metricColumns", JSON.stringify(metrics));
  if (by) {
    p.set("sort", `${by.desc ? "-" : ""}${by.column.kind}`);
    p.set("sortKey", by.column.key);
    if (by.column.kind === "metric") p.set("sortAgg", by.column.agg);
  } else p.set("sort", q.sort === "oldest" ? "created" : q.sort === "name" ? "name" : "-created");
  return p.toString();
}

/**
 * The chosen columns and column sort as they stand in the URL: `cols` a JSON array of
 * ["config", key] / ["metric", key, "last"|"min"|"max"], `by` a column's index, "-" first for
 * descending. Anything malformed is left out.
 */
export function parseColumns(q: Params): { columns: ListColumn[]; by: ColumnSort | null } {
  const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : "");
  let raw: unknown;
  try {
    raw = JSON.parse(one(q.cols) || "[]");
  } catch {
    raw = [];
  }
  const columns: ListColumn[] = [];
  for (const c of Array.isArray(raw) ? raw.slice(0, 20) : []) {
    if (!Array.isArray(c) || typeof c[1] !== "string" || !c[1]) continue;
    if (c[0] === "config") columns.push({ kind: "config", key: c[1], agg: "last" });
    else if (c[0] === "metric" && ["last", "min", "max"].includes(c[2])) columns.push({ kind: "metric", key: c[1], agg: c[2] });
  }
  const m = /^(-?)([0-9]{1,2})$/.exec(one(q.by));
  const column = m ? columns[Number(m[2])] : undefined;
  return { columns, by: column ? { column, desc: m![1] === "-" } : null };
}

export function withColumns(url: URL, columns: readonly ListColumn[], by: ColumnSort | null): URL {
  const u = new URL(url);
  if (columns.length)
    u.searchParams.set("cols", JSON.stringify(columns.map((c) => (c.kind === "config" ? [c.kind, c.key] : [c.kind, c.key, c.agg]))));
  else u.searchParams.delete("cols");
  const i = by ? columns.findIndex((c) => c.kind === by.column.kind && c.key === by.column.key && c.agg === by.column.agg) : -1;
  if (i >= 0) u.searchParams.set("by", `${by!.desc ? "-" : ""}${i}`);
  else u.searchParams.delete("by");
  return u;
}
