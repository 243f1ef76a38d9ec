"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { Alert } from "@/lib/ui/api-types";
import { formatValue } from "@/lib/ui/format";
import { useLive } from "./live";

// The run's diagnoses, worst first. Shown only when the alerts endpoint answers (or an alert
// arrives live); kept current by socket.io `alert` events.

const SEVERITY_ORDER: Record<string, number> = { critical: 0, warning: 1, info: 2 };

export default function AlertsPanel({ runId }: { runId: string }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const load = useCallback(async () => {
    try {
      const res = await fetch(`/api/v1/runs/${encodeURIComponent(runId)}/alerts`);
      if (!res.ok) return;
      const body = (await res.json()) as { alerts?: Alert[] };
      if (Array.isArray(body.alerts)) setAlerts(body.alerts);
    } catch {
      // the panel simply stays as it is; the next alert event refetches
    }
  }, [runId]);

  useEffect(() => {
    void load();
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [load]);

  useLive([{ run: runId }], {
    alert: (msg) => {
      if (msg.runId !== runId || !msg.alert) return;
      const a = msg.alert as unknown as Alert;
      setAlerts((prev) => [...(prev ?? []).filter((x) => x.code !== a.code), a]);
    },
    connected: () => void load(),
  });

  if (!alerts || alerts.length === 0) return null;
  const sorted = [...alerts].sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3) || b.step - a.step);
  const active = sorted.filter((a) => a.status !== "resolved");
  const resolved = sorted.filter((a) => a.status === "resolved");

  return (
    <section className="alerts" aria-label="alerts" data-alerts={active.length}>
      {active.length === 0 && <p className="alerts-ok">No active alerts.</p>}
      {active.map((a) => (
        <AlertCard key={a.code} a={a} />
      ))}
      {resolved.length > 0 && (
        <details className="alerts-resolved">
          <summary>{resolved.length} resolved</summary>
          {resolved.map((a) => (
            <AlertCard key={a.code} a={a} />
          ))}
        </details>
      )}
    </section>
  );
}

function AlertCard({ a }: { a: Alert }) {
  const evidence = Object.entries(evidenceOf(a.evidence));
  return (
    <article className={`alert sev-${a.severity} ${a.status === "resolved" ? "resolved" : ""}`} data-code={a.code}>
      <header>
        <span className={`badge sev-${a.severity}`}>{a.severity}</span>
        <strong>{a.title}</strong>
        <span className="muted">
          step {a.step}
          {a.status === "resolved" ? " · resolved" : ""}
        </span>
      </header>
      <p>{a.message}</p>
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
