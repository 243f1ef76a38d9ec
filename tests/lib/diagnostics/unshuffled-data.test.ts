import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { seriesReader } from "../../../lib/diagnostics/keys";
import { gauss, makeRun, series, type RunSpec } from "./synth";

// unshuffled_data: training data in the same order every epoch (sorted by label): the loss repeats a
// sawtooth with the epoch's period. Synthetic per-step losses of 20 epochs x P steps; the epoch rides
// along as its own series, as the SDKs send it.

const C = 5;

/** Loss at step i: a decaying trend, plus (sorted) a jump at the start of each class's block that the
 * model then unlearns, plus minibatch noise. */
function lossRun(
  opts: {
    period?: number;
    epochs?: number;
    sawtooth?: number;
    noise?: number;
    seed?: number;
    lrRestarts?: boolean;
    epochKey?: boolean;
    config?: Record<string, unknown>;
    /** the loss of each epoch's last batch (smaller when drop_last=False) times this */
    lastBatch?: number;
  } = {},
): RunSpec {
  const { period = 50, epochs = 20, sawtooth = 0, noise = 0.15, seed = 1, lrRestarts = false, epochKey = true, lastBatch = 1 } = opts;
  const g = gauss(seed);
  const n = period * epochs;
  const block = period / C;
  const trend = (i: number) => 0.2 + 2 * Math.exp(-i / (2 * period));
  const loss = series(
    n,
    (i) => {
      const inBlock = (i % period) % block;
      const saw = sawtooth * trend(i) * Math.exp(-inBlock / (block / 4));
      const last = i % period === period - 1 ? lastBatch : 1;
      return Math.max(1e-4, (trend(i) + saw) * (1 + noise * g()) * last);
    },
    1,
    0,
  );
  const lr = series(n, (i) => (lrRestarts ? 1e-3 * (0.5 + 0.5 * Math.cos((Math.PI * (i % period)) / period)) : 1e-3), 1, 0);
  const out: RunSpec = {
    config: { num_classes: C, batch_size: 32, ...opts.config },
    series: {
      "train/loss": loss,
      lr,
      "val/acc": series(epochs, (_, p) => 0.5 + 0.4 * p, period, period - 1),
      "val/loss": series(epochs, (_, p) => 1.2 - 0.8 * p, period, period - 1),
    },
  };
  if (epochKey) out.series!.epoch = series(n, (i) => i / period, 1, 0);
  return out;
}

/** The first sorted-data batches of a class: every position in the epoch shares one big shape. */
const sorted = (extra: Parameters<typeof lossRun>[0] = {}) => lossRun({ sawtooth: 3, ...extra });

function raised(spec: RunSpec): string[] {
  return diagnose(makeRun(spec), { strict: true }).map((d) => d.code);
}

describe("unshuffled_data", () => {
  test.each([
    { name: "label-sorted, period from the logged epoch", spec: () => sorted(), raised: true },
    { name: "label-sorted, another seed and period", spec: () => sorted({ period: 80, seed: 9 }), raised: true },
    {
      name: "label-sorted, period from config.steps_per_epoch",
      spec: () => sorted({ epochKey: false, config: { steps_per_epoch: 50 } }),
      raised: true,
    },
    {
      name: "label-sorted, period from n_train / batch_size",
      spec: () => sorted({ epochKey: false, config: { n_train: 1600, batch_size: 32 } }),
      raised: true,
    },
    { name: "label-sorted, period from the spacing of evaluations", spec: () => sorted({ epochKey: false }), raised: true },
    { name: "label-sorted under heavy minibatch noise", spec: () => sorted({ noise: 0.5, seed: 4 }), raised: true },
    { name: "shuffled: noise around the trend", spec: () => lossRun(), raised: false },
    { name: "shuffled, another seed, noisier", spec: () => lossRun({ seed: 5, noise: 0.4 }), raised: false },
    { name: "a per-epoch lr restart (SGDR) shapes the loss each epoch: the lr explains it", spec: () => sorted({ lrRestarts: true }), raised: false },
    // drop_last=False: the epoch's last batch holds the few samples left over, and its loss stands
    // out at the same place every epoch although the data is shuffled
    { name: "shuffled, the small last batch of each epoch has a far lower loss", spec: () => lossRun({ period: 22, lastBatch: 0.1 }), raised: false },
    {
      name: "shuffled, the small last batch's loss is far higher (batchnorm on 3 samples)",
      spec: () => lossRun({ period: 22, lastBatch: 3 }),
      raised: false,
    },
    { name: "label-sorted with a small last batch too", spec: () => sorted({ period: 22, lastBatch: 0.1 }), raised: true },
    { name: "borderline: label-sorted, and the last batch far higher", spec: () => lossRun({ period: 22, sawtooth: 3, lastBatch: 3 }), raised: true },
    {
      name: "borderline: a faint repeating shape (swing under 25% of the level)",
      spec: () => lossRun({ sawtooth: 0.08, noise: 0.02 }),
      raised: false,
    },
    { name: "borderline: only 3 epochs logged", spec: () => sorted({ epochs: 3 }), raised: false },
    {
      name: "no period known (no epoch, config or evaluations)",
      spec: () => {
        const s = sorted({ epochKey: false });
        delete s.series!["val/acc"];
        delete s.series!["val/loss"];
        return s;
      },
      raised: false,
    },
  ])("$name -> raised: $raised", ({ spec, raised: want }) => {
    expect(raised(spec()).includes("unshuffled_data")).toBe(want);
  });

  test("the alert explains itself with the period, its source and the periodicity numbers", () => {
    const d = diagnose(makeRun(sorted()), { strict: true }).find((x) => x.code === "unshuffled_data")!;
    expect(d.severity).toBe("warning");
    expect(d.message).toMatch(/every epoch \(50 steps, from the logged epoch\)/);
    expect(d.message).toMatch(/[Ss]huffle/);
    expect(d.evidence).toMatchObject({ key: "train/loss", steps_per_epoch: 50, period_from: "the logged epoch" });
    expect(d.evidence.odd_even_correlation as number).toBeGreaterThan(0.9);
    expect(d.evidence.acf_at_epoch as number).toBeGreaterThan(d.evidence.acf_quarter_epoch_off as number);
  });

  test("per-minibatch dead shares swinging with the class of the batch are not reported as dead ReLUs", () => {
    const spec = sorted();
    // single-class batches: most units are silent on the classes they do not code for
    spec.series!["act/fc1/dead_frac"] = series(1000, (i) => 0.3 + 0.5 * ((i % 10) / 10), 1, 0);
    const codes = raised(spec);
    expect(codes).toContain("unshuffled_data");
    expect(codes).not.toContain("dead_relu");
  });
});

test("the server holds the epoch series for the diagnostics (seriesReader), under its names in any case", () => {
  const reads = seriesReader({});
  for (const key of ["epoch", "Epoch", "train/epoch", "trainer/epoch"]) expect(reads(key)).toBe(true);
  expect(reads("epochs_seen")).toBe(false);
  expect(seriesReader({ babysit: { keys: { epoch: "my/epoch" } } })("my/epoch")).toBe(true);
});

test("the sawtooth's jumps at each new class are not reported as a loss that exploded and came back", () => {
  const g = gauss(2);
  // learned fast, then each class's first batches cost up to 22 (> 3x the starting 3) for 5 of its
  // 12 steps (5 classes, 60 steps per epoch, 8 epochs)
  const loss = series(480, (i) => (0.1 + 2.9 * Math.exp(-i / 20) + (i >= 60 ? 22 * Math.exp(-(i % 12) / 5) : 0)) * (1 + 0.03 * g()), 1, 0);
  const spec: RunSpec = { config: { num_classes: 10 }, series: { "train/loss": loss, epoch: series(480, (i) => i / 60, 1, 0) } };
  const codes = raised(spec);
  expect(codes).toContain("unshuffled_data");
  expect(codes).not.toContain("divergence");
  // the same losses with no way to know the epoch: the jumps read as a blow-up that came back
  delete spec.series!.epoch;
  expect(raised(spec)).toContain("divergence");
});
