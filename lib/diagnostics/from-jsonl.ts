// Builds RunData from babysit's JSONL run format (the fixtures' metrics.jsonl):
//   {"kind":"config", ...}                      -> config (minus "kind"; several lines merge)
//   {"kind":"scalar","step","key","value"}      -> series[key]
//   {"kind":"hist","step","key","edges","counts"} -> histograms[key]
//   {"kind":"input_stats","mean","std",...}     -> event { type: "input_stats" }
//   {"kind":"event","type":T,...} or any other kind K -> event { type: T or K }
//   {"kind":"finish"|"finished"|"end"}          -> finished = true
// Values may be JSON numbers, the wire strings "NaN"/"Infinity"/"-Infinity", or the bare NaN /
// Infinity tokens that Python's json module writes.

import type { HistogramRecord, RunData, RunEvent, SeriesPoints } from "./types";

const BARE_NON_FINITE = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

function parseLine(line: string): any {
  try {
    return JSON.parse(line);
  } catch {
    // Quote bare NaN/Infinity outside strings, then parse again.
    return JSON.parse(line.replace(BARE_NON_FINITE, (m) => (m.startsWith('"') ? m : `"${m}"`)));
  }
}

export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const s = v.trim();
    if (s === "NaN" || s === "nan") return NaN;
    if (s === "Infinity" || s === "inf" || s === "+Infinity") return Infinity;
    if (s === "-Infinity" || s === "-inf") return -Infinity;
    return s === "" ? NaN : Number(s);
  }
  return NaN;
}

export function runDataFromJsonl(text: string): RunData {
  const config: Record<string, any> = {};
  const points = new Map<string, { steps: number[]; values: number[]; sorted: boolean }>();
  const histograms = new Map<string, HistogramRecord[]>();
  const events: RunEvent[] = [];
  let finished = false;

  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    let o: any;
    try {
      o = parseLine(line);
    } catch {
      continue; // a torn last line while the file is being written
    }
    if (!o || typeof o !== "object") continue;
    const { kind, ...rest } = o;
    const step = typeof o.step === "number" ? o.step : null;
    switch (kind) {
      case "config":
        Object.assign(config, rest);
        break;
      case "scalar": {
        if (typeof o.key !== "string" || step === null) break;
        let p = points.get(o.key);
        if (!p) points.set(o.key, (p = { steps: [], values: [], sorted: true }));
        if (p.steps.length > 0 && step < p.steps[p.steps.length - 1]) p.sorted = false;
        p.steps.push(step);
        p.values.push(toNumber(o.value));
        break;
      }
      case "hist": {
        if (typeof o.key !== "string" || step === null || !Array.isArray(o.edges) || !Array.isArray(o.counts)) break;
        let list = histograms.get(o.key);
        if (!list) histograms.set(o.key, (list = []));
        list.push({ step, edges: o.edges.map(toNumber), counts: o.counts.map(toNumber) });
        break;
      }
      case "finish":
      case "finished":
      case "end":
        finished = true;
        break;
      default: {
        if (typeof kind !== "string") break;
        const type = kind === "event" && typeof o.type === "string" ? o.type : kind;
        const data: Record<string, any> = { ...rest };
        if (kind === "event") delete data.type;
        delete data.step;
        // input statistics describe the data as fed from the start
        const at = step ?? (type === "input_stats" ? 0 : null);
        events.push({ type, step: at, data: kind === "event" && "data" in data ? data.data : data });
      }
    }
  }

  const series = new Map<string, SeriesPoints>();
  for (const [key, p] of points) {
    if (p.sorted) {
      series.set(key, { steps: p.steps, values: p.values });
    } else {
      const order = p.steps.map((_, i) => i).sort((a, b) => p.steps[a] - p.steps[b] || a - b);
      series.set(key, { steps: order.map((i) => p.steps[i]), values: order.map((i) => p.values[i]) });
    }
  }
  for (const list of histograms.values()) list.sort((a, b) => a.step - b.step);
  return { config, series, histograms, events, finished };
}
