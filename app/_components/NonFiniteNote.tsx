import type { NonFiniteCounts } from "@/lib/ui/series";
import { nonFiniteNotes, nonPositiveNote } from "@/lib/ui/chart-view";
import { NONPOSITIVE_STYLE } from "@/lib/ui/nonfinite-markers";

// The chart header's count of values it cannot draw as points ("2 NaN · 1 +Inf"), each kind with
// the shape and colour of its marker on the chart; on a log axis, the values <= 0 it marks at the
// bottom edge ("12 values ≤ 0 not drawable on a log axis").

export default function NonFiniteNote({ counts, nonPositive }: { counts: NonFiniteCounts; nonPositive?: { values: number; buckets: number } }) {
  const notes = nonFiniteNotes(counts);
  const np = nonPositive ? nonPositiveNote(nonPositive) : "";
  if (!notes.length && !np) return null;
  return (
    <span className="nonfinite-note" title="non-finite values, each with its own marker on the chart">
      {notes.map((n, i) => (
        <span key={n.kind} className="nf" data-kind={n.kind} data-shape={n.style.shape} data-color={n.style.color} data-y={n.style.y}>
          {i > 0 && " · "}
          <i className={`nf-mark nf-${n.kind}`} style={{ ["--nf" as string]: n.style.color }} aria-hidden="true" />
          {n.text}
        </span>
      ))}
      {np && (
        <span
          className="nf"
          data-kind="nonPositive"
          data-shape={NONPOSITIVE_STYLE.shape}
          data-color={NONPOSITIVE_STYLE.color}
          data-y={NONPOSITIVE_STYLE.y}
        >
          {notes.length > 0 && " · "}
          <i className="nf-mark nf-nonPositive" style={{ ["--nf" as string]: NONPOSITIVE_STYLE.color }} aria-hidden="true" />
          {np}
        </span>
      )}
    </span>
  );
}
