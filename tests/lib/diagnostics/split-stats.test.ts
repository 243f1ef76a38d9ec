import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import type { RunEvent } from "../../../lib/diagnostics/types";
import { decayingLoss, makeRun } from "./synth";

// input_stats per split (log_input_stats(x, split="val")): train_val_mismatch compares the training
// and validation inputs feature by feature; input_not_normalized reads only the training inputs.

const F = 16;
const train = { mean: Array.from({ length: F }, (_, i) => 0.01 * (i - 8)), std: Array.from({ length: F }, (_, i) => 0.9 + 0.01 * i) };

function run(val: { mean: number[]; std: number[]; n?: number } | null, trainData: object = train): ReturnType<typeof makeRun> {
  const events: RunEvent[] = [{ type: "input_stats", step: 0, data: { n: 1000, ...trainData } }];
  if (val) events.push({ type: "input_stats", step: 0, data: { n: 200, ...val, split: "val" } });
  return makeRun({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(300) }, events });
}

const scaled = (k: number) => ({ mean: train.mean.map((m) => m * k), std: train.std.map((s) => s * k) });

describe("train_val_mismatch from input statistics", () => {
  test.each([
    { name: "validation not normalized (raw scale 16x, mean 8)", val: { mean: train.mean.map(() => 8), std: train.std.map(() => 16) }, raised: true },
    {
      name: "one feature blown up by a near-zero std (1e6)",
      val: { mean: train.mean.map((m, i) => (i === 3 ? 4e5 : m)), std: train.std.map((s, i) => (i === 3 ? 1e6 : s)) },
      raised: true,
    },
    { name: "validation normalized twice (scale 1/10)", val: scaled(0.1), raised: true },
    {
      name: "the same preprocessing (sample noise only)",
      val: { mean: train.mean.map((m) => m + 0.05), std: train.std.map((s) => s * 1.1) },
      raised: false,
    },
    { name: "borderline: every feature 4x (under tv_input_factor 5)", val: scaled(4), raised: false },
    {
      name: "borderline: 3 of 16 features off 10x (under 25%, under 100x)",
      val: { mean: train.mean, std: train.std.map((s, i) => (i < 3 ? 10 * s : s)) },
      raised: false,
    },
    {
      name: "a pixel constant in the validation batch (std 0) is not a mismatch",
      val: { mean: train.mean, std: train.std.map((s, i) => (i < 8 ? 0 : s)) },
      raised: false,
    },
    { name: "a validation batch of one example says nothing about spread", val: { ...scaled(0.01), n: 1 }, raised: false },
    {
      // watch() compares one batch of each: a rarely non-zero pixel is constant in a small training batch
      name: "6 of 16 features constant in the training batch, ordinary in the validation batch",
      train: { mean: train.mean.map((m, i) => (i < 6 ? -0.4 : m)), std: train.std.map((s, i) => (i < 6 ? 0 : s)), n: 8 },
      val: { mean: train.mean.map((m, i) => (i < 6 ? -0.2 : m)), std: train.std.map((s, i) => (i < 6 ? 0.6 : s)) },
      raised: false,
    },
    {
      name: "features with a tiny std in the training batch and a small one in the validation batch",
      train: { mean: train.mean, std: train.std.map((s, i) => (i < 6 ? 1e-4 : s)), n: 16 },
      val: { mean: train.mean, std: train.std.map((s, i) => (i < 6 ? 0.05 : s)) },
      raised: false,
    },
    {
      name: "a feature constant in the training batch, blown up to 1e7 in validation",
      train: { mean: train.mean, std: train.std.map((s, i) => (i === 0 ? 0 : s)), n: 32 },
      val: { mean: train.mean.map((m, i) => (i === 0 ? 3e4 : m)), std: train.std.map((s, i) => (i === 0 ? 5e5 : s)) },
      raised: true,
    },
    {
      name: "small batches, validation left on the raw scale",
      train: { ...train, n: 8 },
      val: { mean: train.mean.map(() => 5), std: train.std.map(() => 5), n: 8 },
      raised: true,
    },
    { name: "no validation statistics", val: null, raised: false },
  ])("$name -> raised: $raised", ({ val, raised, ...rest }) => {
    const trainData = "train" in rest ? rest.train : undefined;
    const d = diagnose(run(val, trainData), { strict: true }).find((x) => x.code === "train_val_mismatch");
    expect(!!d, d?.message).toBe(raised);
    if (d) {
      expect(d.message).toMatch(/validation data differ from the training data/);
      expect(d.evidence.features).toBe(F);
    }
  });

  test("input_not_normalized reads the training inputs, not a validation batch on another scale", () => {
    const codes = diagnose(run({ mean: train.mean.map(() => 100), std: train.std.map(() => 50) }), { strict: true }).map((d) => d.code);
    expect(codes).not.toContain("input_not_normalized");
    expect(codes).toContain("train_val_mismatch");
    const raw = diagnose(run(null, { mean: train.mean.map(() => 100), std: train.std.map(() => 50) }), { strict: true }).map((d) => d.code);
    expect(raw).toContain("input_not_normalized");
  });
});
