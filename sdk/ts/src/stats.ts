// Statistics the server's diagnostics read, computed from plain arrays: the inputs' per-feature mean
// and std (event `input_stats`) and the range of a model's predictions and targets (`output_stats`).

/** Nested arrays of numbers: a batch of N examples, each a number, a feature vector or a (C, ...) array. */
export type NumericArray = number | ArrayLike<number> | ArrayLike<NumericArray>;

export interface InputStats {
  mean: number[];
  std: number[];
  n: number;
  split?: string;
}

export interface OutputStats {
  pred_min: number;
  pred_max: number;
  pred_mean: number;
  pred_std: number;
  target_min: number;
  target_max: number;
  target_mean: number;
  target_std: number;
  n: number;
  split?: string;
}

function isList(x: unknown): x is ArrayLike<unknown> {
  return typeof x === "object" && x !== null && typeof (x as ArrayLike<unknown>).length === "number";
}

function flatten(x: unknown, out: number[]): void {
  if (isList(x)) for (let i = 0; i < x.length; i++) flatten(x[i], out);
  else if (typeof x === "number") out.push(x);
  else throw new TypeError(`expected numbers, got ${x === null ? "null" : typeof x}`);
}

function meanStd(v: number[]): [number, number] {
  let s = 0;
  for (const x of v) s += x;
  const m = s / v.length;
  let q = 0;
  for (const x of v) q += (x - m) ** 2;
  return [m, Math.sqrt(q / v.length)];
}

/**
 * Per-feature mean and population std of a batch: the columns of an (N, F) input, the channels (dim 1)
 * of an (N, C, ...) one, the single feature of an (N,) one. Throws on an empty or ragged batch.
 *
 * @example
 * inputStats([[0, 10], [2, 10]]); // { mean: [1, 10], std: [1, 0], n: 2 }
 */
export function inputStats(x: NumericArray): InputStats {
  if (!isList(x) || x.length === 0) throw new TypeError("inputStats needs a batch of at least one example");
  const n = x.length;
  const cols: number[][] = [];
  for (let i = 0; i < n; i++) {
    const ex = (x as ArrayLike<unknown>)[i];
    const feats: number[][] = isList(ex)
      ? Array.from({ length: ex.length }, (_, j) => {
          const o: number[] = [];
          flatten(ex[j], o);
          return o;
        })
      : [[ex as number]];
    if (i === 0) for (let j = 0; j < feats.length; j++) cols.push([]);
    if (feats.length !== cols.length) throw new TypeError(`example ${i} has ${feats.length} features, the first has ${cols.length}`);
    for (let j = 0; j < feats.length; j++) for (const v of feats[j]!) cols[j]!.push(v);
  }
  if (cols.length === 0 || cols.some((c) => c.length === 0)) throw new TypeError("inputStats needs at least one value per feature");
  const ms = cols.map(meanStd);
  return { mean: ms.map((p) => p[0]), std: ms.map((p) => p[1]), n };
}

/**
 * Range, mean and population std of predictions and targets over all their entries (a NaN or infinity
 * anywhere makes that side's statistics NaN: a diverged model's output is data).
 *
 * @example
 * outputStats([0, 2], [-1, 3]).target_min; // -1
 */
export function outputStats(pred: NumericArray, target: NumericArray): OutputStats {
  const side = (x: NumericArray, what: string) => {
    const v: number[] = [];
    flatten(x, v);
    if (v.length === 0) throw new TypeError(`outputStats needs at least one ${what} value`);
    if (!v.every(Number.isFinite)) return { min: NaN, max: NaN, mean: NaN, std: NaN };
    let min = Infinity;
    let max = -Infinity;
    for (const a of v) {
      if (a < min) min = a;
      if (a > max) max = a;
    }
    const [mean, std] = meanStd(v);
    return { min, max, mean, std };
  };
  const p = side(pred, "prediction");
  const t = side(target, "target");
  return {
    pred_min: p.min,
    pred_max: p.max,
    pred_mean: p.mean,
    pred_std: p.std,
    target_min: t.min,
    target_max: t.max,
    target_mean: t.mean,
    target_std: t.std,
    n: isList(pred) ? pred.length : 1,
  };
}
