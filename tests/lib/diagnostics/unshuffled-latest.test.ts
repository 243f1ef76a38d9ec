// unshuffled_data read over the latest epochs (issue #10): a short run on label-sorted data whose first
// epoch is spent learning (the loss jumping from ln C to twice it and back) hides the order's shape in
// the whole run, and its second half holds too few epochs. The latest ~4.5 epochs show it: most of the
// variance explained by the position in the epoch, and an autocorrelation peaking at exactly one epoch.
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { gauss, makeRun, series, type RunSpec } from "./synth";

interface Opts {
  C?: number;
  period?: number;
  epochs?: number;
  /** how strongly each class's own difficulty shapes its batches' loss (0: shuffled) */
  sawtooth?: number;
  /** a slow wobble of the loss (share of the level) with this period in epochs, instead of the epoch's */
  wobble?: { amp: number; epochs: number } | null;
  /** log the loss every `every` steps */
  every?: number;
  noise?: number;
  seed?: number;
  keys?: { loss: string; valAcc: string };
}

function run(o: Opts = {}): RunSpec {
  const { C = 10, period = 43, epochs = 6, sawtooth = 1, wobble = null, every = 2, noise = 0.15, seed = 3 } = o;
  const keys = o.keys ?? { loss: "train/loss", valAcc: "val/acc" };
  const g = gauss(seed);
  const lnC = Math.log(C);
  const block = period / C;
  const n = Math.floor((period * epochs) / every);
  const level = (i: number) => 0.3 + 1.5 * Math.exp(-i / (2 * period));
  // how much harder than the average each class is (a digit 8 costs more than a 0), centred on 0
  const u = gauss(seed + 100);
  const difficulty = Array.from({ length: C }, () => Math.max(-0.8, 0.5 * u()));
  const loss = series(
    n,
    (k) => {
      const i = k * every;
      // the first epoch: each new class block drives the loss up towards twice ln C, then it settles
      if (i < period) return Math.max(0.05, lnC * (1 + 0.8 * Math.sin((Math.PI * i) / period)) * (1 + noise * g()));
      // batches of one class at a time: each class's own difficulty comes back at the same place every epoch
      const cls = Math.min(C - 1, Math.floor((i % period) / block));
      const wob = wobble ? wobble.amp * Math.sin((2 * Math.PI * i) / (wobble.epochs * period)) : 0;
      return Math.max(1e-3, level(i) * (1 + sawtooth * difficulty[cls] + wob) * (1 + noise * g()));
    },
    every,
    0,
  );
  return {
    config: { num_classes: C, batch_size: 32, train_size: period * 32 - 5, epochs },
    series: {
      [keys.loss]: loss,
      lr: series(n, () => 1e-3, every, 0),
      [keys.valAcc]: series(epochs, (_, p) => 0.3 + 0.6 * p, period, period - 1),
    },
    finished: true,
  };
}

function codes(spec: RunSpec): string[] {
  return diagnose(makeRun(spec), { strict: true }).map((d) => d.code);
}

describe("unshuffled_data over the latest epochs of a short run", () => {
  test.each([
    { name: "16x16 digits sorted by label, 6 epochs, loss every 2 steps, a chaotic first epoch", spec: run({ seed: 2 }), raised: true },
    {
      name: "another seed, Keras-style keys",
      spec: run({ seed: 5, keys: { loss: "loss", valAcc: "val_accuracy" } }),
      raised: true,
    },
    { name: "milder class differences, loss every step", spec: run({ sawtooth: 0.6, every: 1, seed: 4 }), raised: true },
    { name: "5 classes, 80 steps an epoch, loss every step", spec: run({ C: 5, period: 80, every: 1, sawtooth: 0.6, seed: 7 }), raised: true },
    ...[1, 2, 3].map((seed) => ({
      name: `shuffled (seed ${seed}): the same chaotic first epoch, then only noise`,
      spec: run({ sawtooth: 0, seed }),
      raised: false,
    })),
    {
      name: "shuffled with a slow wobble of 1.6 epochs (not the epoch's period)",
      spec: run({ sawtooth: 0, wobble: { amp: 0.5, epochs: 1.6 } }),
      raised: false,
    },
    { name: "shuffled under heavy minibatch noise, loss every step", spec: run({ sawtooth: 0, noise: 0.5, every: 1, seed: 5 }), raised: false },
  ])("$name -> raised: $raised", ({ spec, raised }) => {
    const found = codes(spec);
    if (raised) expect(found).toContain("unshuffled_data");
    else expect(found).not.toContain("unshuffled_data");
  });
});
