"use client";

import { X_MODES, type XMode } from "@/lib/ui/x-axis";
import type { ChartSettings } from "./MetricChart";

// Page-wide chart settings: smoothing, log scale, x axis.

export default function ChartControls({
  settings,
  onChange,
  hasEpoch,
}: {
  settings: ChartSettings;
  onChange: (s: ChartSettings) => void;
  hasEpoch: boolean;
}) {
  return (
    <div className="controls" role="toolbar" aria-label="chart settings">
      <label className="smoothing">
        <span>smoothing</span>
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.ema}
          onChange={(e) => onChange({ ...settings, ema: Number(e.target.value) })}
          aria-label="EMA smoothing"
        />
        <output>{settings.ema.toFixed(2)}</output>
      </label>
      <label>
        <input type="checkbox" checked={settings.log} onChange={(e) => onChange({ ...settings, log: e.target.checked })} />
        <span>log scale</span>
      </label>
      <label>
        <span>x axis</span>
        <select value={settings.xMode} onChange={(e) => onChange({ ...settings, xMode: e.target.value as XMode })} aria-label="x axis">
          {X_MODES.map((m) => (
            <option key={m.value} value={m.value} disabled={m.value === "epoch" && !hasEpoch}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
      <span className="hint">drag across a chart to zoom · double-click to reset</span>
    </div>
  );
}
