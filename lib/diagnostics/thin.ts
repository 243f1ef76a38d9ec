import type { HistogramRecord, RunEvent, SeriesPoints } from "./types";

// What the diagnostics keep in memory for a long live run, within a budget: the first points and
// the recent half at full resolution, the middle as the extremes of equal buckets. min, max and
// the first NaN / +Inf / -Inf of every bucket survive, so a spike, a best value or a divergence
// is never thinned away; the recent window the rules read ("last 20% of the points") lies in the
// full-resolution tail.

/** Points at the start of a series always kept (initial-loss checks read the first few). */
export const HEAD_POINTS = 256;

/**
 * Thins `s` in place to at most `cap` points when it holds more; returns whether it did.
 * After thinning the series holds about 0.77 x cap points (0.98 x cap at worst, when every bucket
 * holds all three non-finite kinds), so thinning costs amortized O(1) per point.
 */
export function thinSeries(s: SeriesPoints, cap: number): boolean {
  const n = s.steps.length;
  if (n <= cap) return false;
  const head = Math.min(HEAD_POINTS, Math.floor(cap / 8));
  const tail = Math.floor(cap / 2);
  const from = head;
  const to = n - tail;
  // at most 5 points a bucket (min, max, first NaN, first +Inf, first -Inf): at most 0.98 x cap in all
  const buckets = Math.max(1, Math.floor(cap / 14));
  const size = Math.ceil((to - from) / buckets);
  const steps = s.steps.slice(0, from);
  const values = s.values.slice(0, from);
  const keep: number[] = [];
  for (let b = from; b < to; b += size) {
    const end = Math.min(to, b + size);
    let lo = -1;
    let hi = -1;
    let nan = -1;
    let pos = -1;
    let neg = -1;
    for (let i = b; i < end; i++) {
      const v = s.values[i];
      if (!Number.isFinite(v)) {
        if (Number.isNaN(v)) nan = nan < 0 ? i : nan;
        else if (v > 0) pos = pos < 0 ? i : pos;
        else neg = neg < 0 ? i : neg;
        continue;
      }
      if (lo < 0 || v < s.values[lo]) lo = i;
      if (hi < 0 || v > s.values[hi]) hi = i;
    }
    keep.length = 0;
    for (const i of [lo, hi, nan, pos, neg]) if (i >= 0 && !keep.includes(i)) keep.push(i);
    keep.sort((x, y) => x - y);
    for (const i of keep) {
      steps.push(s.steps[i]);
      values.push(s.values[i]);
    }
  }
  for (let i = to; i < n; i++) {
    steps.push(s.steps[i]);
    values.push(s.values[i]);
  }
  s.steps = steps;
  s.values = values;
  return true;
}

/** Histograms kept per key: the first few (initialization checks), the recent ones, every other between. */
export const HISTOGRAM_HEAD = 16;

/** Thins one key's histogram records (sorted by step) in place to at most `cap`. */
export function thinHistograms(list: HistogramRecord[], cap: number): boolean {
  if (list.length <= cap) return false;
  const head = Math.min(HISTOGRAM_HEAD, Math.floor(cap / 4));
  const tail = Math.floor(cap / 2);
  const kept = list.slice(0, head);
  const middle = list.slice(head, list.length - tail);
  const room = Math.max(0, cap - head - tail - Math.floor(cap / 8));
  const every = Math.max(1, Math.ceil(middle.length / Math.max(1, room)));
  for (let i = 0; i < middle.length; i += every) kept.push(middle[i]);
  kept.push(...list.slice(list.length - tail));
  list.splice(0, list.length, ...kept);
  return true;
}

/** Events kept per run: the first ones (input statistics come first) and the most recent. */
export function thinEvents(events: RunEvent[], cap: number): boolean {
  if (events.length <= cap) return false;
  const head = Math.floor(cap / 10);
  const tail = Math.floor((cap * 8) / 10);
  events.splice(head, events.length - head - tail);
  return true;
}

/** Bytes a JS array of n doubles takes with its growth slack, measured on V8 (8 bytes + about 50 %). */
export const BYTES_PER_NUMBER = 12;
