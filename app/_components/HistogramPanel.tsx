"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { UNREACHABLE, tryFetch, tryJson } from "@/lib/ui/api-error";
import { formatValue, plural } from "@/lib/ui/format";
import { liveReady } from "./live";
import { useRunAccess } from "./run-access";
import { type Histogram, heatGrid, rampColor } from "@/lib/ui/heatmap";

// One histogram key over the run: a heat map (x = logged histogram in step order, y = value,
// colour = share of that step's count) and, under it, the single histogram at the step picked
// with the slider (or by clicking a column) as bars.

const ROWS = 64;
const PAD = { left: 50, right: 8, top: 6, bottom: 18 };

/** Axis labels: 3 significant digits, short enough for the left margin. */
const short = (v: number) =>
  v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2) ? v.toExponential(1).replace("e+", "e") : String(Number(v.toPrecision(3)));

export default function HistogramPanel({ runId, hkey, version }: { runId: string; hkey: string; version: number }) {
  const [hists, setHists] = useState<Histogram[]>([]);
  const [pick, setPick] = useState<number | null>(null); // null = follow the latest
  const [hover, setHover] = useState<string>("");
  const [failed, setFailed] = useState("");
  const access = useRunAccess();
  const heatRef = useRef<HTMLCanvasElement>(null);
  const barsRef = useRef<HTMLCanvasElement>(null);

  const load = useCallback(async () => {
    await liveReady();
    const res = await tryFetch(`${access.api(runId)}/histograms?key=${encodeURIComponent(hkey)}&limit=200`);
    if (!res) return setFailed(UNREACHABLE);
    if (!res.ok) {
      setFailed(`HTTP ${res.status}`);
      return;
    }
    const body = await tryJson<{ histograms: Histogram[] }>(res);
    if (!body) return setFailed(UNREACHABLE);
    setFailed("");
    setHists(body.histograms);
  }, [runId, hkey, access]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: version is a refresh token: the run logged a newer histogram
  useEffect(() => {
    void load();
  }, [load, version]);

  const grid = useMemo(() => heatGrid(hists, ROWS), [hists]);
  const index = pick === null ? hists.length - 1 : Math.min(pick, hists.length - 1);
  const current = hists[index];

  useEffect(() => {
    const canvas = heatRef.current;
    if (!canvas || !hists.length) return;
    const { ctx, w, h } = setup(canvas);
    const pw = w - PAD.left - PAD.right;
    const ph = h - PAD.top - PAD.bottom;
    const img = ctx.createImageData(Math.max(1, grid.cols), grid.rows);
    for (let c = 0; c < grid.cols; c++) {
      for (let r = 0; r < grid.rows; r++) {
        const v = grid.cells[c * grid.rows + r];
        const o = ((grid.rows - 1 - r) * grid.cols + c) * 4;
        if (v <= 0) {
          img.data.set([246, 247, 249, 255], o);
          continue;
        }
        const [R, G, B] = rampColor(Math.sqrt(v / (grid.colMax[c] || 1)));
        img.data.set([R, G, B, 255], o);
      }
    }
    // draw the small grid image scaled up, without smoothing between cells
    const tmp = document.createElement("canvas");
    tmp.width = img.width;
    tmp.height = img.height;
    tmp.getContext("2d")!.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, PAD.left, PAD.top, pw, ph);
    // the picked step
    const cx = PAD.left + ((index + 0.5) / grid.cols) * pw;
    ctx.strokeStyle = "rgba(220, 38, 38, 0.9)";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(cx, PAD.top);
    ctx.lineTo(cx, PAD.top + ph);
    ctx.stroke();
    // axes labels: value range on the left, steps below
    ctx.fillStyle = "#5b6472";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    ctx.fillText(short(grid.hi), PAD.left - 4, PAD.top);
    ctx.textBaseline = "bottom";
    ctx.fillText(short(grid.lo), PAD.left - 4, PAD.top + ph);
    ctx.textBaseline = "middle";
    ctx.fillText(short((grid.lo + grid.hi) / 2), PAD.left - 4, PAD.top + ph / 2);
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(`step ${hists[0].step}`, PAD.left, PAD.top + ph + 4);
    ctx.textAlign = "right";
    ctx.fillText(`step ${hists[hists.length - 1].step}`, PAD.left + pw, PAD.top + ph + 4);
  }, [grid, hists, index]);

  useEffect(() => {
    const canvas = barsRef.current;
    if (!canvas || !current) return;
    const { ctx, w, h } = setup(canvas);
    const pw = w - PAD.left - PAD.right;
    const ph = h - PAD.top - PAD.bottom;
    const { edges, counts } = current;
    const lo = edges[0];
    const hi = edges[edges.length - 1] === lo ? lo + 1 : edges[edges.length - 1];
    const max = Math.max(1e-12, ...counts);
    ctx.fillStyle = "#4e79a7";
    counts.forEach((n, i) => {
      const x0 = PAD.left + ((edges[i] - lo) / (hi - lo)) * pw;
      const x1 = PAD.left + ((edges[i + 1] - lo) / (hi - lo)) * pw;
      const bh = (n / max) * ph;
      ctx.fillRect(x0, PAD.top + ph - bh, Math.max(1, x1 - x0 - 0.5), bh);
    });
    ctx.fillStyle = "#5b6472";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(short(lo), PAD.left, PAD.top + ph + 4);
    ctx.textAlign = "right";
    ctx.fillText(short(edges[edges.length - 1]), PAD.left + pw, PAD.top + ph + 4);
    ctx.textBaseline = "top";
    ctx.fillText(short(max), PAD.left - 4, PAD.top);
  }, [current]);

  const onHeatMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const pw = rect.width - PAD.left - PAD.right;
    const ph = rect.height - PAD.top - PAD.bottom;
    const c = Math.floor(((e.clientX - rect.left - PAD.left) / pw) * grid.cols);
    const r = grid.rows - 1 - Math.floor(((e.clientY - rect.top - PAD.top) / ph) * grid.rows);
    if (c < 0 || c >= grid.cols || r < 0 || r >= grid.rows) return setHover("");
    const step = (grid.hi - grid.lo) / grid.rows;
    setHover(
      `step ${hists[c].step}: ${formatValue(grid.lo + r * step)} … ${formatValue(grid.lo + (r + 1) * step)} ≈ ${formatValue(Math.round(grid.cells[c * grid.rows + r] * 10) / 10)}`,
    );
  };
  const onHeatClick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left - PAD.left) / (rect.width - PAD.left - PAD.right)) * grid.cols);
    if (c >= 0 && c < grid.cols) setPick(c === grid.cols - 1 ? null : c);
  };

  return (
    <section className="chart-card hist-card" data-histogram={hkey} data-steps={hists.length}>
      <header className="chart-head">
        <h3>{hkey}</h3>
        <span className="muted small">
          {hover || (hists.length ? plural(hists.length, "step") : failed ? `could not load: ${failed}` : "loading…")}
        </span>
      </header>
      <canvas ref={heatRef} className="heat" onMouseMove={onHeatMove} onMouseLeave={() => setHover("")} onClick={onHeatClick} />
      {current && (
        <>
          <label className="hist-slider">
            <span>step {current.step}</span>
            <input
              type="range"
              min={0}
              max={hists.length - 1}
              value={index}
              onChange={(e) => {
                const v = Number(e.target.value);
                setPick(v === hists.length - 1 ? null : v);
              }}
              aria-label={`${hkey} step`}
            />
          </label>
          <canvas ref={barsRef} className="bars" />
        </>
      )}
    </section>
  );
}

function setup(canvas: HTMLCanvasElement) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}
