import { describe, expect, test } from "vitest";
import { SCALAR_ALIASES, type ScalarRole, resolveKeys, sepForm, seriesReader } from "@/lib/diagnostics/keys";
import type { RunData } from "@/lib/diagnostics/types";

// The names common tools log their curves under, as babysit reads them once imported (or streamed):
// which role each one plays, which names play none (near misses), and which series is read when a
// log carries two estimates of the training loss.

function run(keys: Record<string, number>, config: Record<string, unknown> = {}): RunData {
  const series = new Map<string, { steps: number[]; values: number[] }>();
  for (const [k, n] of Object.entries(keys)) {
    const steps = Array.from({ length: n }, (_, i) => i * 10);
    series.set(k, { steps, values: steps.map(() => 0.5) });
  }
  return { config, series, histograms: new Map(), events: [], finished: true };
}

const roleOf = (key: string, others: Record<string, number> = {}): ScalarRole | null => {
  const r = resolveKeys(run({ [key]: 20, ...others }));
  for (const [role, v] of Object.entries(r.scalars)) if (v!.key === key) return role as ScalarRole;
  return null;
};

describe("the names tools log", () => {
  test.each([
    // detectron2's metrics.json
    ["total_loss", "train_loss", "detectron2"],
    // Keras: fit's history, CSVLogger, and its TensorBoard callback's train/ and validation/ tags
    ["loss", "train_loss", "Keras fit"],
    ["accuracy", "train_acc", "Keras fit"],
    ["val_loss", "val_loss", "Keras fit"],
    ["val_accuracy", "val_acc", "Keras fit"],
    ["epoch_loss", "train_loss", "Keras TensorBoard"],
    ["epoch_accuracy", "train_acc", "Keras TensorBoard"],
    ["batch_loss", "train_loss", "Keras TensorBoard update_freq"],
    ["learning_rate", "lr", "Keras 3 with a schedule callback"],
    // a Keras TensorBoard directory imported as one run (lib/import/group-files.ts): tags under train/, validation/
    ["train/epoch_loss", "train_loss", "Keras TensorBoard, imported"],
    ["train/epoch_accuracy", "train_acc", "Keras TensorBoard, imported"],
    ["train/epoch_learning_rate", "lr", "Keras TensorBoard, imported"],
    ["validation/epoch_loss", "val_loss", "Keras TensorBoard, imported"],
    ["validation/epoch_accuracy", "val_acc", "Keras TensorBoard, imported"],
    // Lightning: self.log(..., on_step=True, on_epoch=True) and LearningRateMonitor
    ["train_loss_step", "train_loss", "Lightning"],
    ["train_loss_epoch", "train_loss", "Lightning"],
    ["loss_step", "train_loss", "Lightning"],
    ["train_acc_epoch", "train_acc", "Lightning"],
    ["val_acc_epoch", "val_acc", "Lightning"],
    ["val_loss_epoch", "val_loss", "Lightning"],
    ["lr-Adam", "lr", "Lightning LearningRateMonitor"],
    ["lr-SGD", "lr", "Lightning LearningRateMonitor"],
    // Hugging Face Trainer
    ["eval_loss", "val_loss", "HF Trainer"],
    ["eval_accuracy", "val_acc", "HF Trainer"],
    // mmengine: its log's val line, its vis_data/TensorBoard tags
    ["val_accuracy/top1", "val_acc", "mmengine log"],
    ["val/accuracy/top1", "val_acc", "mmengine TensorBoard"],
    ["accuracy/top1", "val_acc", "mmengine scalars.json"],
    // timm: its log's Test line, its summary.csv
    ["test_Acc@1", "val_acc", "timm log"],
    ["test_Loss", "val_loss", "timm log"],
    ["Loss", "train_loss", "timm log"],
    ["LR", "lr", "timm log"],
    ["eval_top1", "val_acc", "timm summary.csv"],
    ["train/top1", "train_acc", "a top-1 accuracy"],
    ["val/top1", "val_acc", "a top-1 accuracy"],
    // torch's SummaryWriter tags as the tutorials write them, and TensorBoard's CSV download of them
    ["Loss/train", "train_loss", "SummaryWriter"],
    ["Accuracy/val", "val_acc", "SummaryWriter"],
    ["training loss", "train_loss", "the PyTorch TensorBoard tutorial"],
    ["Learning rate", "lr", "SummaryWriter"],
    ["Loss_train", "train_loss", "TensorBoard CSV download"],
    ["Loss_val", "val_loss", "TensorBoard CSV download"],
    ["Accuracy_train", "train_acc", "TensorBoard CSV download"],
    ["Accuracy_val", "val_acc", "TensorBoard CSV download"],
    // PyTorch's examples: `Test set: Average loss: 0.0345, ...`
    ["test_Average_loss", "val_loss", "PyTorch examples"],
    // separators written otherwise
    ["train.loss", "train_loss", "dotted"],
    ["val-acc", "val_acc", "dashed"],
  ] as [string, ScalarRole, string][])("%s is %s (%s)", (key, role) => {
    expect(roleOf(key)).toBe(role);
    expect(seriesReader({})(key)).toBe(true);
  });

  test.each([
    "loss_scale", // AMP's dynamic loss scale
    "grad_norm",
    "lr",
    "total_flos",
    "train_runtime",
    "epoch_time",
    "train_samples_per_second",
    "score", // sklearn's score is accuracy for a classifier and R² for a regressor: not known which
    "val_score",
    "loss_cls", // detectron2's terms of total_loss
    "data_time",
    "mfu",
    "epoch",
  ])("%s is not a loss or an accuracy", (key) => {
    const role = roleOf(key);
    expect(["train_loss", "val_loss", "train_acc", "val_acc"]).not.toContain(role);
  });

  test("no built-in name of one role has the separator form of another role's", () => {
    const owner = new Map<string, ScalarRole>();
    for (const role of Object.keys(SCALAR_ALIASES) as ScalarRole[]) {
      for (const name of SCALAR_ALIASES[role]) {
        const f = sepForm(name);
        expect(owner.get(f) ?? role, `${name} (${role})`).toBe(role);
        owner.set(f, role);
      }
    }
  });

  test("a name logged exactly wins over one matching only by its separators", () => {
    const r = resolveKeys(run({ val_acc: 10, "val/acc": 10 }));
    expect(r.scalars.val_acc!.key).toBe("val/acc"); // the built-in order: val/acc first
    const s = resolveKeys(run({ Loss_val: 10, test_loss: 10 }));
    expect(s.scalars.val_loss!.key).toBe("test_loss");
  });
});

describe("the training loss: the series with the most points of those logged", () => {
  test.each([
    ["nanoGPT: iter lines every step, train loss at each eval", { loss: 51, train_loss: 3, val_loss: 3 }, "loss"],
    ["Lightning on_step and on_epoch", { train_loss_step: 200, train_loss_epoch: 10 }, "train_loss_step"],
    ["Lightning, epoch logged first", { train_loss_epoch: 10, train_loss_step: 200 }, "train_loss_step"],
    ["Keras TensorBoard: batch_ and epoch_ tags", { epoch_loss: 10, batch_loss: 300 }, "batch_loss"],
    ["detectron2: total_loss every 20 iterations, no other", { total_loss: 50, loss_cls: 50 }, "total_loss"],
    ["equal counts: the built-in order", { "train/loss": 20, loss: 20 }, "train/loss"],
  ])("%s", (_what, keys, want) => {
    expect(resolveKeys(run(keys)).scalars.train_loss!.key).toBe(want);
  });

  test("a training loss the config names is read, however few its points", () => {
    const r = resolveKeys(run({ loss: 51, train_loss: 3 }, { babysit: { keys: { train_loss: "train_loss" } } }));
    expect(r.scalars.train_loss!.key).toBe("train_loss");
  });

  test("the validation loss keeps the built-in order (its points are evaluations)", () => {
    const r = resolveKeys(run({ val_loss: 5, test_loss: 50 }));
    expect(r.scalars.val_loss!.key).toBe("val_loss");
  });
});
