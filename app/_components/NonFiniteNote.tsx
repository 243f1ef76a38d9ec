import type { NonFiniteCounts } from "@/lib/ui/series";
import { nonFiniteNotes } from "@/lib/ui/chart-view";

// The chart header's count of values it cannot draw as points ("2 NaN · 1 +Inf"), each kind with
// the shape and colour of its marker on the chart.

export default function NonFiniteNote({ counts }: { counts: NonFiniteCounts }) {
  const notes = nonFiniteNotes(counts);
  if (!notes.length) return null;
  return (
    <span className="nonfinite-note" title="non-finite values, each with its own marker on the chart">
      {notes.map((n, i) => (
        <span key={n.kind} className="nf" data-kind={n.kind} data-shape={n.style.shape} data-color={n.style.color} data-y={n.style.y}>
          {i > 0 && " · "}
          <i className={`nf-mark nf-${n.kind}`} style={{ ["--nf" as string]: n.style.color }} aria-hidden="true" />
          {n.text}
        </span>
      ))}
    </span>
  );
}
