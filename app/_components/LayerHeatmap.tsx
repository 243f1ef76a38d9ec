"use client";

import { useEffect, useMemo, useRef, useState } from "react";
import { formatValue } from "@/lib/ui/format";
import { rampColor } from "@/lib/ui/heatmap";
import { CELL_COLORS, CELL_NAMES, Cell, cellAt, colSteps, layerHeat, scaleOf } from "@/lib/ui/layer-heatmap";
import type { Bucket } from "@/lib/ui/series";

// A family chart's lines as a layers x steps heat map (the chart's "heat map" toggle): one row per
// layer, top to bottom in legend order; hover names the layer, the steps and the value.

export default function LayerHeatmap({ layers, log, height }: { layers: { label: string; buckets: readonly Bucket[] }[]; log: boolean; height: number }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ x: number; y: number; text: string } | null>(null);
  const heat = useMemo(() => layerHeat(layers, Math.max(1, width || 400), log), [layers, width, log]);

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
    canvas.height = height;
    const ctx = canvas.getContext("2d")!;
    // one pixel per cell, scaled up without smoothing
    const img = new ImageData(heat.cols, Math.max(1, heat.layers.length));
    for (let i = 0; i < heat.kind.length; i++) {
      const k = heat.kind[i] as Cell;
      let rgb: [number, number, number] = [255, 255, 255];
      if (k === Cell.Finite) rgb = rampColor(scaleOf(heat, heat.value[i]));
      else if (k !== Cell.Empty) rgb = hex(CELL_COLORS[k]);
      img.data.set([...rgb, k === Cell.Empty ? 0 : 255], i * 4);
    }
    const off = document.createElement("canvas");
    off.width = img.width;
    off.height = img.height;
    off.getContext("2d")!.putImageData(img, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, width, height);
  }, [heat, width, height]);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const c = cellAt(heat, x, y, r.width, r.height);
    if (!c) return setHover(null);
    const i = c.row * heat.cols + c.col;
    const k = heat.kind[i] as Cell;
    const { from, to } = colSteps(heat, c.col);
    const steps = from >= to ? `step ${from}` : `steps ${from}–${to}`;
    const v = k === Cell.Finite || k === Cell.OffScale ? formatValue(heat.value[i]) : CELL_NAMES[k];
    setHover({ x, y, text: `${heat.layers[c.row]} · ${steps} · ${v}` });
  };

  let nonFinite = 0;
  for (const k of heat.kind) if (k === Cell.NaN || k === Cell.PosInf || k === Cell.NegInf) nonFinite++;
  const grad = [0, 0.25, 0.5, 0.75, 1].map((t) => `rgb(${rampColor(t).join(",")})`).join(",");

  return (
    <div className="layer-heat" data-rows={heat.layers.length} data-cols={heat.cols} data-nonfinite-cells={nonFinite} data-scale={log ? "log" : "linear"}>
      <div className="layer-heat-plot" style={{ height }}>
        <canvas ref={canvasRef} onMouseMove={onMove} onMouseLeave={() => setHover(null)} role="img" aria-label={`heat map of ${heat.layers.length} layers over steps ${heat.fromStep}–${heat.toStep}`} />
        {hover && (
          <div className="heat-tip" role="tooltip" style={{ left: Math.min(hover.x + 12, Math.max(0, width - 220)), top: hover.y + 12 }}>
            {hover.text}
          </div>
        )}
      </div>
      <div className="layer-heat-scale">
        <span>steps {heat.fromStep}–{heat.toStep}</span>
        <span className="heat-legend">
          {formatValue(heat.lo)}
          <i style={{ background: `linear-gradient(90deg, ${grad})` }} />
          {formatValue(heat.hi)}
          {log ? " (log)" : ""}
          <i className="swatch-cell" style={{ background: CELL_COLORS[Cell.NaN] }} /> NaN
          <i className="swatch-cell" style={{ background: CELL_COLORS[Cell.PosInf] }} /> +Inf
          <i className="swatch-cell" style={{ background: CELL_COLORS[Cell.NegInf] }} /> -Inf
        </span>
      </div>
    </div>
  );
}

function hex(c: string): [number, number, number] {
  const n = Number.parseInt(c.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
