import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import type { RunEvent } from "../../../lib/diagnostics/types";
import { decayingLoss, makeRun } from "./synth";

// input_stats per split (log_input_stats(x, split="val")): train_val_mismatch compares the training
// and validation inputs feature by feature; input_not_normalized reads only the training inputs.

const F = 16;
const train = { mean: Array.from({ length: F }, (_, i) => 0.01 * (i - 8)), std: Array.from({ length: F }, (_, i) => 0.9 + 0.01 * i) };

function run(val: { mean: number[]; std: number[]; n?: number } | null, trainData: object = train): ReturnType<typeof makeRun> {
  const events: RunEvent[] = [{ type: "input_stats", step: 0, data: { ...trainData, n: 1000 } }];
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
    { name: "no validation statistics", val: null, raised: false },
  ])("$name -> raised: $raised", ({ val, raised }) => {
    const d = diagnose(run(val), { strict: true }).find((x) => x.code === "train_val_mismatch");
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
