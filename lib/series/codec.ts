import zlib from "node:zlib";

// Binary forms of a series' points.
// - Pending batch: the points of one batch, every series of it, packed uncompressed (one row per
//   batch, so ingest writes once per batch).
// - Chunk: a sealed run of >= CHUNK_POINTS points, compressed: steps as varint deltas, times as
//   millisecond varint deltas, values as byte-shuffled float64 (exact, NaN bits included), deflated.
//   Points the delta form cannot hold exactly (a time of 1e306 s, steps that are not safe integers,
//   NaN times) get the raw form instead: every field a float64, nothing rounded.
// - Summary: 13 float64s describing a step range; chunks keep one for themselves and one per
//   SUB_POINTS points ("subs") so that any zoom level is answered without decoding points.
// Every decoder checks its input's bounds and throws CorruptData rather than looping or reading
// past the end: a stored blob, whatever it holds, can cost at most one pass over its bytes.

export const CHUNK_POINTS = 1024;
export const SUB_POINTS = 64;

/** Thrown for a stored blob that does not decode; the caller quarantines it (quarantine.ts). */
export class CorruptData extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CorruptData";
  }
}

// Decompressed size a chunk may have: far above any chunk compaction writes (about 1,300 points of
// at most 26 bytes), small enough that a hostile blob cannot inflate into memory exhaustion.
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

export interface Points {
  steps: number[];
  values: number[];
  times: number[];
}

export function emptyPoints(): Points {
  return { steps: [], values: [], times: [] };
}

/** Appends `p`'s points to `into` (a loop: spreading a long array into push() overflows the stack). */
export function appendPoints(into: Points, p: Points): void {
  for (let i = 0; i < p.steps.length; i++) {
    into.steps.push(p.steps[i]);
    into.values.push(p.values[i]);
    into.times.push(p.times[i]);
  }
}

/** Packs the points of one batch: [seriesId, n, steps x n, values x n, times x n] per series. */
export function encodePending(parts: [number, Points][]): Buffer {
  let len = 0;
  for (const [, p] of parts) len += 2 + 3 * p.steps.length;
  const a = new Float64Array(len);
  let o = 0;
  for (const [id, p] of parts) {
    const n = p.steps.length;
    a[o++] = id;
    a[o++] = n;
    for (let i = 0; i < n; i++) {
      a[o + i] = p.steps[i];
      a[o + n + i] = p.values[i];
      a[o + 2 * n + i] = p.times[i];
    }
    o += 3 * n;
  }
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function decodePending(buf: Uint8Array): [number, Points][] {
  if (buf.byteLength % 8 !== 0) throw new CorruptData(`pending batch of ${buf.byteLength} bytes is not a whole number of float64s`);
  const a = new Float64Array(toArrayBuffer(buf));
  const out: [number, Points][] = [];
  for (let o = 0; o < a.length; ) {
    const id = a[o++];
    const n = a[o++];
    // a bad count (NaN, negative, fractional, past the end) would stall or rewind the loop
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(n) || n < 0 || o + 3 * n > a.length) {
      throw new CorruptData(`pending batch holds a bad series header at float ${o - 2}`);
    }
    out.push([
      id,
      {
        steps: Array.from(a.subarray(o, o + n)),
        values: Array.from(a.subarray(o + n, o + 2 * n)),
        times: Array.from(a.subarray(o + 2 * n, o + 3 * n)),
      },
    ]);
    o += 3 * n;
  }
  return out;
}

function toArrayBuffer(buf: Uint8Array): ArrayBuffer {
  // Float64Array needs 8-byte alignment; SQLite blobs come back as fresh Buffers that may not be.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return copy.buffer;
}

class Writer {
  buf = Buffer.allocUnsafe(1024);
  len = 0;
  ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  varint(v: number) {
    // unsigned, up to 2^53-1 (at most 8 bytes); anything else would loop forever (Infinity) or
    // lose bits, so the encoder checks first (deltaEncodable) and this is the last guard
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  zigzag(v: number) {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  byte(v: number) {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  f64(v: number) {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }
  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  /** Bytes left to read. */
  get left(): number {
    return this.buf.length - this.pos;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new CorruptData("chunk ends early");
    return this.buf[this.pos++];
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    // at most 8 bytes (2^56 > 2^53): a run of continuation bytes cannot keep the loop going
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
    throw new CorruptData("varint longer than 8 bytes");
  }
  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  f64(): number {
    if (this.left < 8) throw new CorruptData("chunk ends early");
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

// A chunk's first varint is its point count, never 0 in the delta form; 0 is followed by a format byte.
const FORMAT_RAW = 1;

/**
 * True when the delta form holds these points: strictly increasing safe-integer steps and times
 * whose millisecond values and deltas are safe integers (|t| up to about 285,000 years).
 */
export function deltaEncodable(p: Points): boolean {
  const n = p.steps.length;
  if (n === 0) return false;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const s = p.steps[i];
    if (!Number.isSafeInteger(s) || s <= prev) return false;
    prev = s;
  }
  let prevT = Math.round(p.times[0] * 1000);
  for (let i = 0; i < n; i++) {
    const t = Math.round(p.times[i] * 1000);
    // zigzag doubles the delta: keep it a safe integer
    if (!Number.isSafeInteger(t) || !Number.isSafeInteger(2 * (t - prevT))) return false;
    prevT = t;
  }
  return true;
}

/** Compresses points (sorted by step); points the delta form cannot hold go in the raw form. */
export function encodeChunk(p: Points): Buffer {
  return zlib.deflateRawSync(deltaEncodable(p) ? deltaBody(p) : rawBody(p), { level: 6 });
}

function deltaBody(p: Points): Buffer {
  const n = p.steps.length;
  const w = new Writer();
  w.varint(n);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    w.varint(p.steps[i] - prev);
    prev = p.steps[i];
  }
  const t0 = n ? Math.round(p.times[0] * 1000) : 0;
  w.f64(t0);
  let prevT = t0;
  for (let i = 0; i < n; i++) {
    const t = Math.round(p.times[i] * 1000);
    w.zigzag(t - prevT);
    prevT = t;
  }
  w.bytes(shuffle(p.values));
  return w.done();
}

/** Every field a float64, exact: [0, FORMAT_RAW, varint n, steps, times, shuffled values]. */
function rawBody(p: Points): Buffer {
  const n = p.steps.length;
  const w = new Writer();
  w.varint(0);
  w.byte(FORMAT_RAW);
  w.varint(n);
  for (let i = 0; i < n; i++) w.f64(p.steps[i]);
  for (let i = 0; i < n; i++) w.f64(p.times[i]);
  w.bytes(shuffle(p.values));
  return w.done();
}

// Byte-shuffle: all first bytes of the float64s, then all second bytes, ... Exponents and high
// mantissa bytes repeat across a series, which deflate then squeezes.
function shuffle(values: number[]): Uint8Array {
  const n = values.length;
  const raw = new Uint8Array(new Float64Array(values).buffer);
  const shuffled = new Uint8Array(raw.length);
  for (let b = 0; b < 8; b++) for (let i = 0; i < n; i++) shuffled[b * n + i] = raw[i * 8 + b];
  return shuffled;
}

function unshuffle(r: Reader, n: number, into: number[]): void {
  if (r.left !== 8 * n) throw new CorruptData(`chunk holds ${r.left} value bytes for ${n} points`);
  const raw = new Uint8Array(8 * n);
  const off = r.pos;
  for (let b = 0; b < 8; b++) for (let i = 0; i < n; i++) raw[i * 8 + b] = r.buf[off + b * n + i];
  const vals = new Float64Array(raw.buffer);
  for (let i = 0; i < n; i++) into.push(vals[i]);
  r.pos += 8 * n;
}

/** Decodes a chunk, appending its points to `into`; throws CorruptData for a blob that is not one (and appends nothing). */
export function decodeChunk(buf: Uint8Array, into: Points = emptyPoints()): Points {
  let body: Buffer;
  try {
    body = zlib.inflateRawSync(buf, { maxOutputLength: MAX_CHUNK_BYTES });
  } catch (e) {
    throw new CorruptData(`chunk does not inflate: ${(e as Error).message}`);
  }
  const r = new Reader(body);
  let n = r.varint();
  const raw = n === 0 && r.left > 0 && r.buf[r.pos] === FORMAT_RAW;
  if (raw) {
    r.pos++;
    n = r.varint();
  }
  // every point takes at least 10 bytes (delta, after the 8-byte first time) or 24 (raw)
  if ((raw ? n * 24 : n * 10 + 8) > r.left) throw new CorruptData(`chunk claims ${n} points in ${r.left} bytes`);
  // straight into `into`; a blob found corrupt half way takes back what it appended
  const { steps, times, values } = into;
  const [stepsBase, timesBase, valuesBase] = [steps.length, times.length, values.length];
  try {
    if (raw) {
      for (let i = 0; i < n; i++) steps.push(r.f64());
      for (let i = 0; i < n; i++) times.push(r.f64());
    } else {
      let step = 0;
      for (let i = 0; i < n; i++) {
        step += r.varint();
        steps.push(step);
      }
      let t = r.f64();
      for (let i = 0; i < n; i++) {
        t += r.zigzag();
        times.push(t / 1000);
      }
    }
    unshuffle(r, n, values);
  } catch (e) {
    steps.length = stepsBase;
    times.length = timesBase;
    values.length = valuesBase;
    throw e;
  }
  return into;
}

/**
 * Aggregate of a step range. min/max/sum cover finite values only; non-finite ones are counted.
 * `sum` is the plain sum (what a mean is computed from while it is finite); `sumScaled` is the
 * same sum times 2^-SCALE_BITS, which cannot overflow (|values| < 2^1024, at most 2^53 of them), so
 * a bucket of values near 1.8e308 still has a mean. Once `sum` overflows it stays non-finite.
 */
export interface Summary {
  startStep: number;
  endStep: number;
  firstTime: number;
  count: number;
  finite: number;
  sum: number;
  min: number;
  max: number;
  nan: number;
  posInf: number;
  negInf: number;
  last: number;
  sumScaled: number;
}

const SCALE_BITS = 64;
const SCALE_DOWN = 2 ** -SCALE_BITS;
const SCALE_UP = 2 ** SCALE_BITS;

// Stored layouts: v1 (before sumScaled) is 12 float64s per summary, no header; v2 starts with this
// 8-byte tag (a tiny non-integer as a float64, so never a v1 startStep) and has 13 per summary.
const V1_FIELDS = 12;
const V2_FIELDS = 13;
const V2_TAG = Buffer.from("bsum\x02\x00\x00\x00", "latin1");

export function newSummary(step: number, time: number): Summary {
  return {
    startStep: step,
    endStep: step,
    firstTime: time,
    count: 0,
    finite: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    nan: 0,
    posInf: 0,
    negInf: 0,
    last: NaN,
    sumScaled: 0,
  };
}

export function addPoint(s: Summary, step: number, value: number): void {
  s.endStep = step;
  s.count++;
  s.last = value;
  if (Number.isFinite(value)) {
    s.finite++;
    s.sum += value;
    s.sumScaled += value * SCALE_DOWN;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
  } else if (Number.isNaN(value)) s.nan++;
  else if (value > 0) s.posInf++;
  else s.negInf++;
}

/** Folds `b` (which comes after `a` in step order) into `a`. */
export function mergeSummary(a: Summary, b: Summary): void {
  a.endStep = b.endStep;
  a.count += b.count;
  a.finite += b.finite;
  a.sum += b.sum;
  a.sumScaled += b.sumScaled;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  a.nan += b.nan;
  a.posInf += b.posInf;
  a.negInf += b.negInf;
  a.last = b.last;
}

/**
 * The mean of a summary's finite values, or null when it has none. Exact-as-summed while the plain
 * sum is finite; from the scaled sum when it overflowed; always within [min, max].
 */
export function summaryMean(s: Summary): number | null {
  if (!s.finite) return null;
  let m = s.sum / s.finite;
  if (!Number.isFinite(m)) m = (s.sumScaled / s.finite) * SCALE_UP;
  if (!Number.isFinite(m)) return null; // a v1 summary whose sum overflowed: nothing to go on
  // rounding can step just outside the range (three 0.1s average to 0.10000000000000002)
  return Math.min(s.max, Math.max(s.min, m));
}

export function summarize(p: Points, from = 0, to = p.steps.length): Summary {
  const s = newSummary(p.steps[from], p.times[from]);
  for (let i = from; i < to; i++) addPoint(s, p.steps[i], p.values[i]);
  return s;
}

export function encodeSummaries(list: Summary[]): Buffer {
  const a = new Float64Array(1 + list.length * V2_FIELDS);
  new Uint8Array(a.buffer, 0, 8).set(V2_TAG);
  list.forEach((s, i) => {
    a.set(
      [s.startStep, s.endStep, s.firstTime, s.count, s.finite, s.sum, s.min, s.max, s.nan, s.posInf, s.negInf, s.last, s.sumScaled],
      1 + i * V2_FIELDS,
    );
  });
  return Buffer.from(a.buffer);
}

export function decodeSummaries(buf: Uint8Array): Summary[] {
  const v2 = buf.byteLength >= 8 && Buffer.from(buf.buffer, buf.byteOffset, 8).equals(V2_TAG);
  const fields = v2 ? V2_FIELDS : V1_FIELDS;
  const start = v2 ? 1 : 0;
  if (buf.byteLength % 8 !== 0 || (buf.byteLength / 8 - start) % fields !== 0) {
    throw new CorruptData(`summary blob of ${buf.byteLength} bytes is not whole summaries`);
  }
  const a = new Float64Array(toArrayBuffer(buf));
  const out: Summary[] = [];
  for (let o = start; o < a.length; o += fields) {
    out.push({
      startStep: a[o],
      endStep: a[o + 1],
      firstTime: a[o + 2],
      count: a[o + 3],
      finite: a[o + 4],
      sum: a[o + 5],
      min: a[o + 6],
      max: a[o + 7],
      nan: a[o + 8],
      posInf: a[o + 9],
      negInf: a[o + 10],
      last: a[o + 11],
      // v1 kept the plain sum only: scale it (exact while it is finite)
      sumScaled: v2 ? a[o + 12] : a[o + 5] * SCALE_DOWN,
    });
  }
  return out;
}

/** The per-SUB_POINTS summaries of sorted points. */
export function subSummaries(p: Points): Summary[] {
  const out: Summary[] = [];
  for (let i = 0; i < p.steps.length; i += SUB_POINTS) out.push(summarize(p, i, Math.min(i + SUB_POINTS, p.steps.length)));
  return out;
}

/**
 * Sorts points by step; of several points with the same step the one that came last wins
 * (a step logged again replaces the old value).
 */
export function sortDedupe(p: Points): Points {
  const n = p.steps.length;
  let sorted = true;
  for (let i = 1; i < n; i++)
    if (p.steps[i] <= p.steps[i - 1]) {
      sorted = false;
      break;
    }
  if (sorted) return p;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => p.steps[a] - p.steps[b] || a - b);
  const out = emptyPoints();
  for (let k = 0; k < n; k++) {
    const i = idx[k];
    const last = out.steps.length - 1;
    if (last >= 0 && out.steps[last] === p.steps[i]) {
      out.values[last] = p.values[i];
      out.times[last] = p.times[i];
    } else {
      out.steps.push(p.steps[i]);
      out.values.push(p.values[i]);
      out.times.push(p.times[i]);
    }
  }
  return out;
}
