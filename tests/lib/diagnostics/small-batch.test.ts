import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { deadLimitForBatch } from "../../../lib/diagnostics/rules/dead-relu";
import { gauss, makeRun, rng, series, type RunSpec } from "./synth";

// Batch size 1 (and other tiny batches): each loss point is one sample's loss, exponential-like
// around the model's mean loss (0.001 or 10 around ln 3), and a per-batch dead share counts every
// unit that is 0 on that one input. These artefacts must raise nothing but noisy_loss; real dead
// units, divergence and a bad initial loss must still be found at any batch size.

const LN3 = Math.log(3);

/** Per-sample losses: exponential draws around a mean that follows `mean(p)`, every step. */
function sampleLosses(n: number, mean: (p: number) => number, seed = 3) {
  const u = rng(seed);
  return series(n, (_, p) => mean(p) * -Math.log(1 - u() * 0.999999), 1, 0);
}

/** Per-batch dead shares every 5 steps: `dead` of the units dead for good, the live ones zero on a
 * share `z` of single inputs, so missing a batch of `batch` with probability z^batch (binomial over 50 units). */
function deadShares(n: number, dead: number, batch: number, z = 0.6, seed = 5) {
  const u = rng(seed);
  const units = 50;
  return series(
    n,
    () => {
      let zeros = 0;
      for (let k = 0; k < units; k++) if (k < dead * units || u() < z ** batch) zeros++;
      return zeros / units;
    },
    5,
    0,
  );
}

function perEpoch(f: (p: number) => number, n = 10, every = 500) {
  return series(n, (_, p) => f(p), every, every - 1);
}

/** A healthy 3-class run of 5000 steps at batch size `batch` (loss points of `batch` samples each). */
function smallBatchRun(opts: { batch?: number | null; mean?: (p: number) => number; dead?: number; seed?: number } = {}): RunSpec {
  const { batch = 1, dead = 0, seed = 3 } = opts;
  const mean = opts.mean ?? ((p: number) => 0.25 + (LN3 - 0.25) * Math.exp(-p / 0.05));
  const b = batch ?? 1;
  // a batch of b samples averages b exponential draws
  const draws = Array.from({ length: b }, (_, k) => sampleLosses(5000, mean, seed + 17 * k));
  const loss = { steps: draws[0].steps, values: draws[0].values.map((_, i) => draws.reduce((a, d) => a + d.values[i], 0) / b) };
  const g = gauss(seed + 1);
  const config: Record<string, unknown> = { num_classes: 3, loss: "CrossEntropyLoss", activation: "relu", model_layers: ["fc1", "out"] };
  if (batch !== null) config.batch_size = batch;
  return {
    config,
    series: {
      "train/loss": loss,
      "train/acc": perEpoch((p) => 0.8 + 0.02 * p + 0.005 * g()),
      "val/acc": perEpoch((p) => 0.8 + 0.02 * p + 0.005 * g()),
      "val/loss": perEpoch(() => 0.45 + 0.01 * g()),
      lr: series(1000, () => 0.01, 5, 0),
      "update_ratio/fc1": series(1000, () => 2e-3 * (1 + 0.3 * g()), 5, 0),
      "update_ratio/out": series(1000, () => 5e-3 * (1 + 0.3 * g()), 5, 0),
      "act/fc1/dead_frac": deadShares(1000, dead, b, 0.6, seed + 2),
    },
  };
}

function codes(spec: RunSpec): string[] {
  return diagnose(makeRun(spec), { strict: true }).map((d) => d.code);
}

describe("batch size 1: sampling noise raises only noisy_loss", () => {
  test.each([
    { name: "batch_size 1 in the config", spec: () => smallBatchRun({ batch: 1 }) },
    { name: "batch_size 1, another seed", spec: () => smallBatchRun({ batch: 1, seed: 11 }) },
    { name: "no batch size in the config (read from the noise)", spec: () => smallBatchRun({ batch: null }) },
    { name: "batch_size 2", spec: () => smallBatchRun({ batch: 2, seed: 21 }) },
  ])("$name", ({ spec }) => {
    const got = codes(spec());
    for (const code of ["dead_relu", "divergence", "bad_initial_loss", "lr_too_high"]) expect(got, got.join(", ")).not.toContain(code);
    expect(got).toContain("noisy_loss");
  });

  test("noisy_loss names the batch as the likely cause", () => {
    const d = diagnose(makeRun(smallBatchRun({ batch: 1 })), { strict: true }).find((x) => x.code === "noisy_loss")!;
    expect(d.message).toContain("single sample");
    expect(d.evidence).toMatchObject({ batch_size: 1, batch_size_from: "batch_size" });
  });
});

describe("real faults are still found at small batch sizes", () => {
  test.each([
    { name: "B=1, a layer 95% dead", code: "dead_relu", spec: () => smallBatchRun({ batch: 1, dead: 0.95 }), severity: "critical" },
    { name: "B=4, a layer 80% dead", code: "dead_relu", spec: () => smallBatchRun({ batch: 4, dead: 0.8 }), severity: "warning" },
    {
      name: "B=1 without a batch size, a layer 95% dead",
      code: "dead_relu",
      spec: () => smallBatchRun({ batch: null, dead: 0.95 }),
      severity: "critical",
    },
    {
      name: "B=1, the mean loss explodes 20x after mid-run",
      code: "divergence",
      spec: () => smallBatchRun({ batch: 1, mean: (p) => (p < 0.5 ? 0.3 : 0.3 + 40 * (p - 0.5)) }),
      severity: "critical",
    },
    {
      name: "B=1, exploded for a stretch and came back",
      code: "divergence",
      spec: () => smallBatchRun({ batch: 1, mean: (p) => (p > 0.4 && p < 0.5 ? 12 : 0.3 + 0.8 * Math.exp(-p / 0.05)) }),
      severity: "warning",
    },
    {
      name: "B=1, a NaN",
      code: "divergence",
      spec: () => {
        const s = smallBatchRun({ batch: 1 });
        s.series!["train/loss"].values[4200] = Number.NaN;
        return s;
      },
      severity: undefined,
    },
    {
      name: "B=1, the first 64 samples average 5x ln C",
      code: "bad_initial_loss",
      spec: () => smallBatchRun({ batch: 1, mean: (p) => 0.25 + 5 * LN3 * Math.exp(-p / 0.05) }),
      severity: "warning",
    },
  ])("$name -> $code", ({ code, spec, severity }) => {
    const d = diagnose(makeRun(spec()), { strict: true }).find((x) => x.code === code);
    expect(
      d,
      diagnose(makeRun(spec()))
        .map((x) => x.code)
        .join(", "),
    ).toBeDefined();
    if (severity) expect(d!.severity).toBe(severity);
  });

  test.each([
    { name: "B=4, a healthy layer whose units miss a batch by chance", spec: () => smallBatchRun({ batch: 4 }), raised: false },
    { name: "B=4, 20% of the units dead (under dead_frac 0.3)", spec: () => smallBatchRun({ batch: 4, dead: 0.2 }), raised: false },
    {
      name: "B=1, 60% dead: a batch of one cannot tell it from live units missing (limit 0.9)",
      spec: () => smallBatchRun({ batch: 1, dead: 0.6 }),
      raised: false,
    },
  ])("borderline dead_relu: $name -> raised: $raised", ({ spec, raised }) => {
    expect(codes(spec()).includes("dead_relu")).toBe(raised);
  });
});

describe("bad_initial_loss with small batches reads the first 64 samples and the very first points", () => {
  test.each([
    {
      name: "labels leak into the inputs: every sample's loss ~0.05 from the start",
      spec: () => smallBatchRun({ batch: 1, mean: () => 0.05 }),
      raised: true,
    },
    {
      // sorted by label, batch size 1: the first 40 samples are one class, learned within them (iris, measured)
      name: "label-sorted data: the model learns the first class within the pooled points",
      spec: () => {
        const s = smallBatchRun({ batch: 1 });
        s.series!["train/loss"].values = s.series!["train/loss"].values.map((v, i) =>
          i < 40 ? LN3 * 0.9 * Math.exp(-i / 6) : i < 64 ? 2.5 * Math.exp(-(i - 40) / 8) : v,
        );
        return s;
      },
      raised: false,
    },
  ])("$name -> raised: $raised", ({ spec, raised }) => {
    expect(codes(spec()).includes("bad_initial_loss")).toBe(raised);
  });
});

describe("without a batch size, a dead share that flickers from batch to batch is read as zeros of live units", () => {
  const smoothLoss = () => series(5000, (_, p) => 0.25 + (LN3 - 0.25) * Math.exp(-p / 0.05), 1, 0);
  test.each([
    { name: "flickering around 0.55 (a batch of one's zeros), smooth loss", dead: () => deadShares(1000, 0, 1), raised: false },
    {
      name: "60% of the units dead for good, steady share",
      dead: () => {
        const g = gauss(8);
        return series(1000, () => 0.6 + 0.005 * g(), 5, 0);
      },
      raised: true,
    },
    { name: "95% dead, flickering (a batch of one)", dead: () => deadShares(1000, 0.95, 1), raised: true },
  ])("$name -> raised: $raised", ({ dead, raised }) => {
    const spec = smallBatchRun({ batch: null });
    spec.series!["train/loss"] = smoothLoss();
    spec.series!["act/fc1/dead_frac"] = dead();
    expect(codes(spec).includes("dead_relu")).toBe(raised);
  });
});

test.each([
  [1, 0.9],
  [2, 0.81],
  [4, 0.68],
  [16, 0.36],
  [256, 0.3],
])("the dead_relu limit at batch size %d is %d", (batch, limit) => {
  expect(deadLimitForBatch(0.3, 0.9, batch)).toBeCloseTo(limit, 2);
});
