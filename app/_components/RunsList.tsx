"use client";

import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { LIMITS } from "@/lib/contract/limits";
import type { RunList, RunListItem } from "@/lib/ui/api-types";
import { UNREACHABLE, errorText, tryJson } from "@/lib/ui/api-error";
import { bulkFailures, bulkRefusal } from "@/lib/ui/bulk-refusal";
import { NO_OWNER, NO_OWNER_TIP } from "@/lib/ui/owner-text";
import { formatValue, isNonFinite, plural } from "@/lib/ui/format";
import {
  type ArchivedFilter,
  type ColumnSort,
  type ConfigFilterParam,
  type ListColumn,
  type ListFilters,
  METRIC_PREFIX,
  type SortOrder,
  STATUS_FILTERS,
  type StatusFilter,
  columnSortValue,
  columnsFromStore,
  columnsStorageKey,
  columnsToStore,
  filterRuns,
  parseColumnSortValue,
  runsApiQuery,
  withColumns,
  withConfigFilters,
  withConfigQuery,
  withListFilters,
  withRunsQuery,
} from "@/lib/ui/runs-query";
import { AlertBadges, LocalTime, StatusBadge, runDuration, useNow } from "./bits";
import { type Room, onJoined, useLinkState, useLive } from "./live";
import LiveNote from "./LiveNote";
import ColumnPicker from "./ColumnPicker";
import ConfigFilters from "./ConfigFilters";
import EmptyRunsHint from "./EmptyRunsHint";
import ImportLogs from "./ImportLogs";
import { useListKeys } from "./use-list-keys";
import type { SweepListItem } from "@/lib/ui/sweep-view";

// The runs list: search by name, filter by project, status, tag and archived, sort (also by chosen
// config and metric columns, on the server), pick runs to compare or to archive, tag or delete at
// once. Live: `run` events add or update rows at once, `run-deleted` drops them; points and alerts
// of live runs trigger a light refetch of the list (at most one every 2 s) so values follow.

export type { SortOrder } from "@/lib/ui/runs-query";
const SORTS: { value: SortOrder; label: string }[] = [
  { value: "newest", label: "newest first" },
  { value: "oldest", label: "oldest first" },
  { value: "name", label: "name" },
];
const REFETCH_EVERY_MS = 2000;
const SEARCH_DEBOUNCE_MS = 250;
const JSON_TYPE = { "content-type": "application/json" };
const AGG_LABEL: Record<ListColumn["agg"], string> = { last: "last", min: "min", max: "max" };
const NO_COLUMNS = { columns: [], by: null };
/** The sort menu's entry that opens the column picker (a sort by a key not shown yet is a column's). */
// (not a SortOrder, and not a column's value, which is a JSON array)
const MORE_SORTS = "more";
const columnId = (c: ListColumn) => `${c.kind}\u0000${c.key}\u0000${c.kind === "metric" ? c.agg : ""}`;
const MAX_WATCHED = 50;
const STATUS_CHECK_MS = 60_000;

export default function RunsList({
  initial,
  serverNow,
  initialProject,
  initialSort,
  initialStatus = "",
  initialFilters = { q: "", tag: "", archived: "false" },
  initialColumns = NO_COLUMNS,
  initialConfig = [],
  initialMetric = [],
  initialGroup = "",
  team = false,
}: {
  initial: RunList;
  serverNow: number;
  initialProject: string;
  initialSort: SortOrder;
  initialStatus?: StatusFilter;
  initialFilters?: ListFilters;
  initialColumns?: { columns: ListColumn[]; by: ColumnSort | null };
  /** config.<key>=<value> filters of the page's URL (the API's own form). */
  initialConfig?: ConfigFilterParam[];
  /** metric.<key>[:agg]=lo..hi filters of the page's URL, the key with its suffix. */
  initialMetric?: ConfigFilterParam[];
  /** ?group=sweep: the runs grouped under their sweeps (hyperparameter searches). */
  initialGroup?: GroupBy;
  /** Team mode: the API needs a key (the empty list's curl example sends one). */
  team?: boolean;
}) {
  const [runs, setRuns] = useState<RunListItem[]>(initial.runs);
  const [projects, setProjects] = useState(initial.projects);
  const [project, setProject] = useState(initialProject);
  const [sort, setSort] = useState<SortOrder>(initialSort);
  const [status, setStatus] = useState<StatusFilter>(initialStatus);
  const [picked, setPicked] = useState<string[]>([]);
  const [search, setSearch] = useState(initialFilters.q);
  const [q, setQ] = useState(initialFilters.q);
  const [tag, setTag] = useState(initialFilters.tag);
  const [owner, setOwner] = useState(initialFilters.owner ?? "");
  const [archived, setArchived] = useState<ArchivedFilter>(initialFilters.archived);
  const [tags, setTags] = useState(initial.tags ?? []);
  const [total, setTotal] = useState(initial.total ?? initial.runs.length);
  const [columns, setColumns] = useState<ListColumn[]>(initialColumns.columns);
  const [by, setBy] = useState<ColumnSort | null>(initialColumns.by);
  const [config, setConfig] = useState<ConfigFilterParam[]>(initialConfig);
  const [metricFilters, setMetricFilters] = useState<ConfigFilterParam[]>(initialMetric);
  const [pickerOpen, setPickerOpen] = useState(false);
  const [group, setGroup] = useState<GroupBy>(initialGroup);
  const [sweeps, setSweeps] = useState<SweepListItem[]>([]);
  const [listError, setListError] = useState("");
  const listKeys = useListKeys(project);
  const [bulkTag, setBulkTag] = useState("");
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [bulkError, setBulkError] = useState("");
  const now = useNow(serverNow);
  const link = useLinkState();

  // the latest query: a refetch started by an event asks for what the page shows now
  // (status is filtered here only, so that its menu counts every status of the listed runs)
  const apiQuery = withConfigQuery(
    withConfigQuery(runsApiQuery({ project, status: "", sort }, { q, tag, archived, owner }, columns, by), config),
    metricFilters,
    METRIC_PREFIX,
  );
  const queryRef = useRef(apiQuery);
  queryRef.current = apiQuery;
  const refetch = useCallback(async () => {
    const asked = queryRef.current;
    const res = await fetch(`/api/v1/runs?${asked}`).catch(() => null);
    if (!res || asked !== queryRef.current) return; // a newer query is on its way
    // a filter the server refuses (a typed config value) says why instead of showing an old list
    if (res.status === 400) return setListError(await errorText(res));
    if (!res.ok) return;
    const body = await tryJson<RunList>(res);
    // the query may have changed while the body was read: an older answer never replaces a newer one
    if (!body || asked !== queryRef.current) return;
    setRuns(body.runs);
    setProjects(body.projects);
    setTags(body.tags ?? []);
    setTotal(body.total ?? body.runs.length);
    setListError("");
  }, []);
  // whenever the query changes (the first render shows the server's answer)
  // (the server's answer has no columns: with columns from the URL, ask again at once)
  const firstQuery = useRef(columns.length || config.length || metricFilters.length ? "" : apiQuery);
  useEffect(() => {
    if (apiQuery !== firstQuery.current) void refetch();
    firstQuery.current = "";
  }, [apiQuery, refetch]);
  // typing in the search box asks the server once the user pauses
  useEffect(() => {
    const t = setTimeout(() => setQ(search), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [search]);

  // at most one refetch per REFETCH_EVERY_MS, trailing
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refetchSoon = useCallback(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + REFETCH_EVERY_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      void refetch();
    }, wait);
  }, [refetch]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  // keep the URL in step with the filter, so a reload or a shared link shows the same list
  useEffect(() => {
    const u = withConfigFilters(
      withConfigFilters(
        withColumns(
          withListFilters(withRunsQuery(new URL(window.location.href), { project, status, sort }), { q, tag, archived, owner }),
          columns,
          by,
        ),
        config,
      ),
      metricFilters,
      METRIC_PREFIX,
    );
    if (group) u.searchParams.set("group", group);
    else u.searchParams.delete("group");
    if (u.href !== window.location.href) window.history.replaceState(null, "", u);
  }, [project, status, sort, q, tag, archived, owner, columns, by, config, metricFilters, group]);

  // grouped by sweep: the project's sweeps are the groups (one with no run shown is listed too);
  // read again when runs come and go (a new trial may belong to a new sweep)
  const runCount = runs.length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: runCount: a new or deleted run may change the sweeps' counts
  useEffect(() => {
    if (group !== "sweep") return;
    let live = true;
    void fetch(`/api/v1/sweeps?limit=${LIMITS.sweepListMax.value}${project ? `&project=${encodeURIComponent(project)}` : ""}`)
      .then((res) => (res.ok ? tryJson<{ sweeps: SweepListItem[] }>(res) : null))
      .catch(() => null)
      .then((body) => {
        if (live && Array.isArray(body?.sweeps)) setSweeps(body.sweeps);
      });
    return () => {
      live = false;
    };
  }, [group, project, runCount]);

  // chosen columns are kept per project in this browser: a page opened without columns in its
  // URL shows the ones last chosen for its project (the URL's win: a shared link shows its view)
  const storedColumns = (p: string): ListColumn[] => {
    try {
      return columnsFromStore(window.localStorage.getItem(columnsStorageKey(p)));
    } catch {
      return []; // storage refused (private mode, quota): columns live in the URL only
    }
  };
  const storeColumns = (p: string, cs: readonly ListColumn[]) => {
    try {
      if (cs.length) window.localStorage.setItem(columnsStorageKey(p), columnsToStore(cs));
      else window.localStorage.removeItem(columnsStorageKey(p));
    } catch {
      // as above
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, on the first render in the browser (the server cannot read storage)
  useEffect(() => {
    if (!initialColumns.columns.length) setColumns(storedColumns(initialProject));
  }, []);
  const changeColumns = (next: ListColumn[], nextBy: ColumnSort | null = by) => {
    setColumns(next);
    setBy(nextBy && next.some((c) => columnId(c) === columnId(nextBy.column)) ? nextBy : null);
    storeColumns(project, next);
  };
  const chooseProject = (p: string) => {
    if (p === project) return;
    setProject(p);
    // another project, its own columns (a sort by a column it does not show ends)
    const next = storedColumns(p);
    setColumns(next);
    setBy((b) => (b && next.some((c) => columnId(c) === columnId(b.column)) ? b : null));
  };

  // runs that go quiet turn "stale" without any event: look again now and then while some are live
  const anyLive = runs.some((r) => r.status === "running");
  useEffect(() => {
    if (!anyLive) return;
    const t = setInterval(() => void refetch(), STATUS_CHECK_MS);
    return () => clearInterval(t);
  }, [anyLive, refetch]);

  const liveIds = runs
    .filter((r) => r.status === "running")
    .slice(0, MAX_WATCHED)
    .map((r) => r.id);
  const rooms: Room[] = [{ runs: true }, ...liveIds.map((id) => ({ run: id }))];
  // a run's room is joined only once the run is listed: points it logged before the server joined
  // it reached no one here, so read the list again once it has (throttled)
  useEffect(() => onJoined((room) => "run" in room && refetchSoon()), [refetchSoon]);

  useLive(rooms, {
    run: (msg) => {
      const view = msg as unknown as Omit<RunListItem, "summary" | "alerts">; // the runs room carries list views
      setRuns((rs) => {
        const i = rs.findIndex((r) => r.id === view.id);
        if (i < 0) return [{ ...view, summary: {}, alerts: { critical: 0, warning: 0, info: 0 } }, ...rs];
        const next = rs.slice();
        next[i] = { ...rs[i], ...view };
        return next;
      });
      if (!projects.some((p) => p.name === view.project))
        setProjects((ps) => [...ps, { name: view.project, runs: 1 }].sort((a, b) => a.name.localeCompare(b.name)));
      refetchSoon();
    },
    points: () => refetchSoon(),
    alert: () => refetchSoon(),
    runAlerts: () => refetchSoon(), // also for runs past the MAX_WATCHED whose rooms are not joined
    runDeleted: (msg) => {
      setRuns((rs) => rs.filter((r) => r.id !== msg.runId));
      setPicked((p) => p.filter((x) => x !== msg.runId));
      refetchSoon();
    },
    connected: () => refetch(),
  });

  // the server filtered and ordered; this applies the same filters at once to what live events
  // changed (a run archived elsewhere leaves the default list before the refetch)
  const shown = useMemo(() => {
    const rs = runs.filter(
      (r) =>
        (archived === "all" || (r.archived ?? false) === (archived === "true")) &&
        (!tag || (r.tags ?? [tag]).includes(tag)) &&
        (!owner || r.owner === undefined || r.owner === owner),
    );
    return by ? rs.filter((r) => (!project || r.project === project) && (!status || r.status === status)) : filterRuns(rs, { project, status, sort });
  }, [runs, project, status, sort, archived, tag, owner, by]);
  const filtering = Boolean(q || tag || owner || archived !== "false" || project || status || config.length || metricFilters.length);

  const toggleColumn = (c: ListColumn) =>
    changeColumns(columns.some((x) => columnId(x) === columnId(c)) ? columns.filter((x) => columnId(x) !== columnId(c)) : [...columns, c]);
  const sortBy = (c: ListColumn) =>
    setBy((b) => (b && columnId(b.column) === columnId(c) ? (b.desc ? null : { column: c, desc: true }) : { column: c, desc: false }));
  const removeColumn = (c: ListColumn) => changeColumns(columns.filter((x) => columnId(x) !== columnId(c)));
  // the sort menu: the list's own orders, or a column's (a key not shown yet becomes a column)
  const sortValue = by ? columnSortValue(by.column, by.desc) : sort;
  const chooseSort = (v: string) => {
    if (v === MORE_SORTS) return setPickerOpen(true);
    const col = parseColumnSortValue(v);
    if (!col) {
      setBy(null);
      setSort(v as SortOrder);
      return;
    }
    if (!columns.some((c) => columnId(c) === columnId(col.column))) changeColumns([...columns, col.column], col);
    else setBy(col);
  };

  const bulk = async (action: "delete" | "archive" | "unarchive" | "tag" | "untag") => {
    setBulkError("");
    const ids = pickedShown;
    const res = await fetch("/api/v1/runs/bulk", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify(action === "tag" || action === "untag" ? { ids, action, tag: bulkTag } : { ids, action }),
    }).catch(() => null);
    if (!res) return setBulkError(UNREACHABLE);
    // the server names refused runs by id; people know them by name (lib/ui/bulk-refusal.ts)
    const picks = runs.filter((r) => ids.includes(r.id));
    if (!res.ok) return setBulkError(res.status === 403 ? bulkRefusal(await errorText(res), picks) : await errorText(res));
    const answer = await tryJson<{ results: { id: string; ok: boolean; error?: { message: string } }[] }>(res);
    if (!answer) return setBulkError(UNREACHABLE);
    const { results } = answer;
    const failed = results.filter((r) => !r.ok);
    if (failed.length) setBulkError(bulkFailures(results, picks));
    if (action === "delete") setPicked((p) => p.filter((id) => !results.some((r) => r.ok && r.id === id)));
    if (action === "tag") setBulkTag("");
    setConfirmDelete(false);
    void refetch();
  };

  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const pickedShown = picked.filter((id) => runs.some((r) => r.id === id));
  const allPicked = shown.length > 0 && shown.every((r) => picked.includes(r.id));
  // owners exist on team servers only: a local list keeps its columns
  const showOwner = shown.some((r) => typeof r.owner === "string");
  const showSweep = group === "sweep" || shown.some((r) => r.sweep);
  const width = 8 + (showOwner ? 1 : 0) + (showSweep ? 1 : 0) + columns.length;
  const sections = group === "sweep" ? sweepSections(shown, sweeps, project) : [{ sweep: null, title: null, runs: shown }];
  const compareHref = `/compare?runs=${pickedShown.map(encodeURIComponent).join(",")}`;

  return (
    <div className="runs-page">
      <LiveNote state={link} />
      <div className="list-toolbar">
        <h1>Runs</h1>
        <label>
          <span>project</span>
          <select value={project} onChange={(e) => chooseProject(e.target.value)} aria-label="project">
            <option value="">all projects</option>
            {projects.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name} ({p.runs})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)} aria-label="status">
            <option value="">any status</option>
            {STATUS_FILTERS.map((st) => (
              <option key={st} value={st}>
                {st} ({runs.filter((r) => r.status === st && (!project || r.project === project)).length})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>tag</span>
          <select value={tag} onChange={(e) => setTag(e.target.value)} aria-label="tag">
            <option value="">any tag</option>
            {tag && !tags.some((t) => t.name === tag) && <option value={tag}>{tag}</option>}
            {tags.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name} ({t.runs})
              </option>
            ))}
          </select>
        </label>
        {owner && (
          <span className="badge" data-owner-filter={owner}>
            owner <bdi>{owner}</bdi>{" "}
            <button type="button" className="link-button" onClick={() => setOwner("")} aria-label="show every owner's runs">
              ×
            </button>
          </span>
        )}
        <label>
          <span>archived</span>
          <select value={archived} onChange={(e) => setArchived(e.target.value as ArchivedFilter)} aria-label="archived">
            <option value="false">not archived</option>
            <option value="true">archived only</option>
            <option value="all">all runs</option>
          </select>
        </label>
        <label>
          <span>sort</span>
          <select value={sortValue} onChange={(e) => chooseSort(e.target.value)} aria-label="sort">
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
            {columns.length > 0 && (
              <optgroup label="shown columns">
                {columns.flatMap((c) => [false, true].map((desc) => <SortOption key={columnSortValue(c, desc)} column={c} desc={desc} />))}
              </optgroup>
            )}
            {/* a sort by any other key: pick it as a column (then it is here, and its header sorts) */}
            <option value={MORE_SORTS}>more… (pick a column)</option>
          </select>
        </label>
        <label>
          <span>group</span>
          <select value={group} onChange={(e) => setGroup(e.target.value as GroupBy)} aria-label="group">
            <option value="">no grouping</option>
            <option value="sweep">by sweep</option>
          </select>
        </label>
        <span className="grow" />
        <ImportLogs defaultProject={project} />
        {pickedShown.length > 0 && (
          <button type="button" className="link-button" onClick={() => setPicked([])}>
            clear selection
          </button>
        )}
        {pickedShown.length >= 2 ? (
          <Link className="button primary" href={compareHref} data-testid="compare">
            Compare {plural(pickedShown.length, "run")}
          </Link>
        ) : (
          <span className="button primary disabled" aria-disabled="true" data-testid="compare" title="pick two or more runs">
            Compare
          </span>
        )}
      </div>

      <div className="list-toolbar">
        <input
          type="search"
          className="run-search"
          placeholder="search run names"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          aria-label="search runs"
        />
        <span className="muted" data-total>
          {total === shown.length ? plural(total, "run") : `${shown.length} of ${plural(total, "run")}`}
        </span>
        <span className="grow" />
        <ColumnPicker
          columns={columns}
          onToggle={toggleColumn}
          keys={listKeys.keys}
          onOpen={listKeys.want}
          open={pickerOpen}
          onOpenChange={setPickerOpen}
        />
      </div>

      <div className="filter-forms">
        <ConfigFilters filters={config} onChange={setConfig} keys={listKeys.keys?.config ?? null} onOpen={listKeys.want} />
        <ConfigFilters
          kind="metric"
          filters={metricFilters}
          onChange={setMetricFilters}
          keys={listKeys.keys?.metrics ?? null}
          onOpen={listKeys.want}
        />
      </div>
      {listError && (
        <p className="warn" role="alert" data-testid="list-error">
          {listError}
        </p>
      )}

      {pickedShown.length > 0 && (
        <div className="list-toolbar bulk" data-testid="bulk">
          <span>{pickedShown.length} picked:</span>
          <button type="button" className="button small" onClick={() => void bulk("archive")}>
            archive
          </button>
          <button type="button" className="button small" onClick={() => void bulk("unarchive")}>
            unarchive
          </button>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (bulkTag.trim()) void bulk("tag");
            }}
          >
            <input value={bulkTag} onChange={(e) => setBulkTag(e.target.value)} placeholder="tag" aria-label="bulk tag" />{" "}
            <button type="submit" className="button small">
              tag
            </button>{" "}
            <button type="button" className="button small" disabled={!bulkTag.trim()} onClick={() => void bulk("untag")}>
              untag
            </button>
          </form>
          {confirmDelete ? (
            <span className="confirm" role="alertdialog" aria-label="confirm delete">
              Delete {plural(pickedShown.length, "run")} and all {pickedShown.length === 1 ? "its" : "their"} data?{" "}
              <button type="button" className="button small danger" onClick={() => void bulk("delete")} data-testid="confirm-delete">
                delete
              </button>{" "}
              <button type="button" className="link-button small" onClick={() => setConfirmDelete(false)}>
                cancel
              </button>
            </span>
          ) : (
            <button type="button" className="button small danger" onClick={() => setConfirmDelete(true)} data-testid="bulk-delete">
              delete
            </button>
          )}
          {bulkError && (
            <span className="warn" role="alert">
              {bulkError}
            </span>
          )}
        </div>
      )}

      {shown.length === 0 ? (
        <div className="empty">
          {runs.length === 0 && !filtering ? (
            <EmptyRunsHint team={team} />
          ) : (
            <p>
              {q || tag || archived !== "false" || config.length
                ? "No runs match these filters."
                : status
                  ? `No ${status} runs${project ? " in this project" : ""}.`
                  : "No runs in this project."}
            </p>
          )}
        </div>
      ) : (
        <div className="table-wrap">
          <table className="runs">
            <thead>
              <tr>
                <th className="pick">
                  <input
                    type="checkbox"
                    checked={allPicked}
                    onChange={() => setPicked(allPicked ? [] : shown.map((r) => r.id))}
                    aria-label="pick all shown runs"
                  />
                </th>
                <th>status</th>
                <th>run</th>
                <th>project</th>
                {showOwner && <th>owner</th>}
                <th>started</th>
                <th>duration</th>
                <th>last values</th>
                <th>alerts</th>
                {showSweep && <th>sweep</th>}
                {columns.map((c) => {
                  const sorted = by && columnId(by.column) === columnId(c) ? (by.desc ? "descending" : "ascending") : undefined;
                  return (
                    <th key={columnId(c)} className="col" aria-sort={sorted ?? "none"} data-column={c.key}>
                      <button
                        type="button"
                        className="link-button"
                        onClick={() => sortBy(c)}
                        title="sort by this column (again: reverse, then unsort)"
                      >
                        <bdi>{c.key}</bdi>
                        {c.kind === "metric" ? ` (${AGG_LABEL[c.agg]})` : ""}
                        {sorted === "ascending" ? " ▲" : sorted === "descending" ? " ▼" : ""}
                      </button>
                      <button type="button" className="link-button" onClick={() => removeColumn(c)} aria-label={`remove column ${c.key}`}>
                        ×
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            {sections.map((sec) => (
              <tbody key={sec.sweep?.id ?? "\u0000none"} data-sweep-group={sec.title === null ? undefined : (sec.sweep?.id ?? "")}>
                {sec.title !== null && (
                  <tr className="sweep-group">
                    <td colSpan={width}>
                      {sec.sweep ? (
                        <>
                          <Link href={`/sweeps/${encodeURIComponent(sec.sweep.id)}`} data-sweep-link={sec.sweep.id}>
                            <bdi>{sec.sweep.name}</bdi>
                          </Link>{" "}
                          <span className="muted small">
                            sweep · stage {sec.sweep.stage} · {plural(sec.sweep.trials, "trial")}
                            {sec.sweep.best
                              ? ` · best ${sec.sweep.objective ? `${sec.sweep.objective.metric} ` : ""}${formatValue(sec.sweep.best.value)}`
                              : ""}
                            {sec.sweep.trials !== sec.runs.length ? ` · ${sec.runs.length} shown` : ""}
                          </span>
                        </>
                      ) : (
                        <span className="muted">
                          {sec.title} · {plural(sec.runs.length, "run")}
                        </span>
                      )}
                    </td>
                  </tr>
                )}
                {sec.runs.map((r) => (
                  <tr key={r.id} data-run={r.id} className={picked.includes(r.id) ? "picked" : ""}>
                    <td className="pick">
                      <input type="checkbox" checked={picked.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`pick ${r.name}`} />
                    </td>
                    <td>
                      <StatusBadge status={r.status} link={link} />
                    </td>
                    <td className="name">
                      <Link href={`/runs/${encodeURIComponent(r.id)}`}>
                        <bdi>{r.name}</bdi>
                      </Link>
                      {(r.tags ?? []).map((t) => (
                        <button
                          key={t}
                          type="button"
                          className="badge tag"
                          data-tag={t}
                          onClick={() => setTag(t)}
                          title={`show only runs tagged ${t}`}
                        >
                          <bdi>{t}</bdi>
                        </button>
                      ))}
                      {r.archived && <span className="badge muted">archived</span>}
                    </td>
                    <td>
                      <button type="button" className="link-button project" onClick={() => chooseProject(r.project)} title={`show only ${r.project}`}>
                        {r.project}
                      </button>
                    </td>
                    {showOwner && (
                      <td className="owner" data-owner={r.owner ?? ""}>
                        {r.owner ? (
                          <button type="button" className="link-button" onClick={() => setOwner(r.owner ?? "")} title={`show only ${r.owner}'s runs`}>
                            <bdi>{r.owner}</bdi>
                          </button>
                        ) : (
                          <span className="muted" title={NO_OWNER_TIP}>
                            {NO_OWNER}
                          </span>
                        )}
                      </td>
                    )}
                    <td className="nowrap">
                      <LocalTime t={r.createdAt} />
                    </td>
                    <td className="nowrap num">{runDuration(r, now)}</td>
                    <td>
                      <div className="summary">
                        {Object.entries(r.summary).map(([k, v]) => (
                          <span key={k} className={`kv ${isNonFinite(v) ? "bad" : ""}`} data-key={k}>
                            <span className="k">{k}</span> <span className="v">{formatValue(v)}</span>
                          </span>
                        ))}
                      </div>
                    </td>
                    <td>
                      {r.rootCause && (
                        <span
                          className={`root-cause sev-${r.rootCause.severity}`}
                          data-root-cause={r.rootCause.code}
                          title={`root cause: ${r.rootCause.title}${r.rootCause.symptoms ? ` (${r.rootCause.symptoms} more alert${r.rootCause.symptoms === 1 ? "" : "s"} follow from it)` : ""}`}
                        >
                          {r.rootCause.code}
                          {r.rootCause.symptoms ? ` +${r.rootCause.symptoms}` : ""}
                        </span>
                      )}
                      <AlertBadges counts={r.alerts} />
                    </td>
                    {showSweep && (
                      <td className="sweep" data-sweep={r.sweep?.id ?? ""}>
                        {r.sweep && (
                          <Link href={`/sweeps/${encodeURIComponent(r.sweep.id)}`}>
                            <bdi>{r.sweep.name}</bdi>
                          </Link>
                        )}
                      </td>
                    )}
                    {columns.map((c) => (
                      <td key={columnId(c)} className="num col" data-column={c.key}>
                        {cellText(r, c)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            ))}
          </table>
        </div>
      )}
    </div>
  );
}

export type GroupBy = "" | "sweep";

interface Section {
  sweep: SweepListItem | null;
  /** null: no grouping (no header row) */
  title: string | null;
  runs: RunListItem[];
}

/** The shown runs under their sweeps (newest sweep first), then the runs in no sweep. */
function sweepSections(shown: RunListItem[], sweeps: SweepListItem[], project: string): Section[] {
  const bySweep = new Map<string, RunListItem[]>();
  const loose: RunListItem[] = [];
  for (const r of shown) {
    if (!r.sweep) loose.push(r);
    else bySweep.set(r.sweep.id, [...(bySweep.get(r.sweep.id) ?? []), r]);
  }
  const known = sweeps.filter((s) => !project || s.project === project).sort((a, b) => b.createdAt - a.createdAt);
  const out: Section[] = known.map((s) => ({ sweep: s, title: s.name, runs: bySweep.get(s.id) ?? [] }));
  // a trial whose sweep the list does not know yet (just made): its own group, named from the run
  const ids = new Set(known.map((s) => s.id));
  for (const [id, rs] of bySweep) {
    if (ids.has(id)) continue;
    const name = rs[0].sweep?.name ?? id;
    out.push({
      sweep: { id, name, project: rs[0].project, stage: 1, parentId: null, trials: rs.length, best: null, createdAt: 0 },
      title: name,
      runs: rs,
    });
  }
  if (loose.length) out.push({ sweep: null, title: "not in a sweep", runs: loose });
  return out;
}

/** A chosen column's value in a row ("" when the run has none); keys are data (Object.hasOwn). */
function cellText(r: RunListItem, c: ListColumn): string {
  if (c.kind === "config") {
    const cfg = r.columns?.config;
    if (!cfg || !Object.hasOwn(cfg, c.key)) return "";
    const v = cfg[c.key];
    return v === null ? "–" : typeof v === "number" ? formatValue(v) : String(v);
  }
  const m = r.columns?.metrics;
  if (!m || !Object.hasOwn(m, c.key)) return "";
  const v = m[c.key][c.agg];
  return v === null ? "" : formatValue(v);
}

/** A column's entry in the sort menu: "lr: low to high", "val/acc (max): high to low". */
function SortOption({ column: c, desc }: { column: ListColumn; desc: boolean }) {
  return (
    <option value={columnSortValue(c, desc)}>
      {c.key}
      {c.kind === "metric" ? ` (${AGG_LABEL[c.agg]})` : ""}: {desc ? "high to low" : "low to high"}
    </option>
  );
}
