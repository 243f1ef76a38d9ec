"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { LIMITS } from "@/lib/contract/limits";
import type { Alert } from "@/lib/ui/api-types";
import { UNREACHABLE, errorText, tryFetch, tryJson } from "@/lib/ui/api-error";
import { formatValue, isNonFinite, plural } from "@/lib/ui/format";
import {
  type SweepDetailView,
  type SweepListItem,
  type SweepTrialView,
  type TrialSortKey,
  objectiveText,
  paramNames,
  searchedNames,
  paramOf,
  scalarText,
  sortTrials,
  specOf,
  specText,
  stageChain,
  suggestionSnippet,
} from "@/lib/ui/sweep-view";
import { formatDuration } from "@/lib/ui/x-axis";
import AlertsPanel, { type ChartLink } from "../AlertsPanel";
import { LocalTime, StatusBadge } from "../bits";
import CopyButton from "../CopyButton";
import { useLinkState, useLive } from "../live";
import LiveNote from "../LiveNote";
import ParallelCoords from "./ParallelCoords";
import { ObjectiveCurves, ParamScatter, nextSpec } from "./SweepCharts";

// The sweep page: its alerts, the suggested next range (a snippet to copy, or Refine here), the
// coarse-to-fine chain of stages, the trials table, a scatter per hyperparameter, parallel
// coordinates, the objective curves and the parameters' importance. Live: the sweep's room says
// "sweep" whenever a trial starts, reports its objective, raises an alert or finishes; the page
// reads the sweep again, at most once a second.

const REFETCH_EVERY_MS = 1000;

export default function SweepView({ id, initial }: { id: string; initial: SweepDetailView | null }) {
  const router = useRouter();
  const link = useLinkState();
  const [sweep, setSweep] = useState<SweepDetailView | null>(initial);
  const [missing, setMissing] = useState<string | null>(null);
  const [family, setFamily] = useState<SweepListItem[]>([]);

  const load = useCallback(async () => {
    const res = await tryFetch(`/api/v1/sweeps/${encodeURIComponent(id)}`);
    if (res?.status === 404) setMissing("This sweep does not exist (or was deleted).");
    if (!res?.ok) return;
    const body = await tryJson<{ sweep: SweepDetailView }>(res);
    if (body?.sweep) setSweep(body.sweep);
  }, [id]);

  // the project's sweeps name the stages of the chain (its parent's parent, its children's children)
  const project = sweep?.project;
  const childIds = sweep?.children.map((c) => c.id).join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: childIds: a new child (refined elsewhere) lists the family again
  useEffect(() => {
    if (!project) return;
    void tryFetch(`/api/v1/sweeps?limit=${LIMITS.sweepListMax.value}&project=${encodeURIComponent(project)}`).then(async (res) => {
      if (!res?.ok) return;
      const body = await tryJson<{ sweeps: SweepListItem[] }>(res);
      if (Array.isArray(body?.sweeps)) setFamily(body.sweeps);
    });
  }, [project, childIds]);

  useEffect(() => {
    if (!initial) void load();
  }, [initial, load]);

  // at most one refetch per REFETCH_EVERY_MS, trailing: a burst of trial news is one read
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const loadSoon = useCallback(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + REFETCH_EVERY_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      void load();
    }, wait);
  }, [load]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  useLive([{ sweep: id }], {
    sweep: (msg) => {
      if (msg.sweepId === id) loadSoon();
    },
    // (re)joined: whatever happened before is read now
    connected: () => load(),
  });

  if (!sweep) {
    return (
      <div className="sweep-page" data-sweep={id}>
        <LiveNote state={link} />
        <p className={missing ? "empty warn" : "empty"} data-missing={missing ? "" : undefined}>
          {missing ?? "Loading the sweep…"}
        </p>
      </div>
    );
  }
  return (
    <SweepBody
      sweep={sweep}
      alerts={sweep.alerts ?? null}
      family={family}
      link={link}
      onRefined={(child) => router.push(`/sweeps/${encodeURIComponent(child)}`)}
    />
  );
}

function SweepBody({
  sweep,
  alerts,
  family,
  link,
  onRefined,
}: {
  sweep: SweepDetailView;
  alerts: Alert[] | null;
  family: SweepListItem[];
  link: ReturnType<typeof useLinkState>;
  onRefined: (childId: string) => void;
}) {
  const names = useMemo(() => paramNames(sweep), [sweep]);
  const searched = useMemo(() => searchedNames(sweep), [sweep]);
  const best = useMemo(() => new Set(sweep.best), [sweep.best]);
  const { metric, goal } = sweep.objective;
  const chain = useMemo(() => stageChain(sweep, family), [sweep, family]);
  const running = sweep.trials.filter((t) => t.status === "running").length;
  const failed = sweep.trials.filter((t) => t.failed).length;

  // an alert about a parameter leads to that parameter's scatter
  const chartsOf = useCallback(
    (a: Alert): ChartLink[] => {
      const p = a.evidence && typeof a.evidence === "object" ? (a.evidence as Record<string, unknown>).param : undefined;
      return typeof p === "string" && searched.includes(p) ? [{ id: `param:${p}`, title: p }] : [];
    },
    [searched],
  );

  return (
    <div className="sweep-page" data-sweep={sweep.id}>
      <LiveNote state={link} />
      <header className="run-head">
        <div className="run-title">
          <h1>
            <bdi>{sweep.name}</bdi>
          </h1>
          <span className="badge" data-stage={sweep.stage}>
            stage {sweep.stage}
          </span>
          {running > 0 && <StatusBadge status="running" link={link} />}
        </div>
        <p className="run-meta">
          <Link href={`/?project=${encodeURIComponent(sweep.project)}&group=sweep`}>
            <bdi>{sweep.project}</bdi>
          </Link>
          <span data-objective={metric}>
            objective <bdi>{metric}</bdi> ({goal === "max" ? "higher is better" : "lower is better"})
            {!sweep.objective.declared && <span title="not declared: chosen from the metrics the trials log"> · default</span>}
          </span>
          <span data-trials={sweep.trials.length}>
            {plural(sweep.trials.length, "trial")}
            {sweep.budget !== null ? ` of ${sweep.budget}` : ""}
            {running ? ` · ${running} running` : ""}
            {failed ? ` · ${failed} failed` : ""}
          </span>
          <span>
            created <LocalTime t={sweep.createdAt} />
          </span>
          <span className="mono muted" title="sweep id">
            {sweep.id}
          </span>
        </p>
      </header>

      <AlertsPanel alerts={alerts} chartsOf={chartsOf} noStep />

      <div className="sweep-top">
        <NextStage sweep={sweep} onRefined={onRefined} />
        <Stages chain={chain} self={sweep.id} />
      </div>

      <h2>Trials</h2>
      <TrialsTable sweep={sweep} names={names} best={best} />

      {searched.length > 0 && (
        <>
          <h2>{metric} against each parameter</h2>
          <div className="chart-grid">
            {searched.map((n) => (
              <ParamScatter
                key={n}
                name={n}
                spec={specOf(sweep.space, n)}
                next={nextSpec(sweep.suggestion, n)}
                trials={sweep.trials}
                best={best}
                goal={goal}
                metric={metric}
              />
            ))}
          </div>
          <h2>All parameters together</h2>
          <ParallelCoords names={searched} space={sweep.space} trials={sweep.trials} best={best} metric={metric} goal={goal} />
        </>
      )}

      <div className="sweep-bottom">
        <ObjectiveCurves trials={sweep.trials} best={sweep.best} metric={metric} />
        <Importance sweep={sweep} />
      </div>
    </div>
  );
}

function NextStage({ sweep, onRefined }: { sweep: SweepDetailView; onRefined: (childId: string) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const s = sweep.suggestion;
  const refine = async () => {
    setBusy(true);
    setError("");
    const res = await tryFetch(`/api/v1/sweeps/${encodeURIComponent(sweep.id)}/refine`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    setBusy(false);
    if (!res) return setError(UNREACHABLE);
    if (!res.ok) return setError(await errorText(res));
    const body = await tryJson<{ sweep: { id: string } }>(res);
    if (body?.sweep?.id) onRefined(body.sweep.id);
  };
  if (!s) {
    return (
      <section className="chart-card next-stage" aria-label="next stage" data-suggestion="none">
        <h3>Next stage</h3>
        <p className="muted small">No suggestion yet: it comes once at least two trials have reported {sweep.objective.metric}.</p>
      </section>
    );
  }
  const snippet = suggestionSnippet(sweep, s);
  const fmt = (v: number) => formatValue(v);
  return (
    <section className="chart-card next-stage" aria-label="next stage" data-suggestion="">
      <div className="chart-head">
        <h3>Suggested next range</h3>
        <button type="button" className="button primary small" onClick={() => void refine()} disabled={busy} data-testid="refine">
          {busy ? "Refining…" : `Refine: start stage ${sweep.stage + 1}`}
        </button>
      </div>
      <table className="space-table">
        <thead>
          <tr>
            <th>parameter</th>
            <th>searched</th>
            <th>next</th>
          </tr>
        </thead>
        <tbody>
          {Object.keys(s).map((k) => (
            <tr key={k} data-param={k}>
              <td>
                <bdi>{k}</bdi>
              </td>
              <td className="muted">{specText(specOf(sweep.space, k), fmt)}</td>
              <td>{specText(s[k], fmt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {error && (
        <p className="warn" role="alert" data-testid="refine-error">
          {error}
        </p>
      )}
      <details className="snippet">
        <summary>as Python</summary>
        <pre data-testid="snippet">{snippet}</pre>
        <CopyButton text={snippet} label="copy snippet" />
      </details>
    </section>
  );
}

function Stages({ chain, self }: { chain: ReturnType<typeof stageChain>; self: string }) {
  return (
    <section className="chart-card stages" aria-label="stages">
      <h3>Coarse to fine</h3>
      <ol className="stage-chain">
        {chain.map((level) => (
          <li key={level.map((s) => s.id).join(",")} data-stage={level[0]?.stage}>
            <span className="muted small">stage {level[0]?.stage}</span>{" "}
            {level.map((s, i) => (
              <span key={s.id}>
                {i > 0 && ", "}
                {s.id === self ? (
                  <strong aria-current="page">
                    <bdi>{s.name}</bdi>
                  </strong>
                ) : (
                  <Link href={`/sweeps/${encodeURIComponent(s.id)}`} data-stage-link={s.id}>
                    <bdi>{s.name}</bdi>
                  </Link>
                )}
              </span>
            ))}
          </li>
        ))}
      </ol>
      {chain.length === 1 && <p className="muted small">A single stage so far: Refine starts a narrower one.</p>}
    </section>
  );
}

const FIXED_COLUMNS = [
  { key: { kind: "index" }, label: "#" },
  { key: { kind: "name" }, label: "trial" },
  { key: { kind: "status" }, label: "status" },
] as const;

function sameKey(a: TrialSortKey, b: TrialSortKey): boolean {
  return a.kind === b.kind && (a.kind !== "param" || (b.kind === "param" && a.name === b.name));
}

function TrialsTable({ sweep, names, best }: { sweep: SweepDetailView; names: string[]; best: ReadonlySet<string> }) {
  const [by, setBy] = useState<{ key: TrialSortKey; desc: boolean }>({ key: { kind: "objective" }, desc: false });
  const rows = useMemo(() => sortTrials(sweep.trials, by.key, by.desc, sweep.objective.goal), [sweep.trials, by, sweep.objective.goal]);
  const rank = new Map(sweep.best.map((id, i) => [id, i + 1]));
  if (!sweep.trials.length) {
    // a stage just made by Refine: say how to run it here, where the user lands
    const own = Object.keys(sweep.space ?? {}).length > 0 ? suggestionSnippet(sweep, sweep.space, sweep.budget ?? 20, sweep.name) : null;
    return (
      <div className="empty">
        <p>No trials yet. They appear here as workers claim them.</p>
        {own && (
          <details className="snippet" open>
            <summary>run this stage from Python (each worker the same)</summary>
            <pre data-testid="run-snippet">{own}</pre>
            <CopyButton text={own} label="copy snippet" />
          </details>
        )}
      </div>
    );
  }
  const header = (key: TrialSortKey, label: string, title?: string) => {
    const on = sameKey(by.key, key);
    return (
      <th aria-sort={on ? (by.desc ? "descending" : "ascending") : "none"} data-sort-key={key.kind === "param" ? `param:${key.name}` : key.kind}>
        <button
          type="button"
          className="link-button"
          title={title ?? "sort by this column (again: reverse)"}
          onClick={() => setBy((b) => (sameKey(b.key, key) ? { key, desc: !b.desc } : { key, desc: false }))}
        >
          <bdi>{label}</bdi>
          {on ? (by.desc ? " ▼" : " ▲") : ""}
        </button>
      </th>
    );
  };
  return (
    <div className="table-wrap">
      <table className="runs trials" data-testid="trials">
        <thead>
          <tr>
            {FIXED_COLUMNS.map((c) => header(c.key, c.label))}
            {names.map((n) => header({ kind: "param", name: n }, n))}
            {header({ kind: "objective" }, sweep.objective.metric, "sort best first (again: worst first)")}
            {header({ kind: "alerts" }, "alerts")}
            {header({ kind: "duration" }, "duration")}
          </tr>
        </thead>
        <tbody>
          {rows.map((t) => (
            <TrialRow key={t.runId} t={t} names={names} rank={best.has(t.runId) ? rank.get(t.runId) : undefined} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TrialRow({ t, names, rank }: { t: SweepTrialView; names: string[]; rank: number | undefined }) {
  const obj = t.objective;
  return (
    <tr data-run={t.runId} data-best={rank ?? undefined} data-failed={t.failed ? "" : undefined} className={rank ? "best" : t.failed ? "failed" : ""}>
      <td className="num">{t.index ?? "–"}</td>
      <td className="name">
        <Link href={`/runs/${encodeURIComponent(t.runId)}`}>
          <bdi>{t.name}</bdi>
        </Link>
        {rank !== undefined && (
          <span className="badge best-badge" title="among the best trials">
            best #{rank}
          </span>
        )}
      </td>
      <td>
        <StatusBadge status={t.status} />
        {t.pruned && (
          <span
            className="badge pruned-badge"
            data-pruned={t.prune?.rule ?? ""}
            title={`stopped early by should-stop${t.prune?.reason ? `: ${t.prune.reason}` : ""}; its objective is its best before it stopped`}
          >
            {t.prune?.rule === "diverged" ? "pruned: diverged" : "pruned"}
          </span>
        )}
      </td>
      {names.map((n) => {
        const v = paramOf(t, n);
        return (
          <td key={n} className="num" data-param={n}>
            {v === undefined ? "" : typeof v === "number" ? formatValue(v) : scalarText(v)}
          </td>
        );
      })}
      <td
        className={`num objective ${isNonFinite(obj ?? t.objectiveRaw ?? null) ? "bad" : ""}`}
        data-objective={obj === null ? "" : String(obj)}
        data-objective-raw={t.objectiveRaw === undefined || t.objectiveRaw === null ? undefined : String(t.objectiveRaw)}
      >
        {objectiveText(t)}
        {t.failed && <span className="failure"> {t.failure ?? "failed"}</span>}
      </td>
      <td>
        {t.alerts.map((c) => (
          <span key={c} className="root-cause" data-alert={c}>
            {c}
          </span>
        ))}
      </td>
      <td className="num nowrap">{t.durationS === null ? "–" : formatDuration(t.durationS)}</td>
    </tr>
  );
}

function Importance({ sweep }: { sweep: SweepDetailView }) {
  const rows = [...sweep.importance].sort((a, b) => (b.importance ?? -1) - (a.importance ?? -1));
  return (
    <section className="chart-card importance" aria-label="parameter importance" data-testid="importance">
      <h3>Which parameters matter</h3>
      {rows.length === 0 ? (
        <p className="muted small">Not enough trials with {sweep.objective.metric} yet.</p>
      ) : (
        <ol className="importance-list">
          {rows.map((r) => (
            <li key={r.param} data-param={r.param} data-importance={r.importance ?? ""}>
              <span className="imp-name" title={r.param}>
                <bdi>{r.param}</bdi>
              </span>
              <span className="imp-bar">
                <i style={{ width: `${Math.round(Math.min(1, Math.max(0, r.importance ?? 0)) * 100)}%` }} />
              </span>
              <span className="num small">
                {r.importance === null ? "–" : r.importance.toFixed(2)}
                {r.rho !== null && <span className="muted"> · ρ {r.rho.toFixed(2)}</span>}
                <span className="muted"> · n={r.n}</span>
              </span>
            </li>
          ))}
        </ol>
      )}
      <p className="muted small">
        How much {sweep.objective.metric} depends on each parameter, 0 to 1: its rank correlation (ρ, of the log for log-scale parameters) or, when
        the best values lie inside the range (a peak, as learning rates have), how far the objective differs between the range&apos;s thirds; for
        choices, how far apart their medians lie.
      </p>
    </section>
  );
}
