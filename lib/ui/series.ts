import type { Bucket as ApiBucket } from "../series/get-series";
import { decodeValue, type WireNumber } from "../values";

// Series as the charts hold them: the API's buckets with wire values decoded to numbers.
// min/max/mean are null when a bucket holds no finite value; its non-finite values are counted in
// nan/posInf/negInf (an exact NaN point is a bucket of one with nan = 1), so markers never miss one.

/** A bucket as GET /api/v1/runs/{id}/series sends it. */
export type WireBucket = ApiBucket;

export interface WireSeries {
  key: string;
  from: number;
  to: number;
  exact: boolean;
  buckets: WireBucket[];
}

export interface Bucket {
  step: number;
  lastStep: number;
  time: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  last: number;
  count: number;
  nan: number;
  posInf: number;
  negInf: number;
}

/** A point as socket.io `points` events carry it: [step, value, time]. */
export type { LivePoint } from "../contract/socket";
import type { LivePoint } from "../contract/socket";

const finiteOrNull = (v: WireNumber | null): number | null => {
  if (v === null) return null;
  const n = decodeValue(v);
  return Number.isFinite(n) ? n : null;
};

export function decodeBucket(b: WireBucket): Bucket {
  return {
    step: b.step,
    lastStep: b.lastStep,
    time: b.time,
    min: finiteOrNull(b.min),
    max: finiteOrNull(b.max),
    mean: finiteOrNull(b.mean),
    last: decodeValue(b.last),
    count: b.count,
    nan: b.nan,
    posInf: b.posInf,
    negInf: b.negInf,
  };
}

export function pointBucket(step: number, value: number, time: number): Bucket {
  const finite = Number.isFinite(value);
  return {
    step,
    lastStep: step,
    time,
    min: finite ? value : null,
    max: finite ? value : null,
    mean: finite ? value : null,
    last: value,
    count: 1,
    nan: Number.isNaN(value) ? 1 : 0,
    posInf: value === Infinity ? 1 : 0,
    negInf: value === -Infinity ? 1 : 0,
  };
}

/** Finite points in a bucket: how much of a mean (and of the smoothed average) it stands for. */
export const finiteCount = (b: Pick<Bucket, "count" | "nan" | "posInf" | "negInf">) => Math.max(0, b.count - b.nan - b.posInf - b.negInf);

/** True when the bucket is a single logged point (drawn as the value, no min/max band). */
export const isExact = (b: Bucket) => b.count <= 1 && b.step === b.lastStep;

/**
 * Appends live points to a chart's buckets without re-fetching. A point past the end becomes a
 * bucket of its own; a step logged again replaces an exact point (as the server does); a point
 * inside a downsampled bucket widens that bucket's min/max so a spike still shows until the next
 * refetch re-buckets the series. Returns a new array (React state) and how many points it added.
 */
export function appendLive(buckets: readonly Bucket[], points: readonly LivePoint[]): { buckets: Bucket[]; added: number } {
  const out = buckets.slice();
  let added = 0;
  const sorted = points.length > 1 ? [...points].sort((a, b) => a[0] - b[0]) : points;
  for (const [step, wire, time] of sorted) {
    const value = decodeValue(wire);
    const last = out[out.length - 1];
    if (!last || step > last.lastStep) {
      out.push(pointBucket(step, value, time));
      added++;
      continue;
    }
    const i = findBucket(out, step);
    if (i < 0) {
      out.splice(~i, 0, pointBucket(step, value, time));
      added++;
    } else if (isExact(out[i])) {
      out[i] = pointBucket(step, value, out[i].time);
    } else {
      out[i] = foldInto(out[i], value);
      added++;
    }
  }
  return { buckets: out, added };
}

/** Index of the bucket whose [step, lastStep] holds `step`, or ~insertion index. */
function findBucket(bs: readonly Bucket[], step: number): number {
  let lo = 0;
  let hi = bs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bs[mid].lastStep < step) lo = mid + 1;
    else if (bs[mid].step > step) hi = mid - 1;
    else return mid;
  }
  return ~lo;
}

function foldInto(b: Bucket, value: number): Bucket {
  const out = { ...b, count: b.count + 1, last: value };
  if (Number.isNaN(value)) out.nan++;
  else if (value === Infinity) out.posInf++;
  else if (value === -Infinity) out.negInf++;
  else {
    const finite = finiteCount(b);
    out.min = b.min === null ? value : Math.min(b.min, value);
    out.max = b.max === null ? value : Math.max(b.max, value);
    out.mean = b.mean === null ? value : (b.mean * finite + value) / (finite + 1);
  }
  return out;
}

export interface NonFiniteCounts {
  nan: number;
  posInf: number;
  negInf: number;
}

export function nonFiniteCounts(buckets: readonly Bucket[]): NonFiniteCounts {
  const c = { nan: 0, posInf: 0, negInf: 0 };
  for (const b of buckets) {
    c.nan += b.nan;
    c.posInf += b.posInf;
    c.negInf += b.negInf;
  }
  return c;
}
