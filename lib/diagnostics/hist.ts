// Histogram helpers: shares of mass in regions, and shape tests.

import type { HistogramRecord } from "./types";

export function total(h: HistogramRecord): number {
  let n = 0;
  for (const c of h.counts) if (Number.isFinite(c) && c > 0) n += c;
  return n;
}

/** Share of the mass in bins whose centre satisfies `pred`. */
export function shareWhere(h: HistogramRecord, pred: (centre: number) => boolean): number {
  const n = total(h);
  if (n <= 0 || h.edges.length !== h.counts.length + 1) return NaN;
  let hit = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (Number.isFinite(c) && c > 0 && pred((h.edges[i] + h.edges[i + 1]) / 2)) hit += c;
  }
  return hit / n;
}

export function isValid(h: HistogramRecord): boolean {
  return (
    Array.isArray(h.edges) &&
    Array.isArray(h.counts) &&
    h.counts.length > 0 &&
    h.edges.length === h.counts.length + 1 &&
    h.edges.every(Number.isFinite)
  );
}

/** The last `k` valid records. */
export function lastRecords(records: HistogramRecord[], k: number): HistogramRecord[] {
  const out: HistogramRecord[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < k; i--) if (isValid(records[i])) out.unshift(records[i]);
  return out;
}

/** Values confined to [-1, 1] with both signs well used: what a tanh layer produces. */
export function looksTanh(h: HistogramRecord): boolean {
  const lo = h.edges[0];
  const hi = h.edges[h.edges.length - 1];
  return lo >= -1.001 && hi <= 1.001 && lo < -0.5 && hi > 0.5;
}

export function looksSigmoid(h: HistogramRecord): boolean {
  const lo = h.edges[0];
  const hi = h.edges[h.edges.length - 1];
  return lo >= -0.001 && hi <= 1.001 && hi - lo > 0.5;
}
