import { describe, expect, test } from "vitest";
import { DIAGNOSIS_CODES, diagnose } from "../../../lib/diagnostics";
import { boundedLogitFloor, fanoLoss } from "../../../lib/diagnostics/rules/loss-output-mismatch";
import { DEFAULT_THRESHOLDS } from "../../../lib/diagnostics/thresholds";
import type { RunData, SeriesPoints, Severity } from "../../../lib/diagnostics/types";
import { constant, decayingLoss, gauss, hist, makeRun, series, truncate, type RunSpec } from "./synth";

const LN10 = Math.log(10);

// ---- building blocks ------------------------------------------------------------------------

/** Per-epoch accuracy: 31 evaluations every 20 steps, rising from `from` to `to`. */
function acc(from: number, to: number, opts: { tau?: number; noise?: number; seed?: number; n?: number } = {}): SeriesPoints {
  const { tau = 0.15, noise = 0.003, seed = 7, n = 31 } = opts;
  const g = gauss(seed);
  return series(n, (_, p) => Math.min(1, to - (to - from) * Math.exp(-p / tau) + noise * g()), 20, 1);
}

/** Per-epoch values following `f(progress)`, 31 evaluations every 20 steps. */
function perEpoch(f: (p: number) => number, n = 31): SeriesPoints {
  return series(n, (_, p) => f(p), 20, 1);
}

/** update_ratio / weight / grad / act stats for `layers`, every 5 steps over 600 steps. */
function layerStats(
  layers: string[],
  stats: Partial<Record<"ur" | "wstd" | "wmean" | "gstd" | "dead" | "sat" | "astd", (layer: number, p: number) => number>>,
): Record<string, SeriesPoints> {
  const out: Record<string, SeriesPoints> = {};
  const g = gauss(99);
  layers.forEach((name, li) => {
    const mk = (f: (l: number, p: number) => number, noisy = true) => series(120, (_, p) => f(li, p) * (noisy ? 1 + 0.1 * g() : 1), 5, 1);
    if (stats.ur) out[`update_ratio/${name}`] = mk(stats.ur);
    if (stats.wstd) out[`weight/${name}/std`] = mk(stats.wstd, false);
    if (stats.wmean) out[`weight/${name}/mean`] = mk(stats.wmean, false);
    if (stats.gstd) out[`grad/${name}/std`] = mk(stats.gstd);
    if (stats.dead) out[`act/${name}/dead_frac`] = mk(stats.dead, false);
    if (stats.sat) out[`act/${name}/saturated_frac`] = mk(stats.sat, false);
    if (stats.astd) out[`act/${name}/std`] = mk(stats.astd, false);
  });
  return out;
}

const LAYERS = ["fc1", "fc2", "fc3"];
const DEEP = ["fc1", "fc2", "fc3", "fc4", "fc5", "fc6", "fc7", "fc8"];
const HEALTHY_LAYER_STATS = layerStats(LAYERS, {
  ur: (_, p) => 3e-3 * Math.exp(-2 * p),
  wstd: (l) => 0.18 - 0.04 * l,
  wmean: () => 0.001,
  gstd: (l, p) => 0.005 * (l + 1) * Math.exp(-2 * p),
  dead: () => 0.02,
});

/** Accuracy capped at ~0.6 of 10 classes: a model that falls well short of its data. */
const POOR_FIT = { "train/acc": acc(0.1, 0.6), "val/acc": acc(0.1, 0.58, { seed: 8 }) };

/** A healthy run: fast then slowing loss, train/val accuracy with a small gap, sane layer stats. */
/** A regression MLP whose output activation pins `pinned` of its outputs while the loss ends at `lossFrac` of its start. */
function squashedRegression(config: Record<string, unknown>, pinned: number, lossFrac: number, more: Record<string, SeriesPoints> = {}): RunSpec {
  return {
    config,
    series: {
      "train/loss": decayingLoss(600, { start: 1.2, floor: 1.2 * lossFrac, tau: 0.2 }),
      ...layerStats(["fc1", "fc2", "out"], { ur: () => 1e-3, wstd: () => 0.1 }),
      ...layerStats(["out"], { sat: (_, p) => pinned * Math.min(1, p * 5) }),
      ...more,
    },
  };
}

const LINEAR = { params: 6, params_watched: 6, weighted_layers: 1, modules: { Linear: 1 } };

/** `spec` with more config and other events. */
function withConfig(spec: RunSpec, config: Record<string, unknown>, events: RunSpec["events"]): RunSpec {
  return { ...spec, config: { ...spec.config, ...config }, events };
}

/** A finished run of C classes whose accuracies end near `train` / `val`, with watch()'s `model` event `model`. */
function linearRun(C: number, train: number, val: number, model: Record<string, unknown>): RunSpec {
  const g = gauss(11);
  return {
    config: { num_classes: C },
    series: {
      "train/loss": series(600, () => Math.log(C) * (1 - 0.8 * (train - 1 / C)) * (1 + 0.02 * g())),
      "train/acc": perEpoch((p) => train - 0.02 * Math.exp(-p / 0.1)),
      "val/acc": perEpoch((p) => val - 0.02 * Math.exp(-p / 0.1)),
      // Adam's steps on a model that cannot do better: healthy in size, going nowhere
      ...layerStats(["out"], { ur: () => 0.01, wstd: () => 0.5 }),
    },
    events: [{ type: "model", step: 0, data: model }],
    finished: true,
  };
}

/**
 * A classifier of 8 classes whose loss sits at ln 8 for the first `flat` of 480 steps, then falls; `upTo`
 * cuts the run part-way (a live evaluation), `lr` gives the logged learning rate over the run.
 */
function saddle(flat: number, config: Record<string, unknown> = {}, upTo = 1, lr: (p: number) => number = () => 0.1): RunSpec {
  const g = gauss(5);
  const n = Math.round(480 * upTo);
  return {
    config: { num_classes: 8, ...config },
    series: {
      "train/loss": series(n, (i) => {
        const p = i / 480;
        const level = p < flat ? Math.log(8) : 0.5 + (Math.log(8) - 0.5) * Math.exp(-(p - flat) / 0.15);
        return level * (1 + 0.005 * g());
      }),
      lr: series(Math.round(n / 5), (i) => lr((i * 5) / 480), 5),
    },
  };
}

function healthy(extra: RunSpec = {}): RunSpec {
  return {
    config: { num_classes: 10, model_layers: LAYERS, ...extra.config },
    series: {
      "train/loss": decayingLoss(600),
      "train/acc": acc(0.1, 1.0),
      "val/acc": acc(0.1, 0.97, { seed: 8 }),
      "val/loss": perEpoch((p) => 0.08 + 2.2 * Math.exp(-p / 0.15)),
      lr: constant(120, 1e-3, 5),
      ...HEALTHY_LAYER_STATS,
      ...extra.series,
    },
    histograms: extra.histograms,
    events: extra.events,
    finished: extra.finished,
  };
}

interface Case {
  name: string;
  /** a spec, or a ready RunData (e.g. a truncated run) */
  spec: RunSpec | RunData;
  raised: boolean;
  severity?: Severity;
}

function check(code: string, c: Case) {
  const run = c.spec.series instanceof Map ? (c.spec as RunData) : makeRun(c.spec as RunSpec);
  const found = diagnose(run, { strict: true });
  const d = found.find((x) => x.code === code);
  if (c.raised) {
    expect(d, `${code} should be raised; got ${found.map((x) => x.code).join(", ") || "nothing"}`).toBeDefined();
    if (c.severity) expect(d!.severity).toBe(c.severity);
    expect(d!.title.length).toBeGreaterThan(10);
    expect(d!.message.length).toBeGreaterThan(80);
    expect(Number.isFinite(d!.step)).toBe(true);
  } else {
    expect(d, `${code} should not be raised: ${d?.message}`).toBeUndefined();
  }
}

// ---- general --------------------------------------------------------------------------------

describe("diagnose()", () => {
  test("exposes every code once", () => {
    expect(new Set(DIAGNOSIS_CODES).size).toBe(DIAGNOSIS_CODES.length);
    expect([...DIAGNOSIS_CODES].sort()).toEqual(
      [
        "bad_initial_loss",
        "dead_relu",
        "divergence",
        "exploding_gradients",
        "gradcheck_failed",
        "input_not_normalized",
        "loss_output_mismatch",
        "loss_plateau",
        "lr_too_high",
        "majority_class",
        "over_regularization",
        "lr_too_low",
        "no_learning",
        "noisy_loss",
        "overfit_sanity_failed",
        "overfitting",
        "saturated_activations",
        "search_boundary",
        "symmetric_init",
        "train_val_mismatch",
        "underfitting",
        "unshuffled_data",
        "vanishing_gradients",
      ].sort(),
    );
  });

  test("raises nothing for an empty run or a run with a handful of points", () => {
    expect(diagnose(makeRun())).toEqual([]);
    expect(diagnose(makeRun({ config: { num_classes: 10 }, series: { loss: series(3, () => 2.3) } }))).toEqual([]);
  });

  test("raises nothing on a healthy run, at any point while it arrives", () => {
    const run = makeRun({ ...healthy(), finished: true });
    expect(diagnose(run, { strict: true })).toEqual([]);
    for (const frac of [0.05, 0.1, 0.25, 0.5, 0.75]) {
      expect(
        diagnose(truncate(run, frac), { strict: true }).map((d) => d.code),
        `at ${frac}`,
      ).toEqual([]);
    }
  });

  test("is deterministic and does not modify its input", () => {
    const spec = healthy({ series: { "train/loss": series(300, (i) => (i === 250 ? NaN : 2)) } });
    const run = makeRun(spec);
    const before = JSON.stringify([...run.series]);
    const a = diagnose(run);
    const b = diagnose(makeRun(spec));
    expect(a).toEqual(b);
    expect(JSON.stringify([...run.series])).toBe(before);
  });

  test("sorts a root cause before its symptoms, even a more severe symptom (issue #10: root cause first)", () => {
    const found = diagnose(
      makeRun({
        config: { num_classes: 10 },
        series: { "train/loss": series(300, (i) => (i > 280 ? NaN : 2.3)) },
        events: [{ type: "input_stats", step: 0, data: { mean: [100, 120], std: [50, 60] } }],
      }),
    );
    // unnormalized inputs (warning) blow up activations and gradients: the divergence (critical) follows
    expect(found.map((d) => [d.code, d.severity, d.causedBy ?? null, d.symptoms ?? null])).toEqual([
      ["input_not_normalized", "warning", null, ["divergence"]],
      ["divergence", "critical", "input_not_normalized", null],
    ]);
  });

  test("config.babysit.disable turns a rule off", () => {
    const spec: RunSpec = { config: { babysit: { disable: ["divergence"] } }, series: { loss: series(50, () => NaN) } };
    expect(diagnose(makeRun(spec)).map((d) => d.code)).not.toContain("divergence");
  });

  test("evidence holds only numbers, strings, booleans and null", () => {
    const found = diagnose(makeRun({ config: { num_classes: 10 }, series: { loss: series(300, (i) => (i > 200 ? Infinity : 2.3)) } }));
    expect(found.length).toBeGreaterThan(0);
    for (const d of found) {
      for (const v of Object.values(d.evidence)) expect(["number", "string", "boolean"].includes(typeof v) || v === null).toBe(true);
    }
  });
});

// ---- names and configuration ----------------------------------------------------------------

describe("key names and config", () => {
  const overfitCurves = (names: { ta: string; va: string }, scale = 1): Record<string, SeriesPoints> => ({
    [names.ta]: perEpoch((p) => scale * Math.min(1, 0.5 + 2 * p)),
    [names.va]: perEpoch((p) => scale * (p < 0.2 ? 0.3 + 2.5 * p : 0.8 - 0.1 * (p - 0.2))),
  });

  test.each([
    { name: "train/acc + val/acc", ta: "train/acc", va: "val/acc" },
    { name: "Keras accuracy + val_accuracy", ta: "accuracy", va: "val_accuracy" },
    { name: "acc + eval/accuracy", ta: "acc", va: "eval/accuracy" },
    { name: "train_acc + val_acc", ta: "train_acc", va: "val_acc" },
  ])("recognizes $name", ({ ta, va }) => {
    const codes = diagnose(makeRun({ series: overfitCurves({ ta, va }) })).map((d) => d.code);
    expect(codes).toContain("overfitting");
  });

  test("accuracy logged in percent is understood", () => {
    const codes = diagnose(makeRun({ series: overfitCurves({ ta: "train_acc", va: "val_acc" }, 100) })).map((d) => d.code);
    expect(codes).toContain("overfitting");
  });

  test("config.babysit.keys maps other names, including per-layer patterns", () => {
    const spec: RunSpec = {
      config: {
        num_classes: 10,
        babysit: { keys: { train_loss: "objective", update_ratio: "ratios.{layer}" } },
      },
      series: {
        objective: series(300, () => 2.4),
        "ratios.a": constant(50, 1e-7),
        "ratios.b": constant(50, 2e-7),
      },
    };
    const d = diagnose(makeRun(spec)).find((x) => x.code === "lr_too_low");
    expect(d?.evidence.low_layers).toBe("a, b");
    // without the mapping, nothing is known about the run
    expect(diagnose(makeRun({ ...spec, config: { num_classes: 10 } }))).toEqual([]);
  });

  test("config.babysit.thresholds overrides a default", () => {
    // (a run that falls short of its data: dead units in a model that fits cost nothing)
    const spec = healthy({ series: { ...layerStats(LAYERS, { dead: () => 0.5 }), ...POOR_FIT } });
    expect(diagnose(makeRun(spec)).map((d) => d.code)).toContain("dead_relu");
    const relaxed = { ...spec, config: { ...spec.config, babysit: { thresholds: { dead_frac: 0.6 } } } };
    expect(diagnose(makeRun(relaxed)).map((d) => d.code)).not.toContain("dead_relu");
  });

  test("num_classes is also found in config.hyperparams", () => {
    const spec: RunSpec = { config: { hyperparams: { num_classes: 10 } }, series: { loss: decayingLoss(200, { start: 9 }) } };
    expect(diagnose(makeRun(spec)).map((d) => d.code)).toContain("bad_initial_loss");
  });
});

// ---- issue #10: building blocks for the learning-rate schedule and the new codes -------------

/** 660 steps (30 epochs of 22 batches) with the lr logged every step. */
const STEPS = 660;
/** A per-epoch StepLR(step_size=10, gamma=0.5) stepped every batch: halves every 10 steps. */
const perBatchStepLr = series(STEPS, (i) => 0.05 * 0.5 ** Math.floor(i / 10), 1, 0);
/** A loss that falls while the lr is alive and freezes once it is ~0 (minibatch noise stays). */
function frozenAfter(freezeStep: number, opts: { level?: number; seed?: number } = {}): SeriesPoints {
  const { level = 1.0, seed = 3 } = opts;
  const g = gauss(seed);
  return series(
    STEPS,
    (i) => {
      const at = Math.min(i, freezeStep);
      return Math.max(1e-3, (level + (2.3 - level) * Math.exp(-at / 30)) * (1 + 0.15 * g()));
    },
    1,
    0,
  );
}
/** Update ratios that follow the lr: `ratio0` at `lr0`, proportional to the lr after that. */
function ratiosFollowing(lr: SeriesPoints, lr0: number, ratio0: number): Record<string, SeriesPoints> {
  const out: Record<string, SeriesPoints> = {};
  for (const name of LAYERS) {
    const steps: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < lr.steps.length; i += 5) {
      steps.push(lr.steps[i]);
      values.push((ratio0 * lr.values[i]) / lr0);
    }
    out[`update_ratio/${name}`] = { steps, values };
  }
  return out;
}
/** Per-epoch values over the 660-step run: 30 evaluations, one every 22 steps. */
const epochs = (f: (p: number, i: number) => number, seed = 11): SeriesPoints => {
  const g = gauss(seed);
  return series(30, (i, p) => f(p, i) + 0.002 * g(), 22, 21);
};
/** A run at chance level: loss around ln 10, accuracy around 0.1, healthy update ratios and lr. */
function atChance(extra: RunSpec = {}): RunSpec {
  const g = gauss(21);
  return {
    config: { num_classes: 10, model_layers: LAYERS, ...extra.config },
    series: {
      "train/loss": series(600, () => LN10 + 0.03 * g()),
      "val/loss": perEpoch(() => LN10 + 0.01 + 0.005 * g()),
      "train/acc": perEpoch(() => 0.1 + 0.01 * g()),
      "val/acc": perEpoch(() => 0.1 + 0.015 * g()),
      lr: constant(120, 1e-3, 5),
      ...layerStats(LAYERS, { ur: () => 2e-3 }),
      ...extra.series,
    },
    events: extra.events,
  };
}
/** Train accuracy rising to `to` and a loss that floors at `floor` (C from the config). */
function flooredRun(C: number, to: number, floor: number, extra: RunSpec = {}): RunSpec {
  const start = Math.log(C);
  return {
    config: { num_classes: C, ...extra.config },
    series: {
      "train/loss": decayingLoss(600, { start, floor, tau: 0.1, noise: 0.01 }),
      "train/acc": acc(1 / C, to, { tau: 0.1 }),
      "val/acc": acc(1 / C, to - 0.02, { tau: 0.1, seed: 9 }),
      lr: constant(120, 1e-3, 5),
      ...extra.series,
    },
  };
}

// ---- one table per rule ---------------------------------------------------------------------

/** Train and val losses levelling off together at `level` (an underfit model: no loss gap). */
const lossesAt = (level: number): Record<string, SeriesPoints> => ({
  "train/loss": decayingLoss(600, { floor: level, tau: 0.1, noise: 0.05 }),
  "val/loss": perEpoch((p) => level * 1.03 + (2.3 - level) * Math.exp(-p / 0.1)),
});

/** A net answering the majority class: accuracy pinned at the majority shares (train 0.849, val
 * 0.796 after the first epoch), loss sliding from ln 10 towards the priors' entropy. */
function majority(extra: RunSpec = {}): RunSpec {
  const g = gauss(31);
  return {
    config: { num_classes: 10, model_layers: LAYERS, ...extra.config },
    series: {
      "train/loss": series(600, (_, p) => (0.45 + 1.85 * Math.exp(-p / 0.35)) * (1 + 0.1 * g())),
      "val/loss": perEpoch((p) => 0.72 + 1.55 * Math.exp(-p / 0.35)),
      "train/acc": perEpoch((p) => (p === 0 ? 0.3 : 0.849)),
      "val/acc": perEpoch((p) => (p === 0 ? 0.22 : 0.796)),
      lr: constant(120, 1e-2, 5),
      ...layerStats(LAYERS, { ur: () => 1e-3, wstd: (l) => 0.07 - 0.01 * l }),
      ...extra.series,
    },
    events: extra.events,
  };
}
/**
 * A 10-class digits MLP logged once an epoch through babysit.wandb (train/loss and val/acc only):
 * val accuracy holds 0.865 (+- a sample or two of 360) from the second evaluation on while the
 * training loss slides towards h(0.865) = 0.396 - a healthy net that converged, or (with labels
 * that imbalanced) one answering the majority class: only the labels' shares or a long plateau tell.
 */
function digitsEpochs(n: number, extra: RunSpec = {}): RunSpec {
  const steps = Array.from({ length: n }, (_, i) => 23 * (i + 1));
  const acc = steps.map((_, i) => (i === 0 ? 0.7 : [0.8628, 0.8695, 0.865][i % 3]));
  const loss = steps.map((_, i) => 0.36 + 0.84 * Math.exp(-i / 1.2));
  return {
    config: { lr: 0.05, epochs: n, batch_size: 64, ...extra.config },
    series: { "train/loss": { steps, values: loss }, "val/acc": { steps, values: acc }, ...extra.series },
    events: extra.events,
  };
}
const labelEvent = (counts: number[], split?: string) => ({ type: "label_stats", step: 0, data: { counts, ...(split ? { split } : {}) } });
/** A run whose weights shrink to `to` of their start within `by` of the run, with accuracy capped. */
function decayed(to: number, extra: RunSpec = {}, by = 0.1): RunSpec {
  return healthy({
    config: { weight_decay: 0.12, ...extra.config },
    series: {
      "train/acc": acc(0.1, 0.77, { tau: 0.05 }),
      "val/acc": acc(0.1, 0.76, { tau: 0.05, seed: 3 }),
      "train/loss": decayingLoss(600, { floor: 1.0, tau: 0.05, noise: 0.05 }),
      "val/loss": perEpoch((p) => 1.03 + 1.2 * Math.exp(-p / 0.05)),
      ...layerStats(LAYERS, {
        ur: () => 1.5e-2,
        wstd: (l, p) => (0.07 - 0.02 * l) * (p < by ? 1 - ((1 - to) * p) / by : to),
      }),
      ...extra.series,
    },
  });
}

const nanTail = series(600, (i, p) => (i >= 590 ? NaN : 2.3 * Math.exp(-p * 2) + 0.1));
const cases: Record<string, Case[]> = {
  divergence: [
    { name: "loss ends in NaN", spec: healthy({ series: { "train/loss": nanTail } }), raised: true, severity: "critical" },
    {
      name: "one Inf, then finite and low again",
      spec: healthy({ series: { "train/loss": series(600, (i, p) => (i === 300 ? Infinity : 2.3 * Math.exp(-p * 3) + 0.05)) } }),
      raised: true,
      severity: "warning",
    },
    {
      name: "loss explodes to 10x its start",
      spec: { series: { loss: series(400, (_, p) => (p < 0.6 ? 2.3 - p : 2.3 * Math.exp((p - 0.6) * 10))) } },
      raised: true,
      severity: "critical",
    },
    {
      name: "training collapses back to the starting loss",
      spec: { series: { loss: series(400, (_, p) => (p < 0.5 ? 2.3 - 3.6 * p : 2.3)) } },
      raised: true,
    },
    {
      name: "loss explodes for a while, then comes back low",
      spec: { series: { loss: series(400, (_, p) => (p > 0.3 && p < 0.45 ? 40 : 2.3 * Math.exp(-p * 2))) } },
      raised: true,
      severity: "warning",
    },
    {
      name: "borderline: two spiky points above 3x, then fine",
      spec: { series: { loss: series(400, (i, p) => (i === 100 || i === 101 ? 40 : 2.3 * Math.exp(-p * 2))) } },
      raised: false,
    },
    { name: "validation loss only, NaN", spec: { series: { val_loss: series(30, (i) => (i > 20 ? NaN : 1)) } }, raised: true },
    { name: "healthy", spec: healthy(), raised: false },
    {
      name: "borderline: loss rises to 2.5x its start",
      spec: { series: { loss: series(400, (_, p) => (p < 0.5 ? 2.0 : 5.0)) } },
      raised: false,
    },
    { name: "negative loss (e.g. an ELBO) falling further", spec: { series: { loss: series(400, (_, p) => -10 - 50 * p) } }, raised: false },
  ],
  lr_too_high: [
    {
      name: "update ratios ~5e-2 and a loss jumping around a high level",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": series(600, (i) => 2.0 * (1 + 0.9 * gauss(3)() * ((i * 7919) % 13 > 6 ? 1 : -1))),
          ...layerStats(LAYERS, { ur: () => 5e-2 }),
        },
      },
      raised: true,
    },
    {
      name: "loss explodes",
      spec: { series: { loss: series(400, (_, p) => (p < 0.6 ? 2.3 - p : 2.3 * Math.exp((p - 0.6) * 10))) } },
      raised: true,
    },
    {
      name: "huge steps early, then the net died at chance loss",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": series(600, (i, p) => (p < 0.05 ? 4 : LN10) + 0.01 * Math.sin(i)),
          ...layerStats(LAYERS, { ur: (_, p) => (p < 0.15 ? 0.3 : 0), dead: () => 0.1 }),
        },
      },
      raised: true,
    },
    {
      name: "update ratios extreme (> 1e-1) even with a falling loss",
      spec: healthy({ series: layerStats(LAYERS, { ur: () => 0.2 }) }),
      raised: true,
    },
    {
      name: "Adam's first steps: ratios 3e-2 briefly, then ~1e-3",
      spec: healthy({ series: layerStats(LAYERS, { ur: (_, p) => (p < 0.03 ? 3e-2 : 1e-3) }) }),
      raised: false,
    },
    {
      name: "borderline: ratios ~1.5e-2 with a smoothly falling loss",
      spec: healthy({ series: layerStats(LAYERS, { ur: () => 1.5e-2 }) }),
      raised: false,
    },
    {
      name: "high ratios because weight decay shrank the weights",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": series(600, (i) => LN10 + 0.005 * Math.sin(i)),
          ...layerStats(LAYERS, { ur: () => 5e-2, wstd: (_, p) => 0.2 * Math.exp(-6 * p) }),
        },
      },
      raised: false,
    },
    {
      name: "ratios ~8e-2 for the whole run although the loss falls (Adam at lr 1.0)",
      spec: healthy({ series: layerStats(LAYERS, { ur: () => 8e-2, wstd: () => 0.2 }) }),
      raised: true,
    },
    {
      name: "ratios ~8e-2 only in the first tenth, then healthy (Adam's first steps)",
      spec: healthy({ series: layerStats(LAYERS, { ur: (_, p) => (p < 0.1 ? 8e-2 : 2e-3), wstd: () => 0.2 }) }),
      raised: false,
    },
    {
      name: "ratios ~4e-2 all along while weight decay shrank the weights to 35% (not the lr)",
      spec: healthy({ series: layerStats(LAYERS, { ur: () => 4e-2, wstd: (_, p) => 0.2 * (p < 0.1 ? 1 - 6.5 * p : 0.35) }) }),
      raised: false,
    },
    {
      name: "the logged lr jumps 10x at step 300 and the loss collapses back to its start",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": series(600, (i) => (i < 300 ? 0.2 + 2.1 * Math.exp(-i / 40) : 2.3 + 0.02 * Math.sin(i))),
          lr: series(600, (i) => (i < 300 ? 0.01 : 0.1)),
        },
      },
      raised: true,
    },
    {
      name: "Adam at lr 1.0: the first step moves every layer by ~15x its size, the ReLUs die, the loss stays at ln 10",
      spec: {
        config: { num_classes: 10, model_layers: LAYERS },
        series: {
          "train/loss": series(600, (i) => (i === 1 ? 21 : LN10 + 0.03 * Math.sin(i))),
          ...layerStats(LAYERS, { ur: (_, p) => (p === 0 ? 15 : 0), wstd: () => 5 }),
        },
      },
      raised: true,
    },
    {
      name: "Adam at lr 1e-3: first steps ~2e-2, a healthy run",
      spec: healthy({ series: layerStats(LAYERS, { ur: (_, p) => (p < 0.02 ? 2e-2 : 3e-3 * Math.exp(-2 * p)) }) }),
      raised: false,
    },
    {
      name: "a linear warmup from 0, then a healthy loss",
      spec: { config: { num_classes: 10 }, series: { "train/loss": decayingLoss(600), lr: series(600, (i) => 0.01 * Math.min(1, i / 50)) } },
      raised: false,
    },
    {
      name: "the lr jumps 10x but the loss keeps falling",
      spec: { config: { num_classes: 10 }, series: { "train/loss": decayingLoss(600), lr: series(600, (i) => (i < 300 ? 0.001 : 0.01)) } },
      raised: false,
    },
  ],
  lr_too_low: [
    {
      name: "update ratios ~1e-7 and a flat loss",
      spec: {
        config: { num_classes: 10 },
        series: { "train/loss": decayingLoss(450, { floor: 2.4, start: 2.4 }), ...layerStats(LAYERS, { ur: () => 1e-7 }) },
      },
      raised: true,
    },
    {
      name: "no per-layer stats: loss and accuracy do not move",
      spec: {
        config: { num_classes: 10 },
        series: {
          loss: decayingLoss(450, { floor: 2.45, start: 2.5, noise: 0.03 }),
          acc: perEpoch(() => 0.083),
          val_acc: perEpoch(() => 0.07),
        },
      },
      raised: true,
    },
    {
      name: "ratios ~3e-5, loss down only 8% and near chance, accuracy flat",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": series(450, (_, p) => 2.6 - 0.2 * p),
          "train/acc": perEpoch((p) => 0.08 + 0.01 * p),
          ...layerStats(LAYERS, { ur: () => 3e-5 }),
        },
      },
      raised: true,
    },
    {
      name: "tiny ratios after the loss converged",
      spec: healthy({ series: layerStats(LAYERS, { ur: (_, p) => (p < 0.5 ? 1e-3 : 1e-6) }) }),
      raised: false,
    },
    {
      name: "flat loss during learning-rate warmup",
      spec: {
        config: { num_classes: 10 },
        series: { loss: series(300, () => 2.3), lr: series(300, (_, p) => 1e-3 * p) },
      },
      raised: false,
    },
    { name: "too little evidence: 30 flat points", spec: { config: { num_classes: 10 }, series: { loss: series(30, () => 2.3) } }, raised: false },
    {
      name: "fine-tuning: small ratios, loss flat far below chance",
      spec: {
        config: { num_classes: 10 },
        series: { loss: decayingLoss(450, { start: 0.2, floor: 0.19 }), ...layerStats(LAYERS, { ur: () => 5e-5 }) },
      },
      raised: false,
    },
    {
      name: "borderline: ratios 2e-5 but the loss is still falling fast",
      spec: {
        config: { num_classes: 10 },
        series: { loss: decayingLoss(450, { floor: 0.3, tau: 0.3 }), ...layerStats(LAYERS, { ur: () => 2e-5 }) },
      },
      raised: false,
    },
    {
      name: "a per-epoch StepLR stepped every batch: lr ~0 from step 100, loss and ratios frozen",
      spec: {
        config: { num_classes: 10, model_layers: LAYERS },
        series: {
          "train/loss": frozenAfter(100),
          "val/loss": epochs((_p, i) => (i < 4 ? 1.6 - 0.15 * i : 0.95)),
          "train/acc": epochs((_p, i) => (i < 4 ? 0.75 + 0.02 * i : 0.83)),
          "val/acc": epochs((_p, i) => (i < 4 ? 0.73 + 0.02 * i : 0.8)),
          lr: perBatchStepLr,
          ...ratiosFollowing(perBatchStepLr, 0.05, 5e-3),
        },
      },
      raised: true,
    },
    {
      name: "the same collapse without per-layer stats or val metrics (the lr series is the evidence)",
      spec: { config: { num_classes: 10 }, series: { "train/loss": frozenAfter(100, { seed: 5 }), lr: perBatchStepLr } },
      raised: true,
    },
    {
      name: "ExponentialLR(0.9) stepped every batch: the run learned in its first 10 steps, then froze",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": frozenAfter(10, { level: 1.95, seed: 8 }),
          "val/loss": epochs(() => 1.96),
          lr: series(STEPS, (i) => 0.05 * 0.9 ** i, 1, 0),
        },
      },
      raised: true,
    },
    {
      name: "a cosine schedule that reaches ~0 only at the very end",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": decayingLoss(STEPS),
          lr: series(STEPS, (_, p) => 0.05 * 0.5 * (1 + Math.cos(Math.PI * p)), 1, 0),
        },
      },
      raised: false,
    },
    {
      name: "ReduceLROnPlateau cutting the lr 10x four times after the loss had levelled off",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": decayingLoss(STEPS, { tau: 0.05 }),
          lr: series(STEPS, (_, p) => 0.05 * 0.1 ** Math.min(4, Math.max(0, Math.floor((p - 0.2) / 0.1))), 1, 0),
        },
      },
      raised: false,
    },
    {
      name: "MultiStepLR cutting the lr 10x at 20%, 30% and 40% of a run that had converged by then",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": decayingLoss(STEPS, { tau: 0.08, floor: 0.01, noise: 0.02 }),
          lr: series(STEPS, (_, p) => 0.05 * 0.1 ** [0.2, 0.3, 0.4].filter((m) => p >= m).length, 1, 0),
        },
      },
      raised: false,
    },
    {
      name: "borderline: the lr collapses in the last 20% of the run only (under lr_collapse_frac)",
      spec: {
        config: { num_classes: 10 },
        series: {
          "train/loss": frozenAfter(540),
          lr: series(STEPS, (i) => (i < 500 ? 0.05 : 0.05 * 0.5 ** Math.floor((i - 500) / 4)), 1, 0),
        },
      },
      raised: false,
    },
  ],
  overfitting: [
    {
      name: "train accuracy -> 1 while val accuracy peaks and slides",
      spec: healthy({
        series: {
          "train/acc": acc(0.5, 1.0, { tau: 0.05 }),
          "val/acc": perEpoch((p) => (p < 0.1 ? 0.33 + 5 * p : 0.83 - 0.03 * p)),
          "val/loss": perEpoch((p) => (p < 0.1 ? 2.1 - 14 * p : 0.7 + 0.15 * p)),
        },
      }),
      raised: true,
    },
    {
      name: "val loss U-shaped while train loss keeps falling (no accuracy logged)",
      spec: {
        series: {
          loss: decayingLoss(600, { floor: 0.001, tau: 0.1 }),
          val_loss: perEpoch((p) => 0.5 + 2 * (p - 0.3) ** 2),
        },
      },
      raised: true,
    },
    { name: "healthy: small gap, val still improving", spec: healthy(), raised: false },
    {
      name: "borderline: val stalls but the gap is only 0.08",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.98), "val/acc": perEpoch((p) => Math.min(0.9, 0.1 + 3 * p)) } }),
      raised: false,
    },
    {
      name: "val loss creeps up but val accuracy matches train accuracy",
      spec: healthy({
        series: {
          "train/acc": acc(0.1, 0.99),
          "val/acc": acc(0.1, 0.975),
          "val/loss": perEpoch((p) => 0.3 + (p - 0.4) ** 2),
        },
      }),
      raised: false,
    },
    {
      name: "the overfit-a-tiny-subset sanity check is supposed to overfit",
      spec: healthy({
        config: { tags: ["overfit-tiny"] },
        series: { "train/acc": acc(0.5, 1.0, { tau: 0.05 }), "val/acc": perEpoch((p) => (p < 0.1 ? 0.2 + 3 * p : 0.5)) },
      }),
      raised: false,
    },
  ],
  underfitting: [
    {
      // logistic regression on make_circles: at chance from the start, train and val alike
      name: "a linear model (watch()'s model event) at chance on two classes: no learning first to wait for",
      spec: linearRun(2, 0.52, 0.49, LINEAR),
      raised: true,
    },
    { name: "a linear model capped at 0.88 on moons, val tracking", spec: linearRun(2, 0.88, 0.87, LINEAR), raised: true },
    {
      name: "no model event (an older SDK): one measured layer and a config calling it a logistic regression",
      spec: withConfig(linearRun(2, 0.52, 0.49, LINEAR), { model: "logistic regression 2-2" }, []),
      raised: true,
    },
    {
      name: "no model event: one measured layer, but the config names a GRU before the linear head",
      spec: withConfig(linearRun(4, 0.26, 0.25, LINEAR), { model: "GRU(8->48) over image rows, linear head" }, []),
      raised: false,
    },
    {
      name: "no model event and no description: one measured layer says nothing of what else there is",
      spec: withConfig(linearRun(2, 0.52, 0.49, LINEAR), {}, []),
      raised: false,
    },
    { name: "a linear model that fits digits (0.98 / 0.96)", spec: linearRun(10, 0.98, 0.96, LINEAR), raised: false },
    {
      name: "a GRU before a linear head at chance: not a linear model (its GRU parameters are not watched)",
      spec: linearRun(4, 0.26, 0.25, { params: 1312, params_watched: 68, weighted_layers: 1, modules: { GRU: 1, Linear: 1 } }),
      raised: false,
    },
    {
      name: "a linear model far ahead on training data (0.9 / 0.6): a generalization gap, not capacity",
      spec: linearRun(10, 0.9, 0.6, LINEAR),
      raised: false,
    },
    {
      name: "a linear model live and still climbing steadily (0.5 -> 0.8): not judged yet",
      spec: (() => {
        const r = linearRun(2, 0.8, 0.79, LINEAR);
        r.series!["train/acc"] = perEpoch((p) => 0.5 + 0.3 * p);
        r.series!["val/acc"] = perEpoch((p) => 0.49 + 0.3 * p);
        return { ...r, finished: false };
      })(),
      raised: false,
    },
    {
      name: "train and val accuracy plateau together around 0.55",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.56, { tau: 0.1 }), "val/acc": acc(0.1, 0.54, { tau: 0.1, seed: 3 }), ...lossesAt(1.3) } }),
      raised: true,
    },
    {
      name: "loss only: train and val loss plateau together at 1.6 (10 classes)",
      spec: {
        config: { num_classes: 10 },
        series: {
          loss: decayingLoss(600, { floor: 1.6, tau: 0.1, noise: 0.02 }),
          val_loss: perEpoch((p) => 1.65 + 0.7 * Math.exp(-p / 0.1)),
        },
      },
      raised: true,
    },
    {
      name: "early in training everything is poor but still improving",
      spec: truncate(makeRun(healthy({ series: { "train/acc": acc(0.1, 0.9, { tau: 0.6 }), "val/acc": acc(0.1, 0.88, { tau: 0.6 }) } })), 0.3),
      raised: false,
    },
    {
      name: "flat at chance from the start (nothing learned: not a capacity problem)",
      spec: healthy({ series: { "train/acc": perEpoch(() => 0.1), "val/acc": perEpoch(() => 0.1) } }),
      raised: false,
    },
    {
      name: "plateau at a good level",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.95, { tau: 0.1 }), "val/acc": acc(0.1, 0.94, { tau: 0.1 }) } }),
      raised: false,
    },
    {
      name: "heavy weight decay caps train and val together at 0.78 / 0.77 (above the old fixed 0.7 cap)",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.78, { tau: 0.1 }), "val/acc": acc(0.1, 0.77, { tau: 0.1, seed: 3 }), ...lossesAt(0.9) } }),
      raised: true,
    },
    {
      name: "a model too small for the task, still creeping up (0.40 -> 0.62 -> 0.64), val tracking it",
      spec: healthy({
        series: {
          "train/acc": perEpoch((p) => 0.1 + 0.55 * (1 - Math.exp(-p / 0.25))),
          "val/acc": perEpoch((p) => 0.095 + 0.545 * (1 - Math.exp(-p / 0.25))),
          ...lossesAt(1.2),
        },
      }),
      raised: true,
    },
    {
      name: "a slow learner whose gains are not slowing down (0.2 -> 0.6 in a straight line): too early to judge",
      spec: healthy({ series: { "train/acc": perEpoch((p) => 0.2 + 0.4 * p), "val/acc": perEpoch((p) => 0.19 + 0.4 * p) } }),
      raised: false,
    },
    {
      name: "borderline: plateau at 0.915 / 0.905 (train error 8.5%, under 10% of an untrained model's 90%)",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.915, { tau: 0.1 }), "val/acc": acc(0.1, 0.905, { tau: 0.1, seed: 3 }) } }),
      raised: false,
    },
    {
      name: "noisy labels, a model with capacity to spare: accuracy 0.91 / 0.90 but the val loss 50% above the train loss",
      spec: healthy({
        config: { num_classes: 2 },
        series: {
          "train/acc": acc(0.5, 0.91, { tau: 0.1 }),
          "val/acc": acc(0.5, 0.9, { tau: 0.1, seed: 3 }),
          "train/loss": decayingLoss(600, { start: Math.log(2), floor: 0.17, tau: 0.1, noise: 0.05 }),
          "val/loss": perEpoch((p) => 0.26 + 0.43 * Math.exp(-p / 0.1)),
        },
      }),
      raised: false,
    },
    {
      name: "converges high: train 0.995, val 0.97 (the val error is a generalization gap)",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.995, { tau: 0.1 }), "val/acc": acc(0.1, 0.97, { tau: 0.1, seed: 3 }) } }),
      raised: false,
    },
    {
      name: "poor plateau but with a large gap",
      spec: healthy({ series: { "train/acc": acc(0.1, 0.65, { tau: 0.1 }), "val/acc": acc(0.1, 0.5, { tau: 0.1 }) } }),
      raised: false,
    },
  ],
  saturated_activations: [
    {
      name: "saturated_frac 0.9",
      spec: healthy({ series: layerStats(["fc1", "fc2"], { sat: () => 0.9 }) }),
      raised: true,
    },
    {
      name: "tanh histograms with the mass at +-1",
      spec: healthy({ histograms: { "act/fc1": [0, 15, 30].map((s) => hist(s, -1, 1, (x) => (Math.abs(x) > 0.93 ? 50 : 1))) } }),
      raised: true,
    },
    {
      name: "tanh net whose activation std is ~1",
      spec: healthy({ config: { hyperparams: { activation: "tanh" } }, series: layerStats(["fc1"], { astd: () => 0.99 }) }),
      raised: true,
    },
    { name: "saturated_frac 0.05", spec: healthy({ series: layerStats(["fc1"], { sat: () => 0.05 }) }), raised: false },
    { name: "borderline: saturated_frac 0.25", spec: healthy({ series: layerStats(["fc1"], { sat: () => 0.25 }) }), raised: false },
    {
      name: "healthy tanh histogram",
      spec: healthy({ histograms: { "act/fc1": [hist(15, -0.99, 0.99, (x) => Math.exp(-x * x * 4))] } }),
      raised: false,
    },
    { name: "ReLU histogram", spec: healthy({ histograms: { "act/fc1": [hist(15, 0, 5, (x) => Math.exp(-x))] } }), raised: false },
  ],
  dead_relu: [
    {
      name: "60% of units dead, accuracy capped at 0.6",
      spec: healthy({ series: { ...layerStats(LAYERS, { dead: (l) => (l === 1 ? 0.6 : 0) }), ...POOR_FIT } }),
      raised: true,
      severity: "warning",
    },
    {
      name: "a whole layer dead",
      spec: healthy({ series: layerStats(LAYERS, { dead: (l) => (l === 1 ? 1 : 0) }) }),
      raised: true,
      severity: "critical",
    },
    {
      name: "histograms: nearly every activation exactly 0",
      spec: healthy({ histograms: { "act/conv1": [hist(30, 0, 2, (x) => (x < 0.07 ? 97 : 0.1))] } }),
      raised: true,
    },
    {
      name: "60% of units dead in a model that fits its data (train acc 1.0): they cost nothing",
      spec: healthy({ series: layerStats(LAYERS, { dead: (l) => (l === 1 ? 0.6 : 0) }) }),
      raised: false,
    },
    { name: "3% dead", spec: healthy(), raised: false },
    { name: "borderline: 25% dead", spec: healthy({ series: layerStats(LAYERS, { dead: () => 0.25 }) }), raised: false },
    {
      name: "healthy ReLU histogram (about half the activations 0)",
      spec: healthy({ histograms: { "act/fc1": [hist(30, 0, 5, (x) => (x < 0.17 ? 9 : Math.exp(-x)))] } }),
      raised: false,
    },
    {
      name: "dead_frac counted per activation: 0.55 zeros is a healthy ReLU",
      spec: healthy({ config: { logging: { dead_frac_unit: "activation" } }, series: layerStats(LAYERS, { dead: () => 0.55 }) }),
      raised: false,
    },
  ],
  bad_initial_loss: [
    { name: "first loss 6 for 10 classes", spec: { config: { num_classes: 10 }, series: { loss: decayingLoss(200, { start: 6 }) } }, raised: true },
    {
      name: "first loss 0.5 at step 0 for 10 classes",
      spec: { config: { num_classes: 10 }, series: { loss: series(200, () => 0.5, 1, 0) } },
      raised: true,
    },
    {
      name: "first loss 2.5 for 10 classes",
      spec: { config: { num_classes: 10 }, series: { loss: decayingLoss(200, { start: 2.5 }) } },
      raised: false,
    },
    {
      name: "first logged loss is at step 500 (not the initial loss)",
      spec: { config: { num_classes: 10 }, series: { loss: series(200, () => 0.5, 10, 500) } },
      raised: false,
    },
    {
      name: "multiclass hinge loss starts at C-1",
      spec: { config: { num_classes: 10, loss: "multiclass SVM hinge" }, series: { loss: decayingLoss(200, { start: 9 }) } },
      raised: false,
    },
    { name: "no num_classes", spec: { series: { loss: decayingLoss(200, { start: 6 }) } }, raised: false },
    {
      name: "borderline: 1.4x ln C",
      spec: { config: { num_classes: 10 }, series: { loss: decayingLoss(200, { start: 1.4 * LN10, noise: 0 }) } },
      raised: false,
    },
  ],
  symmetric_init: [
    {
      name: "all weights zero and they stay zero",
      spec: healthy({ series: layerStats(LAYERS, { wstd: () => 0, wmean: () => 0, gstd: () => 0, ur: () => 0 }) }),
      raised: true,
      severity: "critical",
    },
    {
      name: "weights initialized to one constant",
      spec: healthy({ series: layerStats(LAYERS, { wstd: (_, p) => (p === 0 ? 0 : 0.01), wmean: () => 0.05 }) }),
      raised: true,
    },
    {
      name: "gradient exactly zero",
      spec: healthy({ series: layerStats(["fc1"], { gstd: () => 0, ur: () => 0 }) }),
      raised: true,
    },
    {
      name: "zero-initialized output layer that moves after the first update",
      spec: healthy({ series: layerStats(["fc3"], { wstd: (_, p) => (p === 0 ? 0 : 0.01 + 0.05 * p), wmean: () => 0 }) }),
      raised: false,
    },
    {
      name: "two zero-initialized adapter matrices that move after the first update",
      spec: healthy({
        series: layerStats(["adapter_up1", "adapter_up2"], { wstd: (_, p) => (p === 0 ? 0 : 1e-3 * (1 + p)), wmean: () => 0 }),
      }),
      raised: false,
    },
    {
      name: "LayerNorm gains start at 1 and biases at 0.01 (constant by design)",
      spec: healthy({ series: layerStats(["ln1", "fc1.bias"], { wstd: () => 0, wmean: (l) => (l === 0 ? 1 : 0.01) }) }),
      raised: false,
    },
    {
      name: "zero gradients behind a dead ReLU layer",
      spec: healthy({ series: layerStats(LAYERS, { gstd: () => 0, dead: () => 1 }) }),
      raised: false,
    },
  ],
  input_not_normalized: [
    {
      name: "raw pixel values 0..16",
      spec: { events: [{ type: "input_stats", step: 0, data: { mean: [0, 5.2, 11.8, 12, 5.8, 1.4], std: [0, 4.7, 4.3, 4.2, 5.6, 3.2] } }] },
      raised: true,
    },
    {
      name: "one feature on a much larger scale",
      spec: { events: [{ type: "input_stats", step: 0, data: { mean: [0, 0, 0, 0, 3], std: [1, 1, 1, 1, 1000] } }] },
      raised: true,
    },
    {
      name: "standardized (constant features have std 0)",
      spec: { events: [{ type: "input_stats", step: 0, data: { mean: [0, 1e-8, -2e-8, 0], std: [0, 1, 1, 0.99] } }] },
      raised: false,
    },
    {
      name: "images scaled to [0, 1]",
      spec: { events: [{ type: "input_stats", step: 0, data: { mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] } }] },
      raised: false,
    },
    { name: "no input_stats event", spec: healthy(), raised: false },
  ],
  gradcheck_failed: [
    {
      name: "relative error 5e-2",
      spec: { events: [{ type: "gradcheck", step: null, data: { param: "W1", rel_error: 5e-2 } }] },
      raised: true,
      severity: "critical",
    },
    {
      name: "relative error 1e-3",
      spec: { events: [{ type: "gradcheck", step: null, data: { param: "W1", rel_error: 1e-3 } }] },
      raised: true,
      severity: "warning",
    },
    { name: "relative error 1e-8", spec: { events: [{ type: "gradcheck", step: null, data: { param: "W1", rel_error: 1e-8 } }] }, raised: false },
    {
      name: "a failed check re-run after the fix",
      spec: {
        events: [
          { type: "gradcheck", step: 0, data: { param: "W1", rel_error: 0.3 } },
          { type: "gradcheck", step: 0, data: { param: "W1", rel_error: 2e-9 } },
        ],
      },
      raised: false,
    },
  ],
  loss_plateau: [
    {
      // a deep tanh net initialized N(0, 0.05) on plain SGD: at ln 8 for the first 27%, then it learns
      name: "a saddle at the start: at ln C for the first 30% of a finished run, then falling",
      spec: { ...saddle(0.3), finished: true },
      raised: true,
      severity: "info",
    },
    {
      name: "a saddle at the start, live: a share of the planned epochs x steps per epoch",
      spec: saddle(0.3, { epochs: 12, steps_per_epoch: 40 }, 0.7),
      raised: true,
    },
    {
      name: "live without a planned length: an early pause is no share of anything yet",
      spec: saddle(0.3, {}, 0.7),
      raised: false,
    },
    { name: "a short pause at the start (10% of the run)", spec: { ...saddle(0.1), finished: true }, raised: false },
    {
      name: "a warmup: the logged lr rises through the flat start",
      spec: { ...saddle(0.3, {}, 1, (p) => 1e-3 * Math.min(1, p / 0.3)), finished: true },
      raised: false,
    },
    {
      name: "never left its start (no_learning's and lr_too_low's case, not a saddle)",
      spec: { config: { num_classes: 8 }, series: { "train/loss": series(480, (i) => Math.log(8) * (1 + 0.01 * Math.sin(i))) }, finished: true },
      raised: false,
    },
    {
      name: "loss falls to 0.8 then stays flat for the last 40%",
      spec: {
        series: {
          loss: series(1000, (i, p) => (p < 0.6 ? 0.8 + 1.5 * (1 - p / 0.6) ** 2 : 0.8) * (1 + 0.03 * Math.sin(i * 1.7))),
          lr: constant(100, 0.01, 10),
        },
      },
      raised: true,
      severity: "info",
    },
    { name: "healthy: still falling", spec: healthy(), raised: false },
    {
      name: "flat near zero (converged)",
      spec: { series: { loss: series(1000, (_, p) => (p < 0.3 ? 2.3 * (1 - p / 0.3) + 0.01 : 0.01)) } },
      raised: false,
    },
    {
      name: "the learning rate was just decayed",
      spec: {
        series: {
          loss: series(1000, (_, p) => (p < 0.6 ? 0.8 + 1.5 * (1 - p / 0.6) ** 2 : 0.8)),
          lr: series(100, (_, p) => (p < 0.8 ? 0.1 : 0.01), 10),
        },
      },
      raised: false,
    },
  ],
  vanishing_gradients: [
    {
      name: "first-layer gradients 1e-5 of the last layer's",
      spec: { series: { loss: decayingLoss(600), ...layerStats(["l1", "l2", "l3", "l4"], { gstd: (l) => 10 ** (-8 + 2 * l) }) } },
      raised: true,
    },
    { name: "healthy gradient sizes", spec: healthy(), raised: false },
    {
      name: "a sparse embedding layer is not vanishing",
      spec: { series: { loss: decayingLoss(600), ...layerStats(["embedding", "fc1", "fc2"], { gstd: (l) => (l === 0 ? 1e-9 : 1e-3) }) } },
      raised: false,
    },
  ],
  exploding_gradients: [
    {
      name: "global gradient norm grows 1000x",
      spec: healthy({ series: { grad_norm: series(200, (_, p) => 10 ** (3 * p)) } }),
      raised: true,
    },
    {
      name: "gradients NaN",
      spec: healthy({ series: { grad_norm: series(200, (_, p) => (p > 0.5 ? NaN : 1)) } }),
      raised: true,
      severity: "critical",
    },
    {
      name: "first layer's gradients 1e4x the last layer's",
      spec: { series: { loss: decayingLoss(600), ...layerStats(["l1", "l2", "l3"], { gstd: (l) => 10 ** (2 - 2 * l) }) } },
      raised: true,
    },
    {
      name: "occasional Inf steps (AMP loss scaling)",
      spec: healthy({ series: { grad_norm: series(200, (i) => (i % 50 === 0 ? Infinity : 1)) } }),
      raised: false,
    },
    { name: "stable gradient norm", spec: healthy({ series: { grad_norm: series(200, (_, p) => 2 - p) } }), raised: false },
    {
      // an init too large for LeakyReLU: std x1.55 a layer at the start, tamed within a few updates
      name: "activation std grows x1.55 a layer over 8 layers at init, then settles",
      spec: healthy({ series: layerStats(DEEP, { astd: (l, p) => (p < 0.01 ? 1.55 ** l : 1 + 0.1 * l) }) }),
      raised: true,
    },
    {
      name: "the same growth at the second logged point",
      spec: healthy({ series: layerStats(DEEP, { astd: (l, p) => (p > 0.005 && p < 0.015 ? 1.6 ** l : 1) }) }),
      raised: true,
    },
    {
      name: "a healthy deep net: std level with depth (He init, normalization)",
      spec: healthy({ series: layerStats(DEEP, { astd: (l) => 1 + 0.05 * Math.sin(l) }) }),
      raised: false,
    },
    {
      // residual blocks add variance: the std grows, but linearly, not 10x
      name: "a residual net whose std grows by a fixed amount per block",
      spec: healthy({ series: layerStats(DEEP, { astd: (l) => Math.sqrt(1 + l) }) }),
      raised: false,
    },
    {
      name: "one big jump (an output scale), not a growth that compounds",
      spec: healthy({ series: layerStats(DEEP, { astd: (l) => (l === 7 ? 20 : 1) }) }),
      raised: false,
    },
    {
      name: "x1.6 a layer but only 4 layers deep (6.5x)",
      spec: healthy({ series: layerStats(DEEP.slice(0, 4), { astd: (l, p) => (p < 0.01 ? 1.6 ** l : 1) }) }),
      raised: false,
    },
    {
      name: "growth only after the first points (training made it, not the init)",
      spec: healthy({ series: layerStats(DEEP, { astd: (l, p) => (p > 0.5 ? 1.6 ** l : 1) }) }),
      raised: false,
    },
  ],
  noisy_loss: [
    {
      name: "loss jumping by as much as its level",
      spec: { series: { loss: series(600, (i, p) => Math.max(0.01, (2.3 - p) * (1 + 0.9 * gauss(i)()))) } },
      raised: true,
      severity: "info",
    },
    { name: "healthy minibatch noise", spec: healthy(), raised: false },
    {
      name: "converged loss with large relative but tiny absolute noise",
      spec: { series: { loss: decayingLoss(600, { floor: 0.001, tau: 0.05, noise: 0.8 }) } },
      raised: false,
    },
  ],
  overfit_sanity_failed: [
    {
      name: "tagged overfit-tiny, finished at 60% train accuracy",
      spec: { config: { tags: ["overfit-tiny"] }, series: { "train/acc": perEpoch((p) => 0.1 + 0.5 * p) }, finished: true },
      raised: true,
    },
    {
      name: "sanity: overfit_tiny_subset, loss only, ends far from 0",
      spec: { config: { sanity: "overfit_tiny_subset" }, series: { loss: series(200, (_, p) => 2.3 - p) }, finished: true },
      raised: true,
    },
    {
      name: "tagged and reaches 100%",
      spec: { config: { tags: ["overfit-tiny"] }, series: { "train/acc": perEpoch((p) => Math.min(1, 0.1 + 2 * p)) }, finished: true },
      raised: false,
    },
    {
      name: "tagged but still running",
      spec: { config: { tags: ["overfit-tiny"] }, series: { "train/acc": perEpoch((p) => 0.1 + 0.5 * p) }, finished: false },
      raised: false,
    },
    { name: "not a sanity run", spec: { series: { "train/acc": perEpoch((p) => 0.1 + 0.5 * p) }, finished: true }, raised: false },
  ],
  search_boundary: [
    {
      name: "best learning rate is the largest one tried",
      spec: { events: [{ type: "hparam_search", step: null, data: { param: "lr", values: [1e-4, 1e-3, 1e-2], best: 1e-2 } }] },
      raised: true,
    },
    {
      name: "best inside the range (scores given)",
      spec: {
        events: [
          {
            type: "hparam_search",
            step: null,
            data: {
              param: "lr",
              results: [
                { value: 1e-4, score: 0.5 },
                { value: 1e-3, score: 0.9 },
                { value: 1e-2, score: 0.6 },
              ],
            },
          },
        ],
      },
      raised: false,
    },
    {
      name: "only two values tried",
      spec: { events: [{ type: "hparam_search", step: null, data: { param: "lr", values: [1, 2], best: 2 } }] },
      raised: false,
    },
  ],
  no_learning: [
    {
      name: "labels shuffled apart from the inputs: loss ~ln 10, accuracy ~0.1, healthy updates",
      spec: atChance(),
      raised: true,
    },
    {
      name: "a net memorizing shuffled labels: train accuracy climbs to 0.9, validation stays at chance (not overfitting)",
      spec: atChance({
        series: {
          "train/loss": series(600, (_, p) => LN10 * Math.exp(-1.5 * p)),
          "train/acc": perEpoch((p) => 0.1 + 0.8 * p),
          "val/loss": perEpoch((p) => LN10 + 1.2 * p),
        },
      }),
      raised: true,
    },
    {
      name: "num_classes not in the config: C inferred from the first loss",
      spec: { ...atChance(), config: { model_layers: LAYERS } },
      raised: true,
    },
    {
      name: "only training accuracy logged, constant inputs",
      spec: atChance({ series: { "val/acc": { steps: [], values: [] }, "val/loss": { steps: [], values: [] } } }),
      raised: true,
    },
    {
      name: "a slow but steady learner (accuracy 0.1 -> 0.45, loss 2.3 -> 1.6)",
      spec: atChance({
        series: {
          "train/loss": series(600, (_, p) => LN10 - 0.7 * p),
          "train/acc": perEpoch((p) => 0.1 + 0.35 * p),
          "val/acc": perEpoch((p) => 0.1 + 0.33 * p),
        },
      }),
      raised: false,
    },
    {
      name: "borderline: accuracy still inside the chance band but rising steadily (0.10 -> 0.145)",
      spec: atChance({ series: { "train/acc": perEpoch((p) => 0.1 + 0.045 * p), "val/acc": perEpoch((p) => 0.1 + 0.045 * p) } }),
      raised: false,
    },
    {
      name: "two classes, a hard task creeping from 0.50 to 0.58 accuracy (loss 0.69 -> 0.66)",
      spec: atChance({
        config: { num_classes: 2 },
        series: {
          "train/loss": series(600, (_, p) => Math.log(2) - 0.03 * p),
          "val/loss": perEpoch((p) => Math.log(2) - 0.03 * p),
          "train/acc": perEpoch((p) => 0.5 + 0.08 * p),
          "val/acc": perEpoch((p) => 0.5 + 0.08 * p),
        },
      }),
      raised: false,
    },
    {
      name: "two classes, labels shuffled: accuracy 0.5, loss ln 2",
      spec: atChance({
        config: { num_classes: 2 },
        series: {
          "train/loss": series(600, (i) => Math.log(2) + 0.01 * Math.sin(i)),
          "val/loss": perEpoch(() => Math.log(2) + 0.002),
          "train/acc": perEpoch((p) => 0.5 + 0.01 * Math.sin(30 * p)),
          "val/acc": perEpoch((p) => 0.5 + 0.01 * Math.cos(30 * p)),
        },
      }),
      raised: true,
    },
    {
      name: "the learning rate is far too low (ratios ~1e-7): that is lr_too_low",
      spec: atChance({ series: layerStats(LAYERS, { ur: () => 1e-7 }) }),
      raised: false,
    },
    {
      name: "regression: no classes, no accuracy",
      spec: { config: {}, series: { "train/loss": series(600, () => 2.3), ...layerStats(LAYERS, { ur: () => 2e-3 }) } },
      raised: false,
    },
    {
      name: "borderline: at chance for the first 40% of the run, then learning",
      spec: atChance({
        series: {
          "train/loss": series(600, (_, p) => (p < 0.4 ? LN10 : LN10 * Math.exp(-3 * (p - 0.4)))),
          "train/acc": perEpoch((p) => (p < 0.4 ? 0.1 : 0.1 + 1.4 * (p - 0.4))),
          "val/acc": perEpoch((p) => (p < 0.4 ? 0.1 : 0.1 + 1.3 * (p - 0.4))),
        },
      }),
      raised: false,
    },
  ],
  loss_output_mismatch: [
    {
      name: "softmax before CrossEntropyLoss: accuracy 0.995, loss floors at ln(e + 9) - 1 = 1.46",
      spec: flooredRun(10, 0.995, 1.47),
      raised: true,
    },
    {
      name: "two classes: accuracy 0.98, loss floors at ln(1 + 1/e) = 0.313",
      spec: flooredRun(2, 0.98, 0.315),
      raised: true,
    },
    {
      name: "sigmoid before BCEWithLogitsLoss on 5 labels: accuracy 0.97, loss floors at 0.33",
      spec: flooredRun(5, 0.97, 0.33, { config: { loss: "BCEWithLogitsLoss" } }),
      raised: true,
    },
    {
      name: "a softmax over one output unit: the loss is exactly 0 on every step",
      spec: { config: { num_classes: 2 }, series: { "train/loss": constant(300, 0), ...layerStats(LAYERS, { ur: () => 0 }) } },
      raised: true,
    },
    {
      name: "ReLU on a regression output: predictions never below 0, targets down to -3",
      spec: { events: [{ type: "output_stats", step: 500, data: { pred_min: 0, pred_max: 2.9, target_min: -3.1, target_max: 3 } }] },
      raised: true,
    },
    { name: "healthy: accuracy 0.995, loss down to 0.02", spec: flooredRun(10, 0.995, 0.02), raised: false },
    { name: "label smoothing 0.1: accuracy 0.995, loss floors at 0.5", spec: flooredRun(10, 0.995, 0.5), raised: false },
    {
      name: "borderline: accuracy only 0.6 with the loss at 1.5 (a logits model could be there too)",
      spec: flooredRun(10, 0.6, 1.5),
      raised: false,
    },
    {
      name: "a constant full-batch loss with ratios ~1e-7 (the learning rate, not the output)",
      spec: { config: { num_classes: 10 }, series: { "train/loss": constant(300, 2.4), ...layerStats(LAYERS, { ur: () => 1e-7 }) } },
      raised: false,
    },
    {
      name: "a linear regression output: predictions cover the targets",
      spec: { events: [{ type: "output_stats", step: 500, data: { pred_min: -2.8, pred_max: 2.9, target_min: -3.1, target_max: 3 } }] },
      raised: false,
    },
    {
      name: "sigmoid on a standardized regression output (MSELoss): 55% of outputs pinned, loss stuck at half its start",
      spec: squashedRegression({ loss: "MSELoss" }, 0.55, 0.55),
      raised: true,
    },
    {
      name: "tanh on a regression output, said by config.task, 30% pinned",
      spec: squashedRegression({ task: "regression" }, 0.3, 0.6),
      raised: true,
    },
    {
      name: "regression known only by its logged val/mae, 40% pinned",
      spec: squashedRegression({}, 0.4, 0.5, { "val/mae": perEpoch((p) => 0.8 - 0.1 * p) }),
      raised: true,
    },
    {
      name: "multi-label sigmoid outputs (BCE) pinned near 0 and 1: confident, not a mismatch",
      spec: squashedRegression({ loss: "BCEWithLogitsLoss", num_classes: 5 }, 0.7, 0.3),
      raised: false,
    },
    {
      name: "a sigmoid output on targets inside [0, 1]: the fit reaches them (loss down to 5% of its start)",
      spec: squashedRegression({ loss: "MSELoss" }, 0.5, 0.05),
      raised: false,
    },
    {
      name: "borderline: 15% of outputs pinned (under output_squash_share)",
      spec: squashedRegression({ loss: "MSELoss" }, 0.15, 0.6),
      raised: false,
    },
  ],
  majority_class: [
    {
      name: "false alarm seen by a new user: healthy digits MLP, 5 epochs, val/acc 0.865 for 3 of them, no label statistics",
      spec: digitsEpochs(5),
      raised: false,
    },
    {
      name: "borderline without label statistics: 7 evaluations at 0.865 (under majority_inferred_min_evals = 8)",
      spec: digitsEpochs(8),
      raised: false,
    },
    {
      name: "borderline without label statistics: 8 evaluations at 0.865 while the loss slides (a long plateau reads as a constant answer)",
      spec: digitsEpochs(9),
      raised: true,
    },
    {
      name: "the same 5 epochs with label statistics saying 86.4% of the labels are one class, the loss near their entropy: raised",
      spec: digitsEpochs(5, {
        events: [labelEvent([1243, 160, 4, 4, 4, 4, 4, 4, 4, 6], "train"), labelEvent([311, 40, 1, 1, 1, 1, 1, 1, 1, 2], "val")],
      }),
      raised: true,
    },
    {
      name: "85% of the labels one class: accuracy pinned at the majority shares, loss sliding towards the priors (inferred)",
      spec: majority(),
      raised: true,
    },
    {
      name: "labels logged (80% class 0 of 5): training accuracy hovers at 0.80 +- 0.01",
      spec: majority({
        config: { num_classes: 5 },
        series: {
          "train/loss": decayingLoss(600, { start: Math.log(5), floor: 0.8, tau: 0.2, noise: 0.05 }),
          "train/acc": perEpoch((p) => (p === 0 ? 0.5 : 0.8 + 0.01 * Math.sin(37 * p))),
          "val/acc": { steps: [], values: [] },
          "val/loss": { steps: [], values: [] },
        },
        events: [labelEvent([800, 50, 50, 50, 50])],
      }),
      raised: true,
    },
    {
      name: "binary, 95% negatives: validation accuracy 0.95 from the first epoch, loss at h(0.95) = 0.2",
      spec: majority({
        config: { num_classes: 2 },
        series: {
          "train/loss": decayingLoss(600, { start: Math.log(2), floor: 0.205, tau: 0.1, noise: 0.05 }),
          "val/loss": perEpoch((p) => 0.21 + 0.45 * Math.exp(-p / 0.1)),
          "train/acc": perEpoch(() => 0.95),
          "val/acc": perEpoch(() => 0.95),
        },
      }),
      raised: true,
    },
    { name: "healthy: accuracy climbs to 0.97", spec: healthy(), raised: false },
    {
      name: "imbalanced labels learned well: 80% class 0, accuracy 0.80 -> 0.96",
      spec: healthy({ events: [labelEvent([800, 50, 50, 50, 50])], config: { num_classes: 5 } }),
      raised: false,
    },
    {
      name: "a collapsed learning rate freezes the net: accuracy pinned, lr ~0 (lr_too_low's business)",
      spec: majority({
        series: {
          lr: series(120, (i) => (i < 10 ? 1e-2 * 0.5 ** i : 1e-9), 5),
          ...layerStats(LAYERS, { ur: (_, p) => (p < 0.08 ? 1e-3 : 1e-10) }),
        },
      }),
      raised: false,
    },
    {
      name: "overfitting a tiny training set: val accuracy stuck at 0.805, train accuracy 1.0",
      spec: majority({ series: { "train/acc": perEpoch((p) => (p === 0 ? 0.5 : 1)), "val/acc": perEpoch((p) => (p === 0 ? 0.3 : 0.805)) } }),
      raised: false,
    },
    {
      name: "borderline: accuracy pinned at 0.80 but the loss (0.3) is below h(0.8) = 0.50, beyond any constant answer",
      spec: majority({
        series: {
          "train/loss": decayingLoss(600, { floor: 0.3, tau: 0.1, noise: 0.05 }),
          "val/loss": perEpoch((p) => 0.3 + 2 * Math.exp(-p / 0.1)),
          "train/acc": perEpoch((p) => (p === 0 ? 0.3 : 0.8)),
          "val/acc": perEpoch((p) => (p === 0 ? 0.3 : 0.8)),
        },
      }),
      raised: false,
    },
    {
      name: "labels logged, the net leans a little on the inputs: accuracy still at the 0.88 share, loss 15% under the priors' entropy",
      spec: majority({
        config: { num_classes: 4 },
        series: {
          "train/acc": perEpoch((p) => (p === 0 ? 0.84 : 0.88)),
          "val/acc": perEpoch(() => 0.88),
          "val/loss": perEpoch((p) => 0.42 + 0.3 * Math.exp(-p / 0.2)),
          "train/loss": decayingLoss(600, { start: Math.log(4), floor: 0.42, tau: 0.2, noise: 0.05 }),
        },
        events: [labelEvent([880, 40, 40, 40]), labelEvent([220, 10, 10, 10], "val")],
      }),
      raised: true,
    },
    {
      name: "a good model on a small validation set: accuracy pinned at 0.978 (one error in 45) while its loss falls",
      spec: majority({
        config: { num_classes: 3 },
        series: {
          "train/acc": perEpoch((p) => Math.min(0.985, 0.6 + 2 * p)),
          "val/acc": perEpoch((p) => (p < 0.3 ? 0.6 + p : 0.978)),
          "val/loss": perEpoch((p) => 0.12 + 0.9 * Math.exp(-p / 0.3)),
          "train/loss": decayingLoss(600, { start: Math.log(3), floor: 0.05, tau: 0.2, noise: 0.05 }),
        },
      }),
      raised: false,
    },
    {
      name: "borderline without label statistics: accuracy pinned at 0.85 and the loss already still at the priors (converged)",
      spec: majority({ series: { "val/loss": perEpoch(() => 0.72), "train/loss": series(600, () => 0.6) } }),
      raised: false,
    },
    {
      name: "borderline: validation accuracy wobbling by a point or two around 0.75 without label statistics",
      spec: majority({
        series: {
          "train/acc": perEpoch((p) => (p === 0 ? 0.3 : 0.76 + 0.015 * Math.sin(23 * p))),
          "val/acc": perEpoch((p) => (p === 0 ? 0.3 : 0.75 + 0.015 * Math.sin(29 * p))),
        },
      }),
      raised: false,
    },
  ],
  over_regularization: [
    {
      name: "weight decay 0.12: weights fall to a third of their size in the first epochs, accuracy capped at 0.77 / 0.76",
      spec: decayed(0.33),
      raised: true,
    },
    {
      name: "an L2 term in the loss (nothing in the config), loss only: weights shrink steadily to 40%, loss levels at 1.2",
      spec: {
        config: { num_classes: 10, model_layers: LAYERS },
        series: {
          "train/loss": decayingLoss(600, { floor: 1.2, tau: 0.1, noise: 0.02 }),
          "val/loss": perEpoch((p) => 1.22 + 1.1 * Math.exp(-p / 0.1)),
          ...layerStats(LAYERS, { ur: () => 5e-3, wstd: (l, p) => (0.07 - 0.02 * l) * (1 - 0.6 * Math.min(1, p / 0.5)) }),
        },
      },
      raised: true,
    },
    { name: "healthy: weights keep their size, the model fits", spec: healthy(), raised: false },
    {
      name: "weights shrink (weight decay over a long run) but the model fits: train 0.995, val 0.97",
      spec: decayed(0.3, { series: { "train/acc": acc(0.1, 0.995, { tau: 0.1 }), "val/acc": acc(0.1, 0.97, { tau: 0.1, seed: 3 }) } }),
      raised: false,
    },
    {
      name: "accuracy capped at 0.77 but the weights keep their size (underfitting only)",
      spec: decayed(1),
      raised: false,
    },
    {
      name: "Adam with weight decay 0.1: weights down to 65% of their start (under the 80% line when the config sets a decay)",
      spec: decayed(0.65, { config: { optimizer: "Adam", weight_decay: 0.1 } }),
      raised: true,
    },
    {
      name: "borderline: weight decay set, weights down to 85% of their start (above the 80% line), accuracy capped",
      spec: decayed(0.85),
      raised: false,
    },
    {
      name: "borderline: no weight decay in the config, weights down to 60% (above the 50% line), accuracy capped",
      spec: decayed(0.6, { config: { weight_decay: 0 } }),
      raised: false,
    },
  ],
  train_val_mismatch: [
    {
      name: "validation inputs divided by a near-zero std: val loss ~3e3 -> 9e4 from the first epoch, accuracy alike",
      spec: healthy({ series: { "val/loss": perEpoch((p) => 3000 + 86000 * p), "val/acc": acc(0.1, 0.96, { seed: 8 }) } }),
      raised: true,
    },
    {
      name: "val accuracy at chance while train accuracy is high from the first epoch",
      spec: healthy({
        series: {
          "train/acc": perEpoch((p) => 0.85 + 0.14 * p),
          "val/acc": perEpoch((p) => 0.1 + 0.01 * Math.sin(40 * p)),
          "val/loss": perEpoch(() => 2.4),
        },
      }),
      raised: true,
    },
    {
      name: "ordinary overfitting: val loss climbs gradually 0.5 -> 3, val accuracy 0.7",
      spec: healthy({
        series: {
          "train/acc": acc(0.1, 1.0),
          "val/acc": perEpoch((p) => Math.min(0.7, 0.1 + 3 * p)),
          "val/loss": perEpoch((p) => (p < 0.2 ? 2.3 - 9 * p : 0.5 + 3 * (p - 0.2))),
        },
      }),
      raised: false,
    },
    {
      name: "a bad first evaluation only, normal afterwards",
      spec: healthy({ series: { "val/loss": perEpoch((p) => (p === 0 ? 3000 : 0.08 + 2.2 * Math.exp(-p / 0.15))) } }),
      raised: false,
    },
    {
      name: "borderline: val loss 8x an untrained model's (under tv_loss_factor 10)",
      spec: healthy({ series: { "val/loss": perEpoch(() => 8 * 2.35), "val/acc": acc(0.1, 0.96, { seed: 8 }) } }),
      raised: false,
    },
  ],
  // more cases (period sources, lr restarts, borderlines) in unshuffled-data.test.ts
  unshuffled_data: [
    { name: "label-sorted: a sawtooth repeating every epoch", spec: sawtoothRun(3), raised: true },
    { name: "shuffled: no shape repeats from epoch to epoch", spec: sawtoothRun(0), raised: false },
  ],
};

/** 20 epochs of 50 steps; `saw` > 0: a jump at the start of each of 5 class blocks, unlearned within it. */
function sawtoothRun(saw: number): RunSpec {
  const g = gauss(3);
  const trend = (i: number) => 0.2 + 2 * Math.exp(-i / 100);
  return {
    config: { num_classes: 5 },
    series: {
      "train/loss": series(1000, (i) => Math.max(1e-4, trend(i) * (1 + saw * Math.exp(-(i % 10) / 2.5)) * (1 + 0.15 * g())), 1, 0),
      epoch: series(1000, (i) => i / 50, 1, 0),
    },
  };
}

describe.each(Object.keys(cases))("%s", (code) => {
  test.each(cases[code])("$name -> raised: $raised", (c) => check(code, c));
});

test("loss_output_mismatch's bounds: ln(e + C - 1) - 1 for probabilities as logits, Fano at an error rate", () => {
  expect(boundedLogitFloor(10)).toBeCloseTo(Math.log(Math.E + 9) - 1, 12);
  expect(boundedLogitFloor(10)).toBeCloseTo(1.4612, 4);
  expect(boundedLogitFloor(2)).toBeCloseTo(Math.log(1 + Math.exp(-1)), 12);
  // wider logit ranges lower the floor towards 0
  expect(boundedLogitFloor(10, 20)).toBeLessThan(1e-7);
  expect(fanoLoss(0, 10)).toBe(0);
  expect(fanoLoss(0.9, 10)).toBeCloseTo(Math.log(10), 12); // uniform guessing
  expect(fanoLoss(0.004, 10)).toBeLessThan(0.05);
});

test.each<[string, string, () => RunSpec, number[]]>([
  ["no_learning", "labels shuffled", () => atChance(), [0.5, 0.75]],
  ["loss_output_mismatch", "softmax before CrossEntropyLoss", () => flooredRun(10, 0.995, 1.47), [0.6, 0.8]],
  ["train_val_mismatch", "val inputs blown up", () => healthy({ series: { "val/loss": perEpoch((p) => 3000 + 86000 * p) } }), [0.25, 0.5]],
  ["majority_class", "85% one class", () => majority(), [0.5, 0.75]],
  ["over_regularization", "weight decay 0.12", () => decayed(0.33), [0.5, 0.75]],
  ["underfitting", "weight decay 0.12", () => decayed(0.33), [0.5, 0.75]],
])("%s is raised live, part-way through the run (%s)", (code, _name, spec, fracs) => {
  const run = makeRun({ ...spec(), finished: true });
  for (const frac of fracs)
    expect(
      diagnose(truncate(run, frac), { strict: true }).map((d) => d.code),
      `at ${frac}`,
    ).toContain(code);
});

test("heavy weight decay: over_regularization is the cause and underfitting its symptom, both raised", () => {
  const found = diagnose(makeRun(decayed(0.33)), { strict: true });
  expect(found.map((d) => d.code).sort()).toEqual(["over_regularization", "underfitting"]);
  const d = found.find((x) => x.code === "over_regularization")!;
  expect(d.evidence).toMatchObject({ weight_decay: 0.12, weight_decay_key: "weight_decay", shrunk_layers: "fc1, fc2, fc3" });
  expect(d.evidence.median_weight_ratio).toBeCloseTo(0.33, 1);
});

test("majority_class with label statistics names the class and the priors' entropy; it hides underfitting", () => {
  const counts = [850, 100, 10, 10, 10, 4, 4, 4, 4, 4];
  const found = diagnose(
    makeRun(majority({ events: [labelEvent(counts, "train"), labelEvent([796, 150, 10, 10, 10, 4, 5, 5, 5, 5], "validation")] })),
    {
      strict: true,
    },
  );
  expect(found.map((d) => d.code)).toEqual(["majority_class"]);
  expect(found[0].evidence).toMatchObject({ label_stats: true, majority_class: 0, majority_share: 0.796, acc_key: "val/acc" });
  expect(found[0].evidence.prior_entropy).toBeCloseTo(0.7324, 3);
});

// A ported W&B script logged only val/acc and train/loss: the message said 'The loss (0.365 on
// "train/loss") is not below 0.395' — a number plainly below the other. The words follow the numbers.
test.each([
  ["above the floor", 0.6, "is not below"],
  ["a little under the floor (within majority_inferred_loss_frac)", 0.33, "is barely below"],
])("majority_class (inferred) with the loss %s says so in words that match its numbers", (_label, level, words) => {
  const run = makeRun(
    majority({
      series: {
        "train/loss": series(600, (_, p) => level + 1.85 * Math.exp(-p / 0.35)),
        "val/loss": { steps: [], values: [] },
        "train/acc": { steps: [], values: [] },
      },
    }),
  );
  const found = diagnose(run, { strict: true }).find((d) => d.code === "majority_class");
  expect(found).toBeDefined();
  const m = /The loss \(([0-9.]+) on "train\/loss"\) (is (?:not|barely) below) ([0-9.]+)/.exec(found?.message ?? "");
  expect(m, found?.message).not.toBeNull();
  expect(m?.[2], found?.message).toBe(words);
  if (words === "is not below") expect(Number(m?.[1])).toBeGreaterThanOrEqual(Number(m?.[3]));
  else expect(Number(m?.[1])).toBeLessThan(Number(m?.[3]));
});

test("memorized shuffled labels are no_learning, not overfitting", () => {
  const run = makeRun(
    atChance({
      series: {
        "train/loss": series(600, (_, p) => LN10 * Math.exp(-1.5 * p)),
        "train/acc": perEpoch((p) => 0.1 + 0.8 * p),
        "val/loss": perEpoch((p) => LN10 + 1.2 * p),
      },
    }),
  );
  const codes = diagnose(run, { strict: true }).map((d) => d.code);
  expect(codes).toContain("no_learning");
  expect(codes).not.toContain("overfitting");
});

test("a per-batch lr collapse is lr_too_low once a quarter of the run is frozen, and only lr_too_low", () => {
  const spec: RunSpec = {
    config: { num_classes: 10, model_layers: LAYERS },
    series: { "train/loss": frozenAfter(100), lr: perBatchStepLr, ...ratiosFollowing(perBatchStepLr, 0.05, 5e-3) },
  };
  const run = makeRun(spec);
  expect(diagnose(truncate(run, 0.75), { strict: true }).map((d) => d.code)).toEqual(["lr_too_low"]);
  const d = diagnose(run, { strict: true }).find((x) => x.code === "lr_too_low")!;
  expect(d.evidence).toMatchObject({ key: "lr", peak_lr: 0.05 });
  // 0.05 / 2^10 < 1e-3 x 0.05 from step 100 on; long series are read through a strided sample
  expect(d.step).toBeGreaterThanOrEqual(100);
  expect(d.step).toBeLessThanOrEqual(103);
  expect(d.evidence.collapsed_since_step).toBe(d.step);
});

test("a per-batch ExponentialLR collapse stays raised while the run goes on", () => {
  const run = makeRun({
    config: { num_classes: 10 },
    series: {
      "train/loss": frozenAfter(10, { level: 1.95, seed: 8 }),
      "val/loss": epochs(() => 1.96),
      lr: series(STEPS, (i) => 0.05 * 0.9 ** i, 1, 0),
    },
  });
  for (const frac of [0.3, 0.5, 0.75, 1])
    expect(
      diagnose(truncate(run, frac), { strict: true }).map((d) => d.code),
      `at ${frac}`,
    ).toContain("lr_too_low");
});

test("every code has a positive and a negative case", () => {
  for (const code of DIAGNOSIS_CODES) {
    expect(
      cases[code]?.some((c) => c.raised),
      code,
    ).toBe(true);
    expect(
      cases[code]?.some((c) => !c.raised),
      code,
    ).toBe(true);
  }
});

test("every default threshold is a finite number", () => {
  for (const [name, v] of Object.entries(DEFAULT_THRESHOLDS)) expect(Number.isFinite(v), name).toBe(true);
});

// ---- scale ----------------------------------------------------------------------------------

describe("a big run (100 keys x 100,000 points)", () => {
  const N = 100_000;
  const steps = Array.from({ length: N }, (_, i) => i + 1);
  const u = gauss(5);
  const mk = (f: (p: number) => number): SeriesPoints => ({ steps, values: steps.map((s) => f(s / N)) });
  const big = (): RunData => {
    const s: Record<string, SeriesPoints> = {
      "train/loss": mk((p) => (0.05 + 2.25 * Math.exp(-p / 0.2)) * (1 + 0.05 * u())),
      "val/loss": mk((p) => 0.1 + 2.2 * Math.exp(-p / 0.2)),
      "train/acc": mk((p) => 1 - 0.9 * Math.exp(-p / 0.2)),
      "val/acc": mk((p) => 0.96 - 0.86 * Math.exp(-p / 0.2)),
      lr: mk(() => 1e-3),
    };
    for (let l = 0; l < 19; l++) {
      s[`update_ratio/l${l}`] = mk(() => 1e-3 * (1 + 0.2 * u()));
      s[`grad/l${l}/std`] = mk((p) => 1e-3 * (1 + p));
      s[`weight/l${l}/std`] = mk(() => 0.1);
      s[`act/l${l}/dead_frac`] = mk(() => 0.01);
      s[`act/l${l}/std`] = mk(() => 1);
    }
    return makeRun({ config: { num_classes: 10 }, series: s });
  };

  test("healthy: nothing raised; a NaN at the very end is caught", () => {
    const run = big();
    expect(run.series.size).toBe(100);
    expect(diagnose(run, { strict: true })).toEqual([]);
    const loss = run.series.get("train/loss")!;
    loss.values[N - 1] = NaN;
    const d = diagnose(run, { strict: true });
    expect(d.map((x) => x.code)).toEqual(["divergence"]);
    expect(d[0].step).toBe(N);
  });
});

test("a linear model at chance: underfitting names the capacity, and no_learning leaves the run to it", () => {
  const found = diagnose(makeRun(linearRun(2, 0.5, 0.49, LINEAR)), { strict: true });
  const codes = found.map((d) => d.code);
  expect(codes).toContain("underfitting");
  expect(codes).not.toContain("no_learning");
  expect(found.find((d) => d.code === "underfitting")!.evidence).toMatchObject({ linear_model: true, params: 6 });
  // the same run without the model event: a net that learned nothing, underfitting hidden as before
  const deep = diagnose(makeRun({ ...linearRun(2, 0.5, 0.49, LINEAR), events: [] }), { strict: true }).map((d) => d.code);
  expect(deep).not.toContain("underfitting");
  expect(deep).toContain("no_learning");
});
