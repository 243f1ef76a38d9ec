import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { encodeValue, type WireNumber } from "../values";
import {
  type Points,
  type Summary,
  SUB_POINTS,
  addPoint,
  decodeChunk,
  decodeSummaries,
  emptyPoints,
  mergeSummary,
  newSummary,
  summaryMean,
} from "./codec";
import { type SeriesMeta, cachedRunSeries, quarantineChunk, runSeries } from "./series-meta";

// The read path: a series over [from, to] as at most `points` buckets. Answered from the chunks'
// precomputed summaries at the coarsest level that still gives several units per bucket, so a
// 1M-point series reads about a thousand small rows, never its points. min/max keep every spike,
// nan/posInf/negInf count every non-finite value.

export interface Bucket {
  step: number;
  lastStep: number;
  time: number;
  min: WireNumber | null;
  max: WireNumber | null;
  mean: WireNumber | null;
  last: WireNumber;
  count: number;
  nan: number;
  posInf: number;
  negInf: number;
}

export interface SeriesResult {
  key: string;
  from: number;
  to: number;
  exact: boolean;
  buckets: Bucket[];
}

export interface SeriesQuery {
  points: number;
  from?: number;
  to?: number;
}

// Ranges estimated to hold fewer points than this are read point by point.
const RAW_LIMIT = 20_000;

interface ChunkInfo {
  id: number;
  start_step: number;
  end_step: number;
  count: number;
}

export function getSeries(runId: string, key: string, q: SeriesQuery): SeriesResult {
  // an unknown run is answered before its (empty) series would be loaded and kept in the cache
  if (!cachedRunSeries(runId) && !stmt(sqlite(), "SELECT 1 FROM runs WHERE id = ?").get(runId)) {
    throw new AppError("not_found", `run ${runId} does not exist`);
  }
  const meta = runSeries(runId).get(key);
  if (!meta || meta.count === 0) throw new AppError("not_found", `run ${runId} has no series "${key}"`);
  const from = Math.max(q.from ?? meta.firstStep, 0);
  const to = Math.min(q.to ?? meta.lastStep, Number.MAX_SAFE_INTEGER);
  if (from > to) return { key, from, to, exact: true, buckets: [] };

  const db = sqlite();
  const chunks = stmt(
    db,
    "SELECT id, start_step, end_step, count FROM chunks WHERE series_id = ? AND end_step >= ? AND start_step <= ? ORDER BY start_step",
  ).all(meta.id, from, to) as ChunkInfo[];
  const pending = to > meta.sealedMaxStep ? inRange(meta.pending, from, to) : emptyPoints();

  let estimate = pending.steps.length;
  for (const c of chunks) {
    const span = c.end_step - c.start_step + 1;
    const overlap = Math.min(c.end_step, to) - Math.max(c.start_step, from) + 1;
    estimate += (c.count * overlap) / span;
  }

  if (estimate <= Math.max(RAW_LIMIT, q.points * 4)) {
    const raw = emptyPoints();
    const read = stmt(db, "SELECT data FROM chunks WHERE id = ?");
    for (const c of chunks) appendInRange(raw, chunkPoints(meta, c, (read.get(c.id) as { data: Buffer }).data), from, to);
    appendInRange(raw, pending, from, to);
    if (raw.steps.length <= q.points) return { key, from, to, exact: true, buckets: exactBuckets(raw) };
    const b = new Bucketer(from, to, q.points);
    for (let i = 0; i < raw.steps.length; i++) b.addPoint(raw.steps[i], raw.values[i], raw.times[i]);
    return { key, from, to, exact: false, buckets: b.result() };
  }

  // Summary units: per-chunk ones when a bucket spans many chunks, else the finer per-SUB_POINTS ones.
  const useSubs = estimate / q.points < SUB_POINTS * 64;
  const b = new Bucketer(from, to, q.points);
  const readRaw = stmt(db, "SELECT data FROM chunks WHERE id = ?");
  const readSummary = stmt(db, useSubs ? "SELECT subs AS s FROM chunks WHERE id = ?" : "SELECT summary AS s FROM chunks WHERE id = ?");
  for (const c of chunks) {
    if (c.start_step >= from && c.end_step <= to) {
      let units: Summary[];
      try {
        units = decodeSummaries((readSummary.get(c.id) as { s: Buffer }).s);
      } catch (e) {
        quarantineChunk(db, meta, c, e);
        continue;
      }
      for (const s of units) b.addSummary(s);
    } else {
      const p = inRange(chunkPoints(meta, c, (readRaw.get(c.id) as { data: Buffer }).data), from, to);
      for (let i = 0; i < p.steps.length; i++) b.addPoint(p.steps[i], p.values[i], p.times[i]);
    }
  }
  for (let i = 0; i < pending.steps.length; i++) b.addPoint(pending.steps[i], pending.values[i], pending.times[i]);
  return { key, from, to, exact: false, buckets: b.result() };
}

/** A chunk's points; one that does not decode is set aside (quarantine.ts) and reads as empty. */
function chunkPoints(meta: SeriesMeta, c: ChunkInfo, data: Buffer): Points {
  try {
    return decodeChunk(data);
  } catch (e) {
    quarantineChunk(sqlite(), meta, c, e);
    return emptyPoints();
  }
}

function inRange(p: Points, from: number, to: number): Points {
  const out = emptyPoints();
  appendInRange(out, p, from, to);
  return out;
}

function appendInRange(out: Points, p: Points, from: number, to: number): void {
  for (let i = 0; i < p.steps.length; i++) {
    const s = p.steps[i];
    if (s < from || s > to) continue;
    out.steps.push(s);
    out.values.push(p.values[i]);
    out.times.push(p.times[i]);
  }
}

function exactBuckets(p: Points): Bucket[] {
  const out: Bucket[] = [];
  for (let i = 0; i < p.steps.length; i++) {
    const v = p.values[i];
    const w = encodeValue(v);
    out.push({
      step: p.steps[i],
      lastStep: p.steps[i],
      time: p.times[i],
      min: w,
      max: w,
      mean: w,
      last: w,
      count: 1,
      nan: Number.isNaN(v) ? 1 : 0,
      posInf: v === Infinity ? 1 : 0,
      negInf: v === -Infinity ? 1 : 0,
    });
  }
  return out;
}

/** Folds points and summaries (in step order) into `points` equal step ranges over [from, to]. */
class Bucketer {
  private readonly width: number;
  private readonly acc = new Map<number, Summary>();
  private readonly order: number[] = [];

  constructor(
    private readonly from: number,
    to: number,
    private readonly points: number,
  ) {
    this.width = (to - from + 1) / points;
  }

  private slot(step: number): Summary | undefined {
    const i = Math.min(this.points - 1, Math.max(0, Math.floor((step - this.from) / this.width)));
    const got = this.acc.get(i);
    if (!got) this.order.push(i);
    return got;
  }

  addPoint(step: number, value: number, time: number): void {
    let s = this.slot(step);
    if (!s) {
      s = newSummary(step, time);
      this.acc.set(this.order[this.order.length - 1], s);
    }
    addPoint(s, step, value);
  }

  addSummary(unit: Summary): void {
    const s = this.slot(unit.startStep);
    if (s) mergeSummary(s, unit);
    else this.acc.set(this.order[this.order.length - 1], { ...unit });
  }

  result(): Bucket[] {
    return this.order.map((i) => {
      const s = this.acc.get(i)!;
      return {
        step: s.startStep,
        lastStep: s.endStep,
        time: s.firstTime,
        min: s.finite ? s.min : null,
        max: s.finite ? s.max : null,
        mean: summaryMean(s),
        last: encodeValue(s.last),
        count: s.count,
        nan: s.nan,
        posInf: s.posInf,
        negInf: s.negInf,
      };
    });
  }
}
