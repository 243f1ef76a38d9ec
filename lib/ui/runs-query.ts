import { LIMITS } from "../contract/limits";
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
  if (columns.length) u.searchParams.set("cols", columnsToStore(columns));
  else u.searchParams.delete("cols");
  const i = by ? columns.findIndex((c) => c.kind === by.column.kind && c.key === by.column.key && c.agg === by.column.agg) : -1;
  if (i >= 0) u.searchParams.set("by", `${by!.desc ? "-" : ""}${i}`);
  else u.searchParams.delete("by");
  return u;
}

// Config filters (?config.<key>=<value>), the API's own parameters (docs/api.md: a number, lo..hi,
// true/false/null, a quoted or plain text), carried as typed so that a link reproduces the view;
// the server checks them. Keys are data: a list of pairs, never an object's properties.
export interface ConfigFilterParam {
  key: string;
  value: string;
}
const CONFIG_PREFIX = "config.";
/**
 * Metric filters (?metric.<key>[:last|:min|:max]=lo..hi) travel the same way, with this prefix:
 * their key is the part after it, summary suffix and all.
 */
export const METRIC_PREFIX = "metric.";
export type FilterPrefix = typeof CONFIG_PREFIX | typeof METRIC_PREFIX;

export function parseConfigFilters(q: Params, prefix: FilterPrefix = CONFIG_PREFIX): ConfigFilterParam[] {
  const out: ConfigFilterParam[] = [];
  // at most this many from a URL (the API refuses more anyway)
  const max = prefix === METRIC_PREFIX ? LIMITS.runMetricFiltersMax.value : LIMITS.runConfigFiltersMax.value;
  for (const name of Object.keys(q)) {
    const v = q[name];
    if (!name.startsWith(prefix) || name.length === prefix.length || typeof v !== "string" || v === "") continue;
    if (out.length < max) out.push({ key: name.slice(prefix.length), value: v });
  }
  return out;
}

/** `url` with exactly these config filters (others removed). */
export function withConfigFilters(url: URL, filters: readonly ConfigFilterParam[], prefix: FilterPrefix = CONFIG_PREFIX): URL {
  const u = new URL(url);
  for (const name of [...u.searchParams.keys()]) if (name.startsWith(prefix)) u.searchParams.delete(name);
  for (const f of filters) u.searchParams.set(prefix + f.key, f.value);
  return u;
}

/** A filter as a chip says it: "lr = 0.01", "lr in 0.001..0.1", "lr ≥ 0.01", "lr ≤ 0.1". */
export function configFilterText(f: ConfigFilterParam): string {
  const dots = f.value.startsWith('"') ? -1 : f.value.indexOf("..");
  if (dots < 0) return `${f.key} = ${f.value}`;
  const lo = f.value.slice(0, dots);
  const hi = f.value.slice(dots + 2);
  if (!lo) return `${f.key} ≤ ${hi}`;
  if (!hi) return `${f.key} ≥ ${lo}`;
  return `${f.key} in ${lo}..${hi}`;
}

/** The API query with the config filters added (URLSearchParams encodes any key). */
export function withConfigQuery(apiQuery: string, filters: readonly ConfigFilterParam[], prefix: FilterPrefix = CONFIG_PREFIX): string {
  if (!filters.length) return apiQuery;
  const p = new URLSearchParams(apiQuery);
  for (const f of filters) p.set(prefix + f.key, f.value);
  return p.toString();
}

/** Chosen columns as stored per project in the browser (localStorage), in the URL's `cols` form. */
export const columnsStorageKey = (project: string) => `babysit.runs.columns:${project}`;
export function columnsToStore(columns: readonly ListColumn[]): string {
  return JSON.stringify(columns.map((c) => (c.kind === "config" ? [c.kind, c.key] : [c.kind, c.key, c.agg])));
}
export function columnsFromStore(stored: string | null): ListColumn[] {
  return stored ? parseColumns({ cols: stored }).columns : [];
}

/** A sort menu entry for a column: [kind, key, agg, "asc" | "desc"] as JSON (any key stays one value). */
export const columnSortValue = (c: ListColumn, desc: boolean) => JSON.stringify([c.kind, c.key, c.agg, desc ? "desc" : "asc"]);
export function parseColumnSortValue(v: string): ColumnSort | null {
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    return null;
  }
  if (!Array.isArray(raw) || raw.length !== 4 || typeof raw[1] !== "string" || !["asc", "desc"].includes(raw[3])) return null;
  if (raw[0] !== "config" && raw[0] !== "metric") return null;
  if (!["last", "min", "max"].includes(raw[2])) return null;
  return { column: { kind: raw[0], key: raw[1], agg: raw[2] }, desc: raw[3] === "desc" };
}
