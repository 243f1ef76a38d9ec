"use client";

import type { Plugin } from "chart.js";
import type { AlertMarker } from "@/lib/ui/alert-charts";
import { withAlpha } from "@/lib/ui/color";
import { formatValue } from "@/lib/ui/format";

// The metric chart's own drawing on the canvas: a dashed reference line, and the alerts' lines
// with the places of their HTML flags.

/** A flag over the plot: its line's pixel x, the side it extends to, its row in the flag band. */
export interface Flag {
  code: string;
  left: number;
  side: "left" | "right";
  row: number;
  /** pixel top of the flag */
  top: number;
}

export const FLAG_ROW = 19;
const FLAG_FONT = "600 11px ui-sans-serif, system-ui, -apple-system, 'Segoe UI', sans-serif";
const MAX_FLAG_ROWS = 3;

/** A faint dashed horizontal line at options.plugins.refLine.value (e.g. 1e-3 for update ratios). */
export const refLinePlugin: Plugin<"line"> = {
  id: "refLine",
  afterDatasetsDraw(chart) {
    const value = (chart.options.plugins as { refLine?: { value?: number } }).refLine?.value;
    const y = chart.scales.y;
    if (value === undefined || !y || value < y.min || value > y.max) return;
    const py = y.getPixelForValue(value);
    const { left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = "rgba(90, 100, 115, 0.55)";
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(left, py);
    ctx.lineTo(right, py);
    ctx.stroke();
    ctx.fillStyle = "rgba(90, 100, 115, 0.8)";
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillText(formatValue(value), left + 4, py - 3);
    ctx.restore();
  },
};

/**
 * Alert markers: a vertical line per alert at its x (dashed and faint once resolved), drawn under
 * the data; after each draw, reports where the HTML flags go: rows in the band above the plot so
 * that flags of nearby steps do not cover each other.
 */
export const alertMarkerPlugin: Plugin<"line"> = {
  id: "alertMarkers",
  beforeDatasetsDraw(chart) {
    const { items } = markerOptions(chart);
    const x = chart.scales.x;
    if (!items.length || !x) return;
    const { top, bottom, left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    for (const m of items) {
      const px = x.getPixelForValue(m.x);
      if (!(px >= left - 0.5 && px <= right + 0.5)) continue;
      ctx.strokeStyle = withAlpha(m.color, m.resolved ? 0.45 : 0.9);
      ctx.lineWidth = m.resolved ? 1 : 1.5;
      ctx.setLineDash(m.resolved ? [3, 3] : []);
      ctx.beginPath();
      ctx.moveTo(Math.round(px) + 0.5, top - 4);
      ctx.lineTo(Math.round(px) + 0.5, bottom);
      ctx.stroke();
    }
    ctx.restore();
  },
  afterDraw(chart) {
    const { items, place } = markerOptions(chart);
    const x = chart.scales.x;
    if (!place) return;
    if (!items.length || !x) return place([], 0);
    const { left, right, top } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = FLAG_FONT;
    const placed: (Flag & { from: number; to: number })[] = [];
    const visible = items
      .map((m) => ({ m, px: x.getPixelForValue(m.x) }))
      .filter(({ px }) => px >= left - 0.5 && px <= right + 0.5)
      .sort((a, b) => a.px - b.px || Number(a.m.resolved) - Number(b.m.resolved));
    for (const { m, px } of visible) {
      const width = ctx.measureText(m.label).width + 16;
      // extend to the right, or to the left where that would leave the plot (a marker at the last step)
      const side = px + width > right + 4 && px - width >= 0 ? "left" : "right";
      const from = side === "left" ? px - width : px;
      const to = from + width;
      let row = 0;
      while (row < MAX_FLAG_ROWS - 1 && placed.some((p) => p.row === row && p.from < to + 3 && from < p.to + 3)) row++;
      placed.push({ code: m.code, left: Math.round(px), side, row, top: Math.round(top - 2 - (row + 1) * (FLAG_ROW - 1)), from, to });
    }
    ctx.restore();
    place(
      placed.map(({ code, left, side, row, top }) => ({ code, left, side, row, top })),
      placed.length ? Math.max(...placed.map((p) => p.row)) + 1 : 0,
    );
  },
};

// Held beside the chart, not in its options: chart.js would take `place` for a scriptable option.
const markerState = new WeakMap<object, { items: AlertMarker[]; place: (f: Flag[], rows: number) => void }>();
function markerOptions(chart: object): { items: AlertMarker[]; place?: (f: Flag[], rows: number) => void } {
  return markerState.get(chart) ?? { items: [] };
}

/** Gives a chart its alert markers and where to report its flags' places. */
export function setAlertMarkers(chart: object, items: AlertMarker[], place: (f: Flag[], rows: number) => void): void {
  markerState.set(chart, { items, place });
}
