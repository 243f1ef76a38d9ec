"use client";

import { useEffect, useMemo, useRef, useState } from "react";
import { hexRgb } from "@/lib/ui/color";
import { axisTickFormat } from "@/lib/ui/format";
import { rampColor } from "@/lib/ui/heatmap";
import {
  CELL_COLORS,
  CELL_NAMES,
  Cell,
  cellAt,
  cellCounts,
  cellKinds,
  cellKindsPresent,
  cellText,
  colSteps,
  layerHeat,
  scaleOf,
} from "@/lib/ui/layer-heatmap";
import type { Bucket } from "@/lib/ui/series";

// A family chart's lines as a layers x steps heat map (the chart's "heat map" toggle): one row per
// layer, top to bottom in legend order, each labelled at its left; hover names the layer, the steps
// and the value. Rows are at least ROW_MIN pixels tall so every label can be read. A cell holding
// more than one kind of non-finite value (NaN and +Inf) is drawn in bands, one per kind.

const ROW_MIN = 11;
/** Bands a cell is drawn in: up to three kinds of non-finite value, each an equal share (6 = 2 x 3). */
const BANDS = 6;

export default function LayerHeatmap({
  layers,
  log,
  height,
}: {
  layers: { label: string; buckets: readonly Bucket[] }[];
  log: boolean;
  height: number;
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ x: number; y: number; text: string } | null>(null);
  const heat = useMemo(() => layerHeat(layers, Math.max(1, width || 400), log), [layers, width, log]);
  const plotHeight = Math.max(height, layers.length * ROW_MIN);

  useEffect(() => {
    const el = canvasRef.current!;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current!;
    if (!width) return;
    canvas.width = width;
    canvas.height = plotHeight;
    const ctx = canvas.getContext("2d")!;
    // BANDS pixels per cell (one column, BANDS rows), scaled up without smoothing
    const img = new ImageData(heat.cols, Math.max(1, heat.layers.length) * BANDS);
    for (let i = 0; i < heat.kind.length; i++) {
      const kinds = cellKinds(heat, i);
      const row = Math.floor(i / heat.cols);
      const col = i % heat.cols;
      for (let band = 0; band < BANDS; band++) {
        const k = kinds[Math.floor((band * kinds.length) / BANDS)];
        let rgb: [number, number, number] = [255, 255, 255];
        if (k === Cell.Finite) rgb = rampColor(scaleOf(heat, heat.value[i]));
        else if (k !== Cell.Empty) rgb = hexRgb(CELL_COLORS[k]);
        img.data.set([...rgb, k === Cell.Empty ? 0 : 255], ((row * BANDS + band) * heat.cols + col) * 4);
      }
    }
    const off = document.createElement("canvas");
    off.width = img.width;
    off.height = img.height;
    off.getContext("2d")!.putImageData(img, 0, 0);
    ctx.clearRect(0, 0, width, plotHeight);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, width, plotHeight);
  }, [heat, width, plotHeight]);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const c = cellAt(heat, x, y, r.width, r.height);
    if (!c) return setHover(null);
    const { from, to } = colSteps(heat, c.col);
    const steps = from >= to ? `step ${from}` : `steps ${from}–${to}`;
    setHover({ x, y, text: `${heat.layers[c.row]} · ${steps} · ${cellText(heat, c.row * heat.cols + c.col)}` });
  };

  let nonFinite = 0;
  for (const bits of heat.nonFinite) if (bits) nonFinite++;
  const counts = cellCounts(heat);
  const kinds = cellKindsPresent(heat);
  const scaleLabel = axisTickFormat([heat.lo, heat.hi]);
  const grad = [0, 0.25, 0.5, 0.75, 1].map((t) => `rgb(${rampColor(t).join(",")})`).join(",");

  return (
    <div
      className="layer-heat"
      data-rows={heat.layers.length}
      data-cols={heat.cols}
      data-nonfinite-cells={nonFinite}
      data-nan-cells={counts.get(Cell.NaN) ?? 0}
      data-posinf-cells={counts.get(Cell.PosInf) ?? 0}
      data-neginf-cells={counts.get(Cell.NegInf) ?? 0}
      data-empty-cells={counts.get(Cell.Empty) ?? 0}
      data-scale={log ? "log" : "linear"}
    >
      <div className="layer-heat-body" style={{ height: plotHeight }}>
        <ol className="layer-heat-rows" style={{ gridTemplateRows: `repeat(${Math.max(1, heat.layers.length)}, 1fr)` }}>
          {heat.layers.map((name, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional (two layers may share a label)
            <li key={i} title={name}>
              {name}
            </li>
          ))}
        </ol>
        <div className="layer-heat-plot">
          <canvas
            ref={canvasRef}
            onMouseMove={onMove}
            onMouseLeave={() => setHover(null)}
            role="img"
            aria-label={`heat map of ${heat.layers.length} layers over steps ${heat.fromStep}–${heat.toStep}`}
          />
          {hover && (
            <div className="heat-tip" role="tooltip" style={{ left: Math.min(hover.x + 12, Math.max(0, width - 220)), top: hover.y + 12 }}>
              {hover.text}
            </div>
          )}
        </div>
      </div>
      <div className="layer-heat-scale">
        <span>
          steps {heat.fromStep}–{heat.toStep}
        </span>
        <span className="heat-legend">
          {scaleLabel(heat.lo)}
          <i style={{ background: `linear-gradient(90deg, ${grad})` }} />
          {scaleLabel(heat.hi)}
          {log ? " (log)" : ""}
          {kinds.map((k) => (
            <span key={k} className="heat-kind" data-kind={CELL_NAMES[k]}>
              <i className={`swatch-cell ${k === Cell.Empty ? "none" : ""}`} style={{ background: CELL_COLORS[k] ?? "transparent" }} />{" "}
              {CELL_NAMES[k]}
            </span>
          ))}
        </span>
      </div>
    </div>
  );
}
