// unshuffled_data: the training data is fed in the same order every epoch, sorted by label (or by
// time). Each stretch of one class teaches the model "everything is this class"; when the next
// class arrives the loss jumps, then falls again: a sawtooth that repeats with the epoch's period.
// Shuffled data gives every position in an epoch the same mix of examples, so the loss has no
// shape that repeats from one epoch to the next.

import { type Context, diagnosis, findNumber, type Rule } from "../context";
import { fmt, lowerBound, median, round } from "../series";
import type { SeriesPoints } from "../types";

/** At most this many of the latest epochs are read, in at most MAX_BINS bins each. */
const MAX_EPOCHS = 32;
const MAX_BINS = 32;

export interface EpochPeriod {
  steps: number;
  source: string;
  /** a step where an epoch begins, when the logged epoch says so */
  phase?: number;
}

/** Steps per epoch: from the logged epoch, the config, or the spacing of evaluations. */
export function stepsPerEpoch(ctx: Context): EpochPeriod | null {
  const epoch = ctx.keys.scalars.epoch?.s;
  if (epoch && epoch.values.length >= 2) {
    // the steps where a new whole epoch begins, one apart
    const gaps: number[] = [];
    let prev: { step: number; e: number } | null = null;
    for (let i = 0; i < epoch.values.length; i++) {
      const v = epoch.values[i];
      if (!Number.isFinite(v)) continue;
      const e = Math.floor(v + 1e-9);
      if (prev === null || e < prev.e) prev = { step: epoch.steps[i], e };
      else if (e === prev.e + 1) {
        gaps.push(epoch.steps[i] - prev.step);
        prev = { step: epoch.steps[i], e };
      } else if (e > prev.e + 1) prev = { step: epoch.steps[i], e };
      if (gaps.length >= 64) break;
    }
    const p = median(gaps);
    if (gaps.length >= 2 && p >= 2) return { steps: p, source: "the logged epoch", phase: prev?.step };
  }
  const config = ctx.run.config ?? {};
  const direct = findNumber(config, ["steps_per_epoch", "iters_per_epoch", "iterations_per_epoch", "batches_per_epoch", "num_batches"]);
  if (direct !== null && direct >= 2) return { steps: direct, source: "config steps_per_epoch" };
  const n = findNumber(config, ["n_train", "train_size", "num_train", "train_samples", "num_train_samples", "n_train_samples", "train_len"]);
  const b = ctx.batchSize;
  if (n !== null && b !== null && n / b >= 2) return { steps: Math.ceil(n / b), source: "config train size / batch_size" };
  // one evaluation per epoch is the usual habit: the median spacing of the val points
  const val = ctx.keys.scalars.val_loss?.s ?? ctx.keys.scalars.val_acc?.s;
  if (val && val.steps.length >= 4) {
    const gaps: number[] = [];
    for (let i = 1; i < Math.min(val.steps.length, 65); i++) gaps.push(val.steps[i] - val.steps[i - 1]);
    const p = median(gaps);
    if (p >= 2) return { steps: p, source: "the spacing of evaluations" };
  }
  return null;
}

/** config.shuffle (or in hyperparams / data / dataset / loader) set to false: the training order is fixed. */
export function declaredUnshuffled(config: Record<string, any>): boolean {
  for (const place of [config, config?.hyperparams, config?.data, config?.dataset, config?.loader, config?.dataloader]) {
    if (!place || typeof place !== "object") continue;
    const v = place.shuffle;
    if (v === false || v === 0 || (typeof v === "string" && /^(false|no|0)$/i.test(v.trim()))) return true;
  }
  return false;
}

/**
 * A run that declares a fixed training order and has not yet run unshuffled_wait_epochs epochs (the
 * epoch-periodic test needs a few to tell a sorted order from a shuffled one): per-minibatch
 * statistics may still be the order's (single-class batches), so rules reading them wait.
 */
export function orderUndecided(ctx: Context): boolean {
  if (ctx.run.finished || !declaredUnshuffled(ctx.run.config ?? {})) return false;
  const loss = ctx.keys.scalars.train_loss?.s;
  const period = stepsPerEpoch(ctx);
  if (!loss || loss.steps.length === 0 || !period) return false;
  return loss.steps[loss.steps.length - 1] - loss.steps[0] < ctx.t.unshuffled_wait_epochs * period.steps;
}

export interface Periodicity {
  /** share of the detrended variance that the position within the epoch explains, beyond chance */
  explained: number;
  /** correlation of the within-epoch shape of the odd and the even epochs */
  consistency: number;
  /** range of the within-epoch shape (max - min of its bins) */
  swing: number;
  /** median level of the series over the window */
  level: number;
  epochs: number;
  bins: number;
  /** residual autocorrelation at a lag of one epoch, and the mean of the lags a quarter epoch either side */
  acfPeriod: number;
  acfNeighbours: number;
  fromStep: number;
}

/**
 * How strongly `s` repeats with period `period` (in steps), over its last MAX_EPOCHS epochs. The trend
 * is removed by a moving average over exactly one period (which cancels anything that repeats each
 * period), and the residual is folded by position within the epoch into up to 32 bins.
 */
export function periodicity(s: SeriesPoints, period: number, fromIdx = 0, phase?: number, minEpochs = 4): Periodicity | null {
  const n0 = s.values.length;
  if (n0 === 0) return null;
  // the last MAX_EPOCHS epochs at most, each read as at most 2 x 32 block means: the cost stays
  // bounded (about 2k points) however finely the loss is logged
  const start = Math.max(fromIdx, lowerBound(s.steps, s.steps[n0 - 1] - MAX_EPOCHS * period));
  const rawPerEpoch = ((n0 - start - 1) * period) / Math.max(1, s.steps[n0 - 1] - s.steps[start]);
  const block = Math.max(1, Math.floor(rawPerEpoch / (2 * MAX_BINS)));
  // The last step of each epoch is left out: when the batch size does not divide the training set
  // (PyTorch's default drop_last=False) it is a batch of the few samples left over, whose loss is far
  // noisier, lower or higher, at the same place every epoch although the data is shuffled. A sorted
  // data set shapes the whole epoch; one step of it changes little.
  // (epochs start at `phase` modulo the period: by default where the series starts)
  const P = Math.round(period);
  const origin0 = Math.round(phase ?? s.steps[0]);
  const lastOfEpoch = (step: number) => Math.abs(period - P) < 1e-6 && (((Math.round(step) - origin0 + 1) % P) + P) % P === 0;
  const steps: number[] = [];
  const xs: number[] = [];
  for (let i = start; i < n0; i += block) {
    let sum = 0;
    let k = 0;
    const end = Math.min(n0, i + block);
    for (let j = i; j < end; j++) {
      if (Number.isFinite(s.values[j]) && !lastOfEpoch(s.steps[j])) {
        sum += s.values[j];
        k++;
      }
    }
    if (k > 0) {
      steps.push(s.steps[i]);
      xs.push(sum / k);
    }
  }
  const n = xs.length;
  if (n < 8) return null;
  const span = steps[n - 1] - steps[0];
  const perEpoch = (n - 1) / Math.max(1, span / period);
  // enough points per epoch to see a shape, and (by default) at least 3 whole epochs after trimming half an
  // epoch at each end
  if (!(perEpoch >= 8) || span < minEpochs * period) return null;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + xs[i];
  const resid: number[] = [];
  const rsteps: number[] = [];
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const a = steps[i] - period / 2;
    const b = steps[i] + period / 2;
    if (a < steps[0] || b > steps[n - 1]) continue;
    while (steps[lo] < a) lo++;
    while (hi < n && steps[hi] < b) hi++;
    if (hi - lo < 4) continue;
    resid.push(xs[i] - (prefix[hi] - prefix[lo]) / (hi - lo));
    rsteps.push(steps[i]);
  }
  const m = resid.length;
  if (m < 16) return null;
  const bins = Math.min(MAX_BINS, Math.floor(perEpoch));
  const sum = [new Float64Array(bins), new Float64Array(bins), new Float64Array(bins)];
  const cnt = [new Float64Array(bins), new Float64Array(bins), new Float64Array(bins)];
  let mean = 0;
  for (const r of resid) mean += r;
  mean /= m;
  let total = 0;
  for (const r of resid) total += (r - mean) ** 2;
  const origin = steps[0];
  for (let i = 0; i < m; i++) {
    const pos = (rsteps[i] - origin) / period;
    const epochIdx = Math.floor(pos);
    const bin = Math.min(bins - 1, Math.floor((pos - epochIdx) * bins));
    for (const k of [0, 1 + (epochIdx % 2)]) {
      sum[k][bin] += resid[i];
      cnt[k][bin]++;
    }
  }
  let between = 0;
  const profile: number[] = [];
  const odd: number[] = [];
  const even: number[] = [];
  for (let b = 0; b < bins; b++) {
    if (cnt[0][b] === 0) continue;
    const avg = sum[0][b] / cnt[0][b];
    profile.push(avg);
    between += cnt[0][b] * (avg - mean) ** 2;
    if (cnt[1][b] > 0 && cnt[2][b] > 0) {
      odd.push(sum[1][b] / cnt[1][b]);
      even.push(sum[2][b] / cnt[2][b]);
    }
  }
  const acfAt = (lagSteps: number): number => {
    // residual pairs one lag apart, matched by step (logging may skip steps)
    let sxy = 0;
    let k = 0;
    let j = 0;
    for (let i = 0; i < m; i++) {
      const target = rsteps[i] + lagSteps;
      while (j < m && rsteps[j] < target) j++;
      if (j >= m) break;
      if (rsteps[j] - target > period / 16) continue;
      sxy += (resid[i] - mean) * (resid[j] - mean);
      k++;
    }
    return k > 0 && total > 0 ? sxy / k / (total / m) : NaN;
  };
  // Noise alone explains about (bins - 1) / (points - 1) of the variance: count only what is above it
  // (as an adjusted R^2 does), so few points per bin cannot pass for a shape.
  const chance = Math.min(1, (profile.length - 1) / Math.max(1, m - 1));
  const raw = total > 0 ? between / total : 0;
  return {
    explained: chance < 1 ? Math.max(0, (raw - chance) / (1 - chance)) : 0,
    consistency: correlation(odd, even),
    swing: profile.length ? Math.max(...profile) - Math.min(...profile) : 0,
    level: median(xs),
    epochs: span / period,
    bins,
    acfPeriod: acfAt(period),
    acfNeighbours: (acfAt(0.75 * period) + acfAt(1.25 * period)) / 2,
    fromStep: steps[0],
  };
}

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  if (n < 4) return NaN;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * Accuracy (validation when logged, else training; >= 3 evaluations) at chance for the configured
 * number of classes at >= no_learning_share of the evaluations: at or below no_learning's chance
 * ceiling min(1/C + 0.1, max(no_learning_acc_rel / C, 1/C + no_learning_acc_abs)).
 */
function stuckAtChance(ctx: Context, fromStep = Number.NEGATIVE_INFINITY, toStep = Number.POSITIVE_INFINITY): boolean {
  const C = ctx.numClasses;
  const named = ctx.keys.scalars.val_acc ?? ctx.keys.scalars.train_acc;
  if (C === null || !named || named.s.values.length < 3) return false;
  const scale = ctx.accScale(named === ctx.keys.scalars.val_acc ? "val_acc" : "train_acc");
  const { t } = ctx;
  const ceiling = Math.min(1 / C + 0.1, Math.max(t.no_learning_acc_rel / C, 1 / C + t.no_learning_acc_abs));
  const accs = named.s.values.filter((v, i) => Number.isFinite(v) && named.s.steps[i] >= fromStep && named.s.steps[i] <= toStep);
  return accs.length >= 3 && accs.filter((a) => a * scale <= ceiling).length >= t.no_learning_share * accs.length;
}

/**
 * The epoch-periodic shape of the training loss when the data is unshuffled, or null (memoized: the
 * divergence rule asks too, since a sawtooth's jumps are not the model blowing up).
 */
export function unshuffledShape(
  ctx: Context,
): { loss: NonNullable<Context["keys"]["scalars"]["train_loss"]>; period: EpochPeriod; p: Periodicity } | null {
  return ctx.memo("unshuffledShape", () => {
    const { t } = ctx;
    const loss = ctx.keys.scalars.train_loss;
    if (!loss) return null;
    const period = stepsPerEpoch(ctx);
    if (!period) return null;
    // The whole run, and its second half: the first epochs' large moves (or a model that later
    // converges to ~0 between the jumps) can drown the shape in one window but not in the other.
    // A net stuck at a constant answer scores every shuffled batch alike (the same mix of classes) but
    // each class's batches differently: with accuracy at chance, a clean shape that repeats identically
    // is the order's doing however small its swing.
    const stuck = stuckAtChance(ctx);
    const isStrong = (q: Periodicity, stuckThen = stuck): boolean =>
      stuckThen &&
      q.explained >= t.unshuffled_strong_explained &&
      q.consistency >= t.unshuffled_strong_consistency &&
      q.swing >= t.unshuffled_strong_swing * Math.abs(q.level);
    const strong = (q: Periodicity | null): q is Periodicity => !!q && isStrong(q);
    // Each class's first batches after a class boundary cost close to a guess (ln C): a sorted order's
    // sawtooth swings by a sizeable share of ln C. A loss already converged near 0 swings by many times
    // its own level with a few hard examples, so its relative swing alone is no evidence: a smaller
    // swing counts only with a shape as regular as the strong test's (most of the variance, the same
    // in odd and even epochs), which folded noise does not reach.
    // Without classes (a regression) the untrained model's loss plays ln C's part: a sawtooth from
    // sorted targets swings by a sizeable share of it, a converged loss's wiggles do not.
    const C = ctx.numClasses;
    const initial = ctx.loss()?.initial ?? NaN;
    const floor = C !== null && C >= 2 ? t.unshuffled_swing_lnc * Math.log(C) : initial > 0 ? t.unshuffled_swing_lnc * initial : 0;
    // A loosely regular shape over the first few epochs is within reach of chance (odd and even
    // epochs are then two or three each): live, it waits for unshuffled_wait_epochs epochs, as the
    // rules that read per-minibatch statistics wait for it; at finish there is no more evidence to
    // come. A shape as regular as the strong test's decides as early as it is seen.
    const regular = (q: Periodicity) => q.explained >= t.unshuffled_strong_explained && q.consistency >= t.unshuffled_strong_consistency;
    const enough = (q: Periodicity) => ctx.run.finished || q.epochs >= t.unshuffled_wait_epochs;
    const shows = (q: Periodicity | null): q is Periodicity =>
      !!q &&
      (isStrong(q) ||
        (q.explained >= t.unshuffled_explained &&
          q.consistency >= t.unshuffled_consistency &&
          q.swing >= t.unshuffled_swing * Math.abs(q.level) &&
          (regular(q) || (q.swing >= floor && enough(q)))));
    const n = loss.s.values.length;
    const last = loss.s.steps[n - 1];
    // the latest epochs alone leave out a first epoch spent learning (or dying) before the shape settles
    const since = (epochs: number) => lowerBound(loss.s.steps, last - epochs * period.steps);
    // (only a strong shape there: a few epochs of noise can pass the looser test by chance)
    // The latest ~4.5 epochs pass the looser test too when their shape is clearly the epoch's: most of
    // the variance (as the strong test) and a residual autocorrelation that peaks at exactly one epoch,
    // above the lags a quarter epoch either side (a trend or a slow wobble correlates at every lag
    // alike). A first epoch spent learning (the loss jumping from ln C to twice it and back) can drown
    // a sorted order's shape in the whole run and leave too few epochs in its second half.
    const latest = (q: Periodicity | null): q is Periodicity =>
      shows(q) && q.explained >= t.unshuffled_strong_explained && q.acfPeriod - q.acfNeighbours >= t.unshuffled_acf_contrast;
    const p =
      [periodicity(loss.s, period.steps, 0, period.phase), periodicity(loss.s, period.steps, Math.floor(n / 2), period.phase)].find(shows) ??
      [periodicity(loss.s, period.steps, since(4.5), period.phase)].find(latest) ??
      // a shape this strong needs only 2 whole epochs to agree: it is seen as early as that
      [periodicity(loss.s, period.steps, since(4.5), period.phase), periodicity(loss.s, period.steps, since(3.5), period.phase, 3)].find(strong);
    // The order is the loader's and does not change mid-run: a strong shape seen over an earlier
    // stretch of ~4.5 epochs while the net was stuck at chance then (accuracy evaluations within that
    // stretch) stays evidence after the net starts to learn and the sawtooth changes shape (a 1-D conv
    // net on sorted signals: explained 0.95, odd/even 0.99 over epochs 0-4.5, at chance; then it
    // learns to 0.58 and the whole run's shape no longer holds). Up to 12 windows, a whole epoch apart.
    const pEarlier = p ?? (period.steps > 0 ? earlierStrong(ctx, loss.s, period, isStrong) : null);
    if (!pEarlier) return null;
    // A schedule that restarts every epoch (warm restarts, a per-epoch cycle) shapes the loss the same
    // way: the logged lr repeating with the epoch explains it.
    const lr = ctx.keys.scalars.lr?.s;
    if (lr) {
      const q = periodicity(lr, period.steps);
      if (q && q.explained >= t.unshuffled_explained && q.swing > 0.1 * Math.abs(q.level)) return null;
    }
    return { loss, period, p: pEarlier };
  });
}

/** The first earlier ~4.5-epoch window whose shape passes the strong test with the net stuck at chance within it. */
function earlierStrong(
  ctx: Context,
  s: SeriesPoints,
  period: EpochPeriod,
  isStrong: (q: Periodicity, stuckThen: boolean) => boolean,
): Periodicity | null {
  const n = s.steps.length;
  if (n === 0) return null;
  const first = s.steps[0];
  const last = s.steps[n - 1];
  const len = 4.5 * period.steps;
  const epochs = Math.floor((last - first - len) / period.steps);
  if (epochs < 0) return null;
  const stride = Math.max(1, Math.ceil((epochs + 1) / 12));
  for (let k = 0; k <= epochs; k += stride) {
    const from = first + k * period.steps;
    const a = lowerBound(s.steps, from);
    const b = lowerBound(s.steps, from + len);
    const q = periodicity({ steps: s.steps.slice(a, b), values: s.values.slice(a, b) }, period.steps, 0, period.phase, 3);
    if (q && isStrong(q, stuckAtChance(ctx, from, from + len))) return q;
  }
  return null;
}

export const unshuffledData: Rule = {
  code: "unshuffled_data",
  evaluate(ctx) {
    const { t } = ctx;
    const found = unshuffledShape(ctx);
    if (!found) return null;
    const { loss, period, p } = found;
    return diagnosis(
      "unshuffled_data",
      "warning",
      p.fromStep,
      "Unshuffled data: the loss repeats the same shape every epoch",
      `The training loss "${loss.key}" follows a sawtooth that repeats every epoch (${fmt(period.steps)} steps, from ` +
        `${period.source}): the position within the epoch explains ${fmt(p.explained * 100, 2)}% of its ` +
        `step-to-step variation once the trend is removed, the shape of odd and even epochs agrees ` +
        `(correlation ${fmt(p.consistency, 2)}), and it swings by ${fmt(p.swing)} around a level of ${fmt(p.level)}. ` +
        `Shuffled data gives every position in an epoch the same mix of examples; a shape that comes back ` +
        `each epoch means the examples arrive in the same order every time, usually sorted by label (or by ` +
        `time): each run of one class pulls the model towards predicting that class, and the next class ` +
        `undoes it. Per-minibatch statistics (dead or saturated shares, batch accuracy) then swing with the ` +
        `class of the batch: they are artefacts of the order, not dead units. Shuffle the training set ` +
        `(DataLoader(shuffle=True), or a random permutation each epoch); for time series, draw windows at ` +
        `random positions.`,
      {
        key: loss.key,
        steps_per_epoch: round(period.steps),
        period_from: period.source,
        epochs_read: round(p.epochs, 3),
        explained_share: round(p.explained, 3),
        odd_even_correlation: round(p.consistency, 3),
        swing: round(p.swing),
        level: round(p.level),
        acf_at_epoch: round(p.acfPeriod, 3),
        acf_quarter_epoch_off: round(p.acfNeighbours, 3),
        unshuffled_explained: t.unshuffled_explained,
        unshuffled_consistency: t.unshuffled_consistency,
        unshuffled_swing: t.unshuffled_swing,
        unshuffled_swing_lnc: t.unshuffled_swing_lnc,
      },
    );
  },
};
