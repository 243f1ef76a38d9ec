"use client";

import { useCallback, useEffect, useState } from "react";
import { severityColor } from "@/lib/ui/alert-charts";
import type { Alert } from "@/lib/ui/api-types";
import { attr, reveal } from "./reveal";
import { useRunAccess } from "./run-access";

// The babysitting checklist (GET .../checklist): what the babysitter checked and found fine, what it
// raised (a link to that alert), and what it cannot check yet with the call that would let it. A
// healthy run shows what was checked instead of nothing. Refetched when the alerts change, when the
// run's status changes, and every 15 s while it runs (data arriving can make an item checkable).

type State = "passed" | "raised" | "unknown";

interface Item {
  id: string;
  title: string;
  state: State;
  evidence: string;
  alert: string | null;
  how: string | null;
}

interface Answer {
  items: Item[];
  summary: { passed: number; raised: number; unknown: number; text: string };
}

const LIVE_REFRESH_MS = 15_000;

// a shape as well as a colour: the state reads without colour too
const ICON: Record<State, string> = { passed: "✓", raised: "!", unknown: "?" };
const LABEL: Record<State, string> = { passed: "passed", raised: "raised", unknown: "not checkable yet" };

export default function ChecklistPanel({ runId, alerts, status }: { runId: string; alerts: Alert[] | null; status: string }) {
  const access = useRunAccess();
  const [answer, setAnswer] = useState<Answer | null>(null);
  const alertsSig = (alerts ?? []).map((a) => `${a.code}:${a.status}:${a.updatedAt ?? ""}`).join(",");

  const load = useCallback(async () => {
    try {
      const res = await fetch(`${access.api(runId)}/checklist`);
      if (!res.ok) return;
      const body = (await res.json()) as Answer;
      if (Array.isArray(body.items)) setAnswer(body);
    } catch {
      // stays as it is; the next change or tick fetches again
    }
  }, [runId, access]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: alertsSig and status are the triggers to refetch
  useEffect(() => {
    void load();
  }, [load, alertsSig, status]);

  useEffect(() => {
    if (status !== "running") return;
    const t = setInterval(() => void load(), LIVE_REFRESH_MS);
    return () => clearInterval(t);
  }, [load, status]);

  if (!answer) return null;
  const { summary } = answer;
  return (
    <section className="checklist" aria-label="checklist" data-checklist={`${summary.passed}/${summary.raised}/${summary.unknown}`}>
      <details open>
        <summary>
          <strong>Checklist</strong> <span className="muted">{summary.text}</span>
        </summary>
        <ul>
          {answer.items.map((it) => (
            <li key={it.id} className={`check check-${it.state}`} data-item={it.id} data-state={it.state}>
              <span className="check-icon" aria-hidden="true">
                {ICON[it.state]}
              </span>
              <span className="check-body">
                <span className="check-title">{it.title}</span> <span className="check-state">{LABEL[it.state]}</span>
                <span className="check-evidence">
                  {it.state === "raised" && it.alert ? (
                    <button
                      type="button"
                      className="check-alert"
                      title="show the alert"
                      onClick={() =>
                        reveal(
                          `.alerts ${attr("data-code", it.alert!)}`,
                          severityColor(alerts?.find((a) => a.code === it.alert)?.severity ?? "warning"),
                        )
                      }
                    >
                      {it.alert}
                    </button>
                  ) : null}
                  {it.state === "raised" ? ": " : ""}
                  {it.evidence}
                </span>
                {/* the statistics this item judges, as numbers: the run page's Data section (DataPanel) */}
                {it.id === "input_preprocessing" && it.state !== "unknown" && (
                  <button
                    type="button"
                    className="link-button check-data"
                    title="show the input statistics"
                    onClick={() => reveal("#data", "#2563eb")}
                  >
                    see the input statistics
                  </button>
                )}
                {it.how && (
                  <span className="check-how">
                    to check it: <Code text={it.how} />
                  </span>
                )}
              </span>
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}

/** `backticked` parts of a hint as code. */
function Code({ text }: { text: string }) {
  const parts = text.split("`");
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string
          <code key={i}>{p}</code>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string
          <span key={i}>{p}</span>
        ),
      )}
    </>
  );
}
