import type { AlertMarker } from "@/lib/ui/alert-charts";
import { markerStep } from "@/lib/ui/alert-charts";
import type { Flag } from "./chart-plugins";
import type { ChartAlert } from "./MetricChart";
import { attr, reveal } from "./reveal";

// The labelled flags over a chart's alert lines (placed by chart-plugins' alertMarkerPlugin);
// a click leads to the alert's explanation on the page.

export default function AlertFlags({ flags, alerts, markers }: { flags: Flag[]; alerts: readonly ChartAlert[]; markers: readonly AlertMarker[] }) {
  return flags.map((f) => {
    const a = alerts.find((x) => x.code === f.code);
    const m = markers.find((x) => x.code === f.code);
    if (!a || !m) return null;
    const resolved = a.status === "resolved";
    return (
      <button
        key={f.code}
        type="button"
        className={`alert-flag sev-${a.severity} ${resolved ? "resolved" : ""} ${f.side}`}
        data-alert={a.code}
        style={{ left: f.left, top: f.top, ["--sev" as string]: m.color }}
        title={`${a.severity}${resolved ? ", resolved" : ""} · step ${markerStep(a)}\n${a.title}`}
        aria-label={`${a.severity} alert at step ${markerStep(a)}: ${a.title}`}
        onMouseDown={(e) => e.stopPropagation()}
        onDoubleClick={(e) => e.stopPropagation()}
        onClick={() => reveal(`.alerts article${attr("data-code", a.code)}`, m.color)}
      >
        {m.label}
      </button>
    );
  });
}
