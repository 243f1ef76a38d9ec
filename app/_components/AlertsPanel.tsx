"use client";

import { type ReactNode, useId, useState } from "react";
import { rootCauseOrder } from "@/lib/diagnostics/causes";
import type { Alert } from "@/lib/ui/api-types";
import { markerStep, severityColor } from "@/lib/ui/alert-charts";
import { formatValue } from "@/lib/ui/format";
import { attr, reveal } from "./reveal";

// The run's diagnoses, root cause first: each cause, worst first, with the symptoms that follow from
// it folded under it ("N symptoms"); resolved ones folded away below. The relation is recomputed
// here from the alerts shown (live updates arrive one alert at a time) with the table the server
// uses (lib/diagnostics/causes.ts). Each alert links to the charts that carry its marker: a click
// on the alert scrolls to its (first) chart.

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

export interface ChartLink {
  id: string;
  title: string;
}

/** `noStep`: alerts about something other than a run's steps (a sweep's): no "step N" in their headers. */
export default function AlertsPanel({
  alerts,
  chartsOf,
  noStep = false,
}: {
  alerts: Alert[] | null;
  chartsOf: (a: Alert) => ChartLink[];
  noStep?: boolean;
}) {
  if (!alerts || alerts.length === 0) return null;
  const sorted = [...alerts].sort(
    (a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || markerStep(a) - markerStep(b) || a.code.localeCompare(b.code),
  );
  const related = rootCauseOrder(sorted);
  const active = related.filter((a) => a.status !== "resolved");
  const resolved = related.filter((a) => a.status === "resolved");
  const byCode = new Map(active.map((a) => [a.code, a]));

  return (
    <section className="alerts" aria-label="alerts" data-alerts={active.length}>
      {active.length === 0 && <p className="alerts-ok">No active alerts.</p>}
      {active
        .filter((a) => !a.causedBy)
        .map((a) => (
          <CauseGroup
            key={a.code}
            a={a}
            noStep={noStep}
            symptoms={(a.symptoms ?? []).map((c) => byCode.get(c)).filter((s): s is Alert => !!s)}
            chartsOf={chartsOf}
          />
        ))}
      {resolved.length > 0 && (
        <details className="alerts-resolved">
          <summary>{resolved.length} resolved</summary>
          {resolved.map((a) => (
            <AlertCard key={a.code} a={a} charts={chartsOf(a)} noStep={noStep} />
          ))}
        </details>
      )}
    </section>
  );
}

/** A root cause and, folded under it until asked for, the alerts that follow from it. */
function CauseGroup({ a, symptoms, chartsOf, noStep }: { a: Alert; symptoms: Alert[]; chartsOf: (a: Alert) => ChartLink[]; noStep: boolean }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  if (!symptoms.length) return <AlertCard a={a} charts={chartsOf(a)} noStep={noStep} />;
  const n = symptoms.length;
  return (
    <div className="alert-group" data-cause={a.code}>
      <AlertCard a={a} charts={chartsOf(a)} noStep={noStep}>
        <button
          type="button"
          className="symptoms-toggle"
          aria-expanded={open}
          aria-controls={id}
          data-symptoms={n}
          title={`alerts that follow from ${a.code}: ${symptoms.map((s) => s.code).join(", ")}`}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? "▾" : "▸"} {n} symptom{n === 1 ? "" : "s"}
        </button>
      </AlertCard>
      <section id={id} className="alert-symptoms" aria-label={`symptoms of ${a.code}`} hidden={!open}>
        {symptoms.map((s) => (
          <AlertCard key={s.code} a={s} charts={chartsOf(s)} noStep={noStep} />
        ))}
      </section>
    </div>
  );
}

function AlertCard({ a, charts, children, noStep = false }: { a: Alert; charts: ChartLink[]; children?: ReactNode; noStep?: boolean }) {
  const evidence = Object.entries(evidenceOf(a.evidence));
  const color = severityColor(a.severity);
  const show = (id: string) => reveal(attr("data-chart", id), color, `[data-holds~="${CSS.escape(id)}"]`);
  const step = markerStep(a);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click on the card is a shortcut for its title button, which keyboards reach
    <article
      className={`alert sev-${a.severity} ${a.status === "resolved" ? "resolved" : ""} ${charts.length ? "has-chart" : ""}`}
      data-code={a.code}
      data-severity={a.severity}
      data-status={a.status}
      data-caused-by={a.causedBy}
      onClick={(e) => {
        // the whole card leads to its chart, except where it does something else
        if (charts.length && !(e.target as HTMLElement).closest("button, a, details, summary")) show(charts[0].id);
      }}
    >
      <header>
        <span className={`badge sev-${a.severity}`}>{a.severity}</span>
        {charts.length ? (
          <button type="button" className="alert-title" onClick={() => show(charts[0].id)} title="show on the chart">
            {a.title}
          </button>
        ) : (
          <strong className="alert-title">{a.title}</strong>
        )}
        {(!noStep || a.status === "resolved") && (
          <span className="muted">
            {noStep ? "" : `step ${step}`}
            {a.status === "resolved" ? `${noStep ? "" : " · "}resolved` : ""}
          </span>
        )}
        {a.causedBy && <span className="caused-by muted">caused by {a.causedBy}</span>}
        {charts.length > 0 && (
          <span className="alert-charts">
            shown on
            {charts.map((c) => (
              <button key={c.id} type="button" className="chart-link" onClick={() => show(c.id)} title={`show the marker on ${c.title}`}>
                {c.title}
              </button>
            ))}
          </span>
        )}
      </header>
      <p>{a.message}</p>
      {children}
      {evidence.length > 0 && (
        <details>
          <summary>evidence</summary>
          <dl className="evidence">
            {evidence.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{typeof v === "number" ? formatValue(v) : typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
    </article>
  );
}

function evidenceOf(e: unknown): Record<string, unknown> {
  if (typeof e === "string") {
    try {
      return evidenceOf(JSON.parse(e));
    } catch {
      return { evidence: e };
    }
  }
  return e && typeof e === "object" ? (e as Record<string, unknown>) : {};
}
