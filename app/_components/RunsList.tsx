"use client";

import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import type { RunList, RunListItem } from "@/lib/ui/api-types";
import { formatValue, isNonFinite } from "@/lib/ui/format";
import { type SortOrder, STATUS_FILTERS, type StatusFilter, filterRuns, withRunsQuery } from "@/lib/ui/runs-query";
import { AlertBadges, LocalTime, StatusBadge, runDuration, useNow } from "./bits";
import { type Room, useLinkState, useLive } from "./live";
import LiveNote from "./LiveNote";

// The runs list: filter by project and status, sort, pick runs to compare. Live: `run` events add or update
// rows at once; points and alerts of live runs trigger a light refetch of the list (at most one
// every 2 s) so last values and alert counts follow.

// The address this page was loaded from, for the empty list's curl hint (the server renders a
// placeholder; the browser fills in its own address).
const noSubscription = () => () => {};
const useOrigin = () =>
  useSyncExternalStore(
    noSubscription,
    () => window.location.origin,
    () => "http://<this server>",
  );

export type { SortOrder } from "@/lib/ui/runs-query";
const SORTS: { value: SortOrder; label: string }[] = [
  { value: "newest", label: "newest first" },
  { value: "oldest", label: "oldest first" },
  { value: "name", label: "name" },
];
const REFETCH_EVERY_MS = 2000;
const MAX_WATCHED = 50;
const STATUS_CHECK_MS = 60_000;

export default function RunsList({
  initial,
  serverNow,
  initialProject,
  initialSort,
  initialStatus = "",
}: {
  initial: RunList;
  serverNow: number;
  initialProject: string;
  initialSort: SortOrder;
  initialStatus?: StatusFilter;
}) {
  const [runs, setRuns] = useState<RunListItem[]>(initial.runs);
  const [projects, setProjects] = useState(initial.projects);
  const [project, setProject] = useState(initialProject);
  const [sort, setSort] = useState<SortOrder>(initialSort);
  const [status, setStatus] = useState<StatusFilter>(initialStatus);
  const [picked, setPicked] = useState<string[]>([]);
  const now = useNow(serverNow);
  const link = useLinkState();
  const origin = useOrigin();

  const refetch = useCallback(async () => {
    const res = await fetch("/api/v1/runs?limit=1000");
    if (!res.ok) return;
    const body = (await res.json()) as RunList;
    setRuns(body.runs);
    setProjects(body.projects);
  }, []);

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
    const u = withRunsQuery(new URL(window.location.href), { project, status, sort });
    if (u.href !== window.location.href) window.history.replaceState(null, "", u);
  }, [project, status, sort]);

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
    connected: () => refetch(),
  });

  const shown = useMemo(() => filterRuns(runs, { project, status, sort }), [runs, project, status, sort]);

  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const pickedShown = picked.filter((id) => runs.some((r) => r.id === id));
  const compareHref = `/compare?runs=${pickedShown.map(encodeURIComponent).join(",")}`;

  return (
    <div className="runs-page">
      <LiveNote state={link} />
      <div className="list-toolbar">
        <h1>Runs</h1>
        <label>
          <span>project</span>
          <select value={project} onChange={(e) => setProject(e.target.value)} aria-label="project">
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
          <span>sort</span>
          <select value={sort} onChange={(e) => setSort(e.target.value as SortOrder)} aria-label="sort">
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <span className="grow" />
        {pickedShown.length > 0 && (
          <button type="button" className="link-button" onClick={() => setPicked([])}>
            clear selection
          </button>
        )}
        {pickedShown.length >= 2 ? (
          <Link className="button primary" href={compareHref} data-testid="compare">
            Compare {pickedShown.length} runs
          </Link>
        ) : (
          <span className="button primary disabled" aria-disabled="true" data-testid="compare" title="pick two or more runs">
            Compare
          </span>
        )}
      </div>

      {shown.length === 0 ? (
        <div className="empty">
          {runs.length === 0 ? (
            <>
              <p>No runs yet. Log one from a training script with the Python or TypeScript SDK, or straight over HTTP:</p>
              <pre>{`curl -X POST ${origin}/api/v1/runs -H 'content-type: application/json' -d '{"project":"demo"}'`}</pre>
            </>
          ) : (
            <p>{status ? `No ${status} runs${project ? " in this project" : ""}.` : "No runs in this project."}</p>
          )}
        </div>
      ) : (
        <div className="table-wrap">
          <table className="runs">
            <thead>
              <tr>
                <th className="pick" aria-label="pick" />
                <th>status</th>
                <th>run</th>
                <th>project</th>
                <th>started</th>
                <th>duration</th>
                <th>last values</th>
                <th>alerts</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
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
                  </td>
                  <td>
                    <button type="button" className="link-button project" onClick={() => setProject(r.project)} title={`show only ${r.project}`}>
                      {r.project}
                    </button>
                  </td>
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
                    <AlertBadges counts={r.alerts} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
