"use client";

import Link from "next/link";
import { Fragment, type ReactNode, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { alertChartIndex, alertCharts } from "@/lib/ui/alert-charts";
import type { Alert, PageRunDetail, RunDetail, RunEvent, RunView as Run } from "@/lib/ui/api-types";
import type { RunPageAccess } from "@/lib/auth/page-access";
import { tryJson } from "@/lib/ui/api-error";
import { SECTIONS, groupMetrics } from "@/lib/ui/group-metrics";
import { plural } from "@/lib/ui/format";
import { filterPanels, shownSummary } from "@/lib/ui/panel-filter";
import { runStepUnit } from "@/lib/ui/ema";
import { firstPointKeys } from "@/lib/ui/x-axis";
import AlertsPanel, { type ChartLink } from "./AlertsPanel";
import ChecklistPanel from "./ChecklistPanel";
import DataPanel from "./DataPanel";
import { LocalTime, StatusBadge, runDuration, useNow } from "./bits";
import ChartControls from "./ChartControls";
import { PALETTE } from "./chart-setup";
import HistogramPanel from "./HistogramPanel";
import ImagePanel from "./ImagePanel";
import LazyGrid, { CHART_GRID, FamilyGrids, type GridLayout, IMAGE_GRID } from "./LazyGrid";
import { LiveBus, useLinkState, useLive } from "./live";
import LiveNote from "./LiveNote";
import LogsPanel from "./LogsPanel";
import MetricChart, { type ChartAlert, type ChartSettings, type LineSpec } from "./MetricChart";
import RunAdmin, { RunName } from "./RunAdmin";
import { NO_OWNER, NO_OWNER_TIP, ownerOnlyHint } from "@/lib/ui/owner-text";
import { RunAccessContext, directAccess, shareAccess } from "./run-access";
import SharePanel from "./SharePanel";
import { useRunAlerts } from "./use-run-alerts";
import { useXContexts } from "./use-x-contexts";

// The run page: header, alerts, then one chart per metric group by section, data statistics,
// histograms, images, events. Live: points go to the charts through a bus; an unknown key refetches
// the run (new charts appear), histogram/image events refresh their panels, other events (the data
// statistics among them) join the list, run events update the status, alert events update the
// panel and the alert markers on the charts their evidence concerns.

const REFRESH_DEBOUNCE_MS = 400;
const STATUS_CHECK_MS = 60_000;
const NO_LINES: LineSpec[] = [];
// Up to this many histogram or image panels all render at once; more (a run may hold thousands,
// each panel a request) mount through a lazy grid, like the charts, near the viewport only.
const PLAIN_PANELS = 24;

// With `share` (a shared link's token) the page is the read-only view of that link: it reads the
// run through /api/v1/shares/<token> and its socket room only, and links nowhere else.
// `can` (the dashboard's): what the viewer may do to the run, to hide the controls they may not use
// (the server decides anyway); absent: everything, as for the local user.
export default function RunView({
  initial,
  serverNow,
  share,
  shareExpiresAt = null,
  can = { team: false, share: true, administer: true, admin: false },
}: {
  initial: PageRunDetail;
  serverNow: number;
  share?: string;
  /** A shared page's link: when it stops opening (seconds since the epoch), null for never. */
  shareExpiresAt?: number | null;
  can?: RunPageAccess;
}) {
  const id = initial.run.id;
  const access = useMemo(() => (share ? shareAccess(share) : directAccess), [share]);
  const [detail, setDetail] = useState<PageRunDetail>(initial);
  const [run, setRun] = useState<Run>(initial.run);
  const [events, setEvents] = useState<RunEvent[]>(initial.events);
  const [settings, setSettings] = useState<ChartSettings>({ ema: 0.6, log: false, xMode: "step" });
  const [reloadToken, setReloadToken] = useState(0);
  // by histogram / image key: keys are data, never object members
  const [histVersions, setHistVersions] = useState<ReadonlyMap<string, number>>(new Map());
  const [imageVersions, setImageVersions] = useState<ReadonlyMap<string, number>>(new Map());
  // a shared page whose link was revoked or expired: it says so and stops following the run
  const [closed, setClosed] = useState<"revoked" | "expired" | null>(null);
  // the run was deleted (here or elsewhere): the page says so and stops following it
  const [deleted, setDeleted] = useState(false);
  const revoked = closed !== null || deleted;
  const link = useLinkState();
  const [filter, setFilter] = useState("");
  // the Logs tab (a run's console output): shared pages have none; #logs opens it
  const [tab, setTab] = useState<"charts" | "logs">("charts");
  useEffect(() => {
    if (!share && window.location.hash === "#logs") setTab("logs");
  }, [share]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const deferredFilter = useDeferredValue(filter);
  const bus = useMemo(() => new LiveBus(), []);
  const deferred = useDeferredValue(settings);
  const now = useNow(serverNow);

  const known = useRef(new Set<string>());
  known.current = new Set([
    ...detail.keys.map((k) => k.key),
    ...detail.histogramKeys.map((h) => `hist:${h.key}`),
    ...detail.images.map((i) => `img:${i.key}`),
  ]);

  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const gone = useRef(false);
  gone.current = deleted;
  const refresh = useCallback(async () => {
    if (gone.current) return; // nothing left to read
    const res = await fetch(access.api(id)).catch(() => null);
    if (share && res?.status === 404) setClosed("revoked");
    if (share && res?.status === 410) setClosed("expired");
    if (!share && res?.status === 404) setDeleted(true);
    if (!res?.ok) return;
    // (the connection can drop while the body comes: the page keeps what it shows)
    const d = await tryJson<RunDetail>(res);
    if (!d) return;
    setDetail(d);
    setRun(d.run);
    setEvents(d.events);
  }, [id, access, share]);
  const refreshSoon = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void refresh();
    }, REFRESH_DEBOUNCE_MS);
  }, [refresh]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  // a running run that goes quiet turns "stale" on the server's clock: look again now and then
  const running = run.status === "running" && !revoked;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => void refresh(), STATUS_CHECK_MS);
    return () => clearInterval(t);
  }, [running, refresh]);

  const bump = (set: typeof setHistVersions, key: string) => set((v) => new Map(v).set(key, (v.get(key) ?? 0) + 1));

  // (the runs room tells every run's news: a shared page has no business there)
  useLive(revoked ? [] : share ? [access.room(id)] : [access.room(id), { runs: true }], {
    points: (msg) => {
      if (msg.runId !== id) return;
      bus.publish(id, msg.series);
      if (Object.keys(msg.series).some((k) => !known.current.has(k))) refreshSoon();
      setRun((r) => (r.status === "stale" ? { ...r, status: "running" } : r));
    },
    run: (msg) => {
      if (msg.id === id) setRun((r) => ({ ...r, ...(msg as unknown as Run) }));
    },
    histogram: (msg) => {
      if (msg.runId !== id) return;
      if (!known.current.has(`hist:${msg.key}`)) refreshSoon();
      else bump(setHistVersions, msg.key);
    },
    event: (msg) => {
      if (msg.runId !== id) return;
      if (msg.type === "image") {
        const key = String(msg.data?.key ?? "");
        if (!known.current.has(`img:${key}`)) refreshSoon();
        else bump(setImageVersions, key);
      } else {
        setEvents((ev) => [...ev, { type: msg.type, step: msg.step, time: Date.now() / 1000, data: msg.data }]);
      }
    },
    runDeleted: (msg) => {
      if (msg.runId === id) setDeleted(true);
    },
    shareRevoked: (msg) => {
      if (share && msg.token === share) setClosed(msg.reason === "expired" ? "expired" : "revoked");
    },
    connected: (first) => {
      if (!first) setReloadToken((t) => t + 1);
      return refresh();
    },
  });

  const keyList = detail.keys.map((k) => k.key);
  const keysId = keyList.join("\u0000");
  // biome-ignore lint/correctness/useExhaustiveDependencies: keysId is the identity of keyList (a new array each render)
  const groups = useMemo(() => groupMetrics(keyList), [keysId]);
  const lines = useMemo(() => {
    const out = new Map<string, LineSpec[]>();
    for (const g of groups)
      out.set(
        g.id,
        g.lines.map((l, i) => ({ id: l.key, runId: id, key: l.key, label: l.label, color: PALETTE[i % PALETTE.length] })),
      );
    return out;
  }, [groups, id]);
  const hasEpoch = keyList.includes("epoch");
  // search: charts whose title or one of whose keys contains the text, histograms and images by key
  const histKeys = detail.histogramKeys.map((h) => h.key);
  const imageKeys = detail.images.map((i) => i.key);
  const panelsId = `${histKeys.join("\u0000")}\u0001${imageKeys.join("\u0000")}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: panelsId is the identity of histKeys and imageKeys (new arrays each render)
  const panels = useMemo(() => filterPanels(deferredFilter, groups, histKeys, imageKeys), [groups, deferredFilter, panelsId]);
  const shown = panels.charts;
  const totalPanels = groups.length + histKeys.length + imageKeys.length;
  const first = useMemo(() => firstPointKeys(detail.keys), [detail.keys]);
  const stepUnit = useMemo(() => runStepUnit(detail.keys), [detail.keys]);
  const xContexts = useXContexts([{ id, hasEpoch, first, stepUnit }], deferred.xMode, bus, reloadToken, access);

  const config = run.config ?? {};
  const hasConfig = Object.keys(config).length > 0;

  const alerts = useRunAlerts(id, access);
  const configId = JSON.stringify(config.babysit ?? null); // only config.babysit.keys renames keys
  // biome-ignore lint/correctness/useExhaustiveDependencies: configId is the identity of the part of config read here (config.babysit)
  const chartIndex = useMemo(() => alertChartIndex(groups, config), [groups, configId]);
  const { chartsOf, alertsByChart } = useMemo(() => {
    const titles = new Map(groups.map((g) => [g.id, g.title]));
    const ids = new Map<string, string[]>();
    const byChart = new Map<string, ChartAlert[]>();
    for (const a of alerts ?? []) {
      const charts = alertCharts(a, chartIndex);
      ids.set(a.code, charts);
      for (const c of charts) byChart.set(c, [...(byChart.get(c) ?? []), a]);
    }
    const chartsOf = (a: Alert): ChartLink[] => (ids.get(a.code) ?? []).map((c) => ({ id: c, title: titles.get(c) ?? c }));
    return { chartsOf, alertsByChart: byChart };
  }, [alerts, chartIndex, groups]);

  return (
    <RunAccessContext.Provider value={access}>
      <div className="run-page" data-run={id} data-shared={share ? "" : undefined} data-tab={tab}>
        {share && !revoked && (
          <p className="shared-note" role="note">
            A read-only view of one run, shared with a link. It follows the run live.{" "}
            <span data-share-expires={shareExpiresAt ?? "never"}>
              {shareExpiresAt === null ? (
                "This link does not expire."
              ) : (
                <>
                  This link expires on <LocalTime t={shareExpiresAt} />.
                </>
              )}
            </span>
          </p>
        )}
        <LiveNote state={closed ?? link} />
        {deleted && (
          <p className="deleted-note warn" role="alert" data-deleted>
            This run was deleted: its data is gone. <Link href="/">Back to the runs</Link>
          </p>
        )}
        <header className="run-head">
          <div className="run-title">
            {share || deleted ? (
              <h1>
                <bdi>{run.name}</bdi>
              </h1>
            ) : (
              <RunName run={run} onChange={(r) => setRun((old) => ({ ...old, ...r }))} />
            )}
            <StatusBadge status={run.status} link={closed ?? link} />
            {!share && !deleted && can.share && <SharePanel runId={id} />}
            {/* shown, not hidden: a control that vanishes on a colleague's run reads as a missing feature */}
            {!share && !deleted && !can.share && can.team && (
              <button type="button" className="button small" disabled title={ownerOnlyHint(run.owner, "share")} data-testid="share-disabled">
                Share
              </button>
            )}
          </div>
          <p className="run-meta">
            {share ? (
              <bdi>{run.project}</bdi>
            ) : (
              <Link href={`/?project=${encodeURIComponent(run.project)}`}>
                <bdi>{run.project}</bdi>
              </Link>
            )}
            {/* a shared page links nowhere else (the sweep is not part of the link) */}
            {!share && run.sweep && (
              <span data-sweep={run.sweep.id}>
                trial of sweep{" "}
                <Link className="sweep-link" href={`/sweeps/${encodeURIComponent(run.sweep.id)}`}>
                  <bdi>{run.sweep.name}</bdi>
                </Link>
              </span>
            )}
            <span>
              started <LocalTime t={run.createdAt} />
            </span>
            <span>ran {runDuration(run, now)}</span>
            <span className="mono muted" title="run id">
              {id}
            </span>
            {/* a shared page never has the owner (docs/security.md); local runs have none */}
            {!share && (run.owner || can.team) && (
              <span data-owner={run.owner ?? ""} title={run.owner ? "who shares and administers this run (and admins)" : NO_OWNER_TIP}>
                {run.owner ? (
                  <>
                    owner <bdi>{run.owner}</bdi>
                  </>
                ) : (
                  NO_OWNER
                )}
              </span>
            )}
          </p>
          {!share && !deleted && (
            <RunAdmin
              run={run}
              canAdminister={can.administer}
              team={can.team}
              viewerIsAdmin={can.admin}
              onChange={(r) => setRun((old) => ({ ...old, ...r }))}
              onDeleted={() => setDeleted(true)}
            />
          )}
          {hasConfig && (
            <details className="config">
              <summary>config ({plural(Object.keys(config).length, "key")})</summary>
              <pre>{JSON.stringify(config, null, 2)}</pre>
            </details>
          )}
        </header>

        {/* the Logs tab hides the charts' parts (globals.css) rather than unmounting them: they stay live */}
        {!share && !deleted && (
          <div className="run-tabs" role="tablist" aria-label="run views">
            {(["charts", "logs"] as const).map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                aria-selected={tab === t}
                className={tab === t ? "run-tab active" : "run-tab"}
                onClick={() => {
                  setTab(t);
                  window.history.replaceState(window.history.state, "", t === "logs" ? "#logs" : window.location.pathname + window.location.search);
                }}
              >
                {t === "charts" ? "Charts" : "Logs"}
              </button>
            ))}
          </div>
        )}
        {tab === "logs" && <LogsPanel runId={id} />}

        <AlertsPanel alerts={alerts} chartsOf={chartsOf} />
        {!deleted && <ChecklistPanel runId={id} alerts={alerts} status={run.status} />}

        <div className="sticky-controls">
          <ChartControls settings={settings} onChange={setSettings} hasEpoch={hasEpoch} />
          {totalPanels > 1 && (
            <label className="chart-filter">
              <input
                type="search"
                placeholder="filter charts by key"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
                aria-label="filter charts by key"
              />
              {deferredFilter.trim() && (
                <span className="muted" data-filter-summary>
                  {shownSummary(panels, { charts: groups.length, histograms: histKeys.length, images: imageKeys.length })}
                </span>
              )}
            </label>
          )}
        </div>

        {groups.length === 0 && <p className="empty">No metrics logged yet. Charts appear here as soon as the run logs its first values.</p>}
        {deferredFilter.trim() && totalPanels > 0 && !shown.length && !panels.histograms.length && !panels.images.length && (
          <p className="empty" data-filter-empty>
            No chart, histogram or image key contains &ldquo;{deferredFilter.trim()}&rdquo;.
          </p>
        )}

        {SECTIONS.map((section) => {
          const gs = shown.filter((g) => g.section === section);
          if (!gs.length) return null;
          const open = !collapsed.has(section);
          return (
            <section key={section} className="chart-section" aria-label={section} data-collapsed={open ? undefined : ""}>
              <h2>
                <button
                  type="button"
                  className="section-toggle"
                  aria-expanded={open}
                  onClick={() =>
                    setCollapsed((c) => {
                      const n = new Set(c);
                      if (open) n.add(section);
                      else n.delete(section);
                      return n;
                    })
                  }
                >
                  {section}
                  <span className="muted"> · {plural(gs.length, "chart")}</span>
                </button>
              </h2>
              {open && (
                <FamilyGrids
                  items={gs}
                  itemKey={(g) => g.id}
                  render={(g) => (
                    <MetricChart
                      key={g.id}
                      chartId={g.id}
                      title={g.title}
                      lines={lines.get(g.id) ?? NO_LINES}
                      settings={deferred}
                      xContexts={xContexts}
                      bus={bus}
                      reloadToken={reloadToken}
                      logDefault={g.logDefault}
                      refLine={g.refLine}
                      alerts={alertsByChart.get(g.id)}
                    />
                  )}
                />
              )}
            </section>
          );
        })}

        {/* input, label and output statistics: read from the same events, so live and on shared links alike;
            before the histograms, which a watched model has dozens of */}
        <DataPanel events={events} />

        {panels.histograms.length > 0 && (
          <section className="chart-section" aria-label="Histograms">
            <h2>Histograms</h2>
            <PanelGrid
              items={panels.histograms}
              itemKey={(k) => `h:${k}`}
              render={(k) => <HistogramPanel key={k} runId={id} hkey={k} version={(histVersions.get(k) ?? 0) + reloadToken} />}
            />
          </section>
        )}

        {panels.images.length > 0 && (
          <section className="chart-section" aria-label="Images">
            <h2>Images</h2>
            <PanelGrid
              items={panels.images}
              itemKey={(k) => `i:${k}`}
              layout={IMAGE_GRID}
              render={(k) => <ImagePanel key={k} runId={id} ikey={k} version={(imageVersions.get(k) ?? 0) + reloadToken} />}
            />
          </section>
        )}

        {events.length > 0 && (
          <section className="chart-section" aria-label="Events">
            <h2>Events</h2>
            <details className="events">
              <summary>{plural(events.length, "logged event")}</summary>
              <ul>
                {events.map((e, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: the list only grows at its end, so an index names the same event
                  <li key={i}>
                    <span className="badge">{e.type}</span>
                    {e.step !== null && <span className="muted"> step {e.step}</span>}
                    <code>{JSON.stringify(e.data)}</code>
                    {e.omitted && (
                      <span className="muted">
                        {" "}
                        ({e.omitted.fields.join(", ")} of {e.omitted.length} left out: not the latest of its split; the run&apos;s API with
                        ?events=full lists them)
                      </span>
                    )}
                  </li>
                ))}
              </ul>
            </details>
          </section>
        )}
      </div>
    </RunAccessContext.Provider>
  );
}

function PanelGrid(props: { items: string[]; itemKey: (k: string) => string; render: (k: string) => ReactNode; layout?: GridLayout }) {
  if (props.items.length > PLAIN_PANELS) return <LazyGrid {...props} />;
  return (
    <div className={(props.layout ?? CHART_GRID).gridClass}>
      {props.items.map((k) => (
        <Fragment key={props.itemKey(k)}>{props.render(k)}</Fragment>
      ))}
    </div>
  );
}
