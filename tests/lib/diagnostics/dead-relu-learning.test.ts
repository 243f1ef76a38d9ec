// dead_relu below dead_frac_critical, read from the loss alone (no accuracy evaluations yet, early in
// a run): a loss still falling beyond its noise is a model still learning, not one short of its data
// (issue #10: a healthy Conv1d net, 12 of 32 units of its dense layer silent on a batch 20% into its
// run). Dead units are a finding once the loss stops falling, and a layer nearly all dead always is.
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { gauss, makeRun, series, type RunSpec } from "./synth";

function run(o: { loss: (p: number) => number; dead: number; noise?: number; n?: number; every?: number; lossKey?: string; seed?: number }): RunSpec {
  const { n = 80, noise = 0.05, every = 1, lossKey = "train/loss", seed = 2 } = o;
  const g = gauss(seed);
  return {
    config: { num_classes: 4, batch_size: 32, activation: "relu" },
    series: {
      [lossKey]: series(n, (_, p) => o.loss(p) * (1 + noise * g()), every, 0),
      "act/conv1/dead_frac": series(n / 5, () => 0, 5 * every, 0),
      "act/fc/dead_frac": series(n / 5, (_, p) => Math.round(32 * (o.dead + 0.09 * (1 - p))) / 32, 5 * every, 0),
      lr: series(n / 5, () => 1e-3, 5 * every, 0),
    },
  };
}

describe("dead_relu while the loss is still falling", () => {
  test.each([
    {
      name: "Conv1d 20% into its run: 12 of 32 dense units silent, the loss 1.39 -> 0.86 and still falling",
      spec: run({ loss: (p) => 0.55 + 0.84 * Math.exp(-p / 0.6), dead: 0.34 }),
      raised: false,
    },
    {
      name: "the same with the loss logged every 4 steps under Keras keys",
      spec: run({ loss: (p) => 0.55 + 0.84 * Math.exp(-p / 0.6), dead: 0.34, every: 4, lossKey: "loss", seed: 7 }),
      raised: false,
    },
    {
      name: "the loss stopped at 0.7 of its start with 40% of the layer silent",
      spec: run({ loss: (p) => 0.97 + 0.42 * Math.exp(-p / 0.05), dead: 0.4 }),
      raised: true,
    },
    {
      name: "the loss creeping down less than its noise can show, 50% of the layer silent",
      spec: run({ loss: (p) => 1.0 - 0.02 * p, dead: 0.5, noise: 0.08 }),
      raised: true,
    },
    {
      name: "a layer nearly all dead (94%) while the loss still falls: always a finding",
      spec: run({ loss: (p) => 0.55 + 0.84 * Math.exp(-p / 0.6), dead: 0.94 }),
      raised: true,
    },
  ])("$name -> raised: $raised", ({ spec, raised }) => {
    const d = diagnose(makeRun(spec), { strict: true }).find((x) => x.code === "dead_relu");
    expect(!!d, d ? JSON.stringify(d.evidence) : "not raised").toBe(raised);
  });
});
