// overfitting read from the losses of a log with a validation accuracy but no training accuracy
// (most console logs: a print() per epoch, Lightning's bar, the HF Trainer, mmengine, timm): the
// train/val accuracy gap cannot exceed 1 - val accuracy, so where even that is small (or within the
// set's sampling error) a rising validation loss is over-confidence, not a model that generalizes
// worse. Where the validation accuracy leaves room for a real gap, the losses decide as before.
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { gauss, makeRun, series } from "./synth";

/** 25 evaluations every 14 steps: training loss falling to `tEnd`, validation loss lowest a third in, then up by `rise`. */
function run(o: { valAcc?: number; rise?: number; tEnd?: number; valKey?: string; config?: Record<string, unknown>; trainAcc?: number }) {
  const { rise = 0.35, tEnd = 0.005, valKey = "val_acc" } = o;
  const g = gauss(5);
  const n = 25;
  const s: Record<string, ReturnType<typeof series>> = {
    loss: series(n * 14, (_, p) => 0.6 * (tEnd / 0.6) ** p * (1 + 0.05 * g())),
    val_loss: series(n, (_, p) => 0.12 * (p < 1 / 3 ? 1 + 1.5 * (1 / 3 - p) : 1 + rise * ((p - 1 / 3) / (2 / 3)) ** 1.5), 14, 14),
  };
  if (o.valAcc !== undefined) s[valKey] = series(n, (_, p) => o.valAcc! * (p < 0.2 ? 0.97 + 0.15 * p : 1) + 0.002 * g(), 14, 14);
  if (o.trainAcc !== undefined) s.acc = series(n, (_, p) => Math.min(1, o.trainAcc! * (0.9 + 0.1 * p)), 14, 14);
  return makeRun({ config: { num_classes: 2, ...o.config }, series: s, finished: true });
}

const overfit = (spec: ReturnType<typeof run>) => diagnose(spec).some((d) => d.code === "overfitting");

describe("overfitting from losses, validation accuracy logged without a training accuracy", () => {
  test.each([
    { name: "breast cancer MLP printed per epoch: val accuracy 0.96, val loss up 35%", spec: run({ valAcc: 0.96 }), raised: false },
    { name: "the same in percent (timm's Acc@1: 95.8)", spec: run({ valAcc: 95.8, valKey: "val_accuracy/top1" }), raised: false },
    {
      name: "val accuracy 0.90 of 60 validation samples: a 0.1 gap is within the set's noise",
      spec: run({ valAcc: 0.9, config: { val_size: 60 } }),
      raised: false,
    },
    { name: "val accuracy 0.60 (a small set memorized): room for a real gap, the losses decide", spec: run({ valAcc: 0.6 }), raised: true },
    { name: "val accuracy 0.85 of 2000 samples", spec: run({ valAcc: 0.85, config: { val_size: 2000 } }), raised: true },
    { name: "no accuracy at all (regression-style log): the losses decide", spec: run({}), raised: true },
    { name: "both accuracies logged: read as before (train 1.0, val 0.6)", spec: run({ valAcc: 0.6, trainAcc: 1 }), raised: true },
  ])("$name", ({ spec, raised }) => {
    expect(overfit(spec)).toBe(raised);
  });
});
