import zlib from "node:zlib";

// Binary forms of a series' points.
// - Pending batch: the points of one batch, every series of it, packed uncompressed (one row per
//   batch, so ingest writes once per batch).
// - Chunk: a sealed run of >= CHUNK_POINTS points, compressed: steps as varint deltas, times as
//   millisecond varint deltas, values as byte-shuffled float64 (exact, NaN bits included), deflated.
// - Summary: 12 float64s describing a step range; chunks keep one for themselves and one per
//   SUB_POINTS points ("subs") so that any zoom level is answered without decoding points.

export const CHUNK_POINTS = 1024;
export const SUB_POINTS = 64;

export interface Points {
  steps: number[];
  values: number[];
  times: number[];
}

export function emptyPoints(): Points {
  return { steps: [], values: [], times: [] };
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
  const a = new Float64Array(toArrayBuffer(buf));
  const out: [number, Points][] = [];
  for (let o = 0; o < a.length; ) {
    const id = a[o++];
    const n = a[o++];
    out.push([id, { steps: Array.from(a.subarray(o, o + n)), values: Array.from(a.subarray(o + n, o + 2 * n)), times: Array.from(a.subarray(o + 2 * n, o + 3 * n)) }]);
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
    // unsigned, up to 2^53
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
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
  }
  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

/** Compresses sorted points (strictly increasing steps). */
export function encodeChunk(p: Points): Buffer {
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
  // Byte-shuffle: all first bytes of the float64s, then all second bytes, ... Exponents and high
  // mantissa bytes repeat across a series, which deflate then squeezes.
  const vals = new Float64Array(p.values);
  const raw = new Uint8Array(vals.buffer);
  const shuffled = new Uint8Array(raw.length);
  for (let b = 0; b < 8; b++) for (let i = 0; i < n; i++) shuffled[b * n + i] = raw[i * 8 + b];
  w.bytes(shuffled);
  return zlib.deflateRawSync(w.done(), { level: 6 });
}

export function decodeChunk(buf: Uint8Array, into: Points = emptyPoints()): Points {
  const r = new Reader(zlib.inflateRawSync(buf));
  const n = r.varint();
  const base = into.steps.length;
  let step = 0;
  for (let i = 0; i < n; i++) {
    step += r.varint();
    into.steps.push(step);
  }
  let t = r.f64();
  for (let i = 0; i < n; i++) {
    t += r.zigzag();
    into.times.push(t / 1000);
  }
  const raw = new Uint8Array(8 * n);
  const off = r.pos;
  for (let b = 0; b < 8; b++) for (let i = 0; i < n; i++) raw[i * 8 + b] = r.buf[off + b * n + i];
  const vals = new Float64Array(raw.buffer);
  for (let i = 0; i < n; i++) into.values.push(vals[i]);
  void base;
  return into;
}

/** Aggregate of a step range. min/max/sum cover finite values only; non-finite ones are counted. */
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
}

const SUMMARY_FIELDS = 12;

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
  };
}

export function addPoint(s: Summary, step: number, value: number): void {
  s.endStep = step;
  s.count++;
  s.last = value;
  if (Number.isFinite(value)) {
    s.finite++;
    s.sum += value;
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
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  a.nan += b.nan;
  a.posInf += b.posInf;
  a.negInf += b.negInf;
  a.last = b.last;
}

export function summarize(p: Points, from = 0, to = p.steps.length): Summary {
  const s = newSummary(p.steps[from], p.times[from]);
  for (let i = from; i < to; i++) addPoint(s, p.steps[i], p.values[i]);
  return s;
}

export function encodeSummaries(list: Summary[]): Buffer {
  const a = new Float64Array(list.length * SUMMARY_FIELDS);
  list.forEach((s, i) => {
    a.set(
      [s.startStep, s.endStep, s.firstTime, s.count, s.finite, s.sum, s.min, s.max, s.nan, s.posInf, s.negInf, s.last],
      i * SUMMARY_FIELDS,
    );
  });
  return Buffer.from(a.buffer);
}

export function decodeSummaries(buf: Uint8Array): Summary[] {
  const a = new Float64Array(toArrayBuffer(buf));
  const out: Summary[] = [];
  for (let o = 0; o < a.length; o += SUMMARY_FIELDS) {
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
  for (let i = 1; i < n; i++) if (p.steps[i] <= p.steps[i - 1]) { sorted = false; break; }
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
