import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { gauss, makeRun, type RunSpec, series } from "./synth";

// Rules that judge a shape of the loss live, before the run has given much evidence: replayed after
// every batch, a healthy run must not raise part-way what it would not raise with more of the run.

const P = 50; // steps per epoch

/** A per-step loss around `base` with a within-epoch bump of amplitude `amp` and additive noise `sd`
 * (at least 1e-4: a loss is positive), `epochs` epochs, the epoch logged beside it. */
function shaped(base: number, amp: number, sd: number, classes: number | null, seed = 5, epochs = 12, finished = false): RunSpec {
  const g = gauss(seed);
  const n = epochs * P;
  return {
    finished,
    config: { ...(classes === null ? {} : { num_classes: classes }), batch_size: 32 },
    series: {
      "train/loss": series(n, (i) => Math.max(1e-4, base + amp * (1 + Math.sin((2 * Math.PI * (i % P)) / P)) + sd * g()), 1, 0),
      epoch: series(n, (i) => i / P, 1, 0),
      lr: series(n, () => 1e-3, 1, 0),
    },
  };
}

function unshuffled(spec: RunSpec) {
  return diagnose(makeRun(spec), { strict: true }).find((d) => d.code === "unshuffled_data");
}

describe("unshuffled_data: a converged loss's swing is weighed against ln C", () => {
  test.each([
    {
      name: "binary loss converged near 0.03: a loosely regular shape swinging by ~0.06 (< 20% of ln 2) is noise",
      spec: () => shaped(0.01, 0.03, 0.03, 2),
      raised: false,
    },
    {
      name: "the same loose shape at a loss near 0.4 swinging by ~0.4 (> 20% of ln 2): the order's sawtooth",
      spec: () => shaped(0.2, 0.2, 0.2, 2),
      raised: true,
    },
    {
      name: "borderline: a small swing (~0.06) but a shape as regular as the strong test's: still the order",
      spec: () => shaped(0.01, 0.03, 0.004, 2),
      raised: true,
    },
    {
      name: "regression (no ln C): the loose test alone, as before",
      spec: () => shaped(0.01, 0.03, 0.03, null),
      raised: true,
    },
  ])("$name", ({ spec, raised }) => {
    const d = unshuffled(spec());
    expect(d !== undefined).toBe(raised);
  });
});

describe("unshuffled_data: live, a loosely regular shape waits for unshuffled_wait_epochs epochs", () => {
  test.each([
    {
      name: "4.5 epochs in, a loose shape (explained ~0.3, odd/even ~0.8) swinging by ~0.5 on 2 classes: too early",
      spec: () => shaped(0.2, 0.2, 0.2, 2, 5, 4.5),
      raised: false,
    },
    {
      name: "the same 4.5 epochs at finish: all the evidence there will be",
      spec: () => shaped(0.2, 0.2, 0.2, 2, 5, 4.5, true),
      raised: true,
    },
    {
      name: "the same loose shape 7 epochs in (>= unshuffled_wait_epochs = 6)",
      spec: () => shaped(0.2, 0.2, 0.2, 2, 5, 7),
      raised: true,
    },
    {
      name: "borderline: 4.5 epochs in, but a shape as regular as the strong test's decides early",
      spec: () => shaped(0.2, 0.2, 0.03, 2, 5, 4.5),
      raised: true,
    },
  ])("$name", ({ spec, raised }) => {
    expect(unshuffled(spec()) !== undefined).toBe(raised);
  });
});

/** A loss that falls from ln 10 to 0.9 over the first 40% of `n` steps, then stays flat (2% noise);
 * with `period` the epoch rides along. */
function plateauRun(n: number, period: number | null): RunSpec {
  const g = gauss(11);
  const run: RunSpec = {
    config: { num_classes: 10, batch_size: 32 },
    series: {
      "train/loss": series(n, (_, p) => (0.9 + 1.4 * Math.max(0, 1 - p / 0.4)) * (1 + 0.02 * g()), 1, 0),
      lr: series(n, () => 1e-3, 1, 0),
    },
  };
  if (period !== null) run.series!.epoch = series(n, (i) => i / period, 1, 0);
  return run;
}

describe("loss_plateau: a flat window spans plateau_min_epochs epochs where the epoch is known", () => {
  test.each([
    { name: "300 steps, 100 an epoch: the 90-step flat window is 0.9 of an epoch (a pause)", spec: () => plateauRun(300, 100), raised: false },
    { name: "200 steps, 20 an epoch: the flat window is 3 epochs", spec: () => plateauRun(200, 20), raised: true },
    { name: "borderline: 29 steps an epoch, the window just over 2 epochs", spec: () => plateauRun(200, 29), raised: true },
    { name: "borderline: 31 steps an epoch, the window just under 2 epochs", spec: () => plateauRun(200, 31), raised: false },
    { name: "no epoch known: judged on points alone, as before", spec: () => plateauRun(200, null), raised: true },
  ])("$name", ({ spec, raised }) => {
    const d = diagnose(makeRun(spec()), { strict: true }).find((x) => x.code === "loss_plateau");
    expect(d !== undefined).toBe(raised);
  });
});

/** Per-sample losses (batch size `batch`) around `level` on 3 classes, the first one `first`. */
function initialRun(batch: number, n: number, level: number, first: number, finished = false): RunSpec {
  const g = gauss(21);
  return {
    finished,
    config: { num_classes: 3, batch_size: batch },
    series: { "train/loss": series(n, (i) => (i === 0 ? first : level * Math.exp(0.8 * g())), 1, 0) },
  };
}

describe("bad_initial_loss: live, small batches wait until the first loss_pool_samples samples are in", () => {
  test.each([
    {
      name: "batch 1, 12 points, the first a lucky 0.07 around ln 3: not known yet",
      spec: () => initialRun(1, 12, Math.log(3), 0.07),
      raised: false,
    },
    { name: "batch 1, 400 points around 10 (7x ln 3): the pooled 64 say too high", spec: () => initialRun(1, 400, 10, 10), raised: true },
    {
      name: "batch 1, 400 points around ln 3 with a lucky first 0.07: pooled, fine",
      spec: () => initialRun(1, 400, Math.log(3), 0.07),
      raised: false,
    },
    { name: "borderline: batch 16, 16 points around 10: the pool of 4 is complete", spec: () => initialRun(16, 16, 10, 10), raised: true },
    { name: "batch 64 (no pooling), 12 points, first 10: judged at once, as before", spec: () => initialRun(64, 12, 10, 10), raised: true },
  ])("$name", ({ spec, raised }) => {
    const d = diagnose(makeRun(spec()), { strict: true }).find((x) => x.code === "bad_initial_loss");
    expect(d !== undefined).toBe(raised);
  });
});
