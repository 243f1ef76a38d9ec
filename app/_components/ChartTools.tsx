import type { LineSpec } from "@/lib/ui/chart-view";

// One chart's own controls: reset zoom, heat map and log toggles in its header, and the legend
// that lists its lines and hides or shows each.

export function ChartTools({
  zoomed,
  onResetZoom,
  canHeat,
  heat,
  onHeat,
  log,
  onLog,
}: {
  zoomed: boolean;
  onResetZoom: () => void;
  canHeat: boolean;
  heat: boolean;
  onHeat: (on: boolean) => void;
  log: boolean;
  onLog: (on: boolean) => void;
}) {
  return (
    <span className="chart-tools">
      {zoomed && (
        <button type="button" className="link-button" onClick={onResetZoom} title="or double-click the chart">
          reset zoom
        </button>
      )}
      {canHeat && (
        <button
          type="button"
          className={`toggle ${heat ? "on" : ""}`}
          aria-pressed={heat}
          onClick={() => onHeat(!heat)}
          title="layers x steps heat map"
        >
          heat map
        </button>
      )}
      <button
        type="button"
        className={`toggle ${log ? "on" : ""}`}
        aria-pressed={log}
        onClick={() => onLog(!log)}
        title="logarithmic y axis for this chart"
      >
        log
      </button>
    </span>
  );
}

export function ChartLegend({
  lines,
  hidden,
  onToggle,
  rows,
}: {
  lines: readonly LineSpec[];
  hidden: ReadonlySet<string>;
  onToggle: (id: string) => void;
  /** in the heat map a layer is a row, not a coloured line: the legend only lists and toggles layers */
  rows: boolean;
}) {
  return (
    <ul className={`legend ${rows ? "rows" : ""}`}>
      {lines.map((l) => (
        <li key={l.id}>
          <button type="button" className={hidden.has(l.id) ? "off" : ""} onClick={() => onToggle(l.id)}>
            <i style={{ background: l.color }} />
            {l.label}
          </button>
        </li>
      ))}
    </ul>
  );
}
