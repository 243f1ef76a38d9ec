import { describe, expect, test } from "vitest";
import { resolveKeys, seriesReader } from "@/lib/diagnostics/keys";
import { lossKeyShape } from "@/lib/diagnostics/loss-keys";
import { makeRun } from "./synth";

// A loss named by its family or under a namespace, which no built-in name lists: the rules must read
// it as the training / validation loss, or every curve rule is blind on that run.

const pts = (n: number) => ({ steps: Array.from({ length: n }, (_, i) => i), values: Array.from({ length: n }, (_, i) => 2 / (1 + i)) });

function resolved(keys: Record<string, number>) {
  const series = Object.fromEntries(Object.entries(keys).map(([k, n]) => [k, pts(n)]));
  return resolveKeys(makeRun({ series })).scalars;
}

function roles(keys: Record<string, number>) {
  const r = resolved(keys);
  return { train: r.train_loss?.key ?? null, val: r.val_loss?.key ?? null };
}

function accRoles(keys: Record<string, number>) {
  const r = resolved(keys);
  return { train: r.train_acc?.key ?? null, val: r.val_acc?.key ?? null };
}

interface Row {
  name: string;
  keys: Record<string, number>;
  train: string | null;
  val: string | null;
}

describe("losses read by the shape of their names", () => {
  test.each<Row>([
    { name: "character LM: nll per split", keys: { "train/nll": 100, "val/nll": 10 }, train: "train/nll", val: "val/nll" },
    { name: "tensorboard tags metric-first", keys: { "nll/train": 100, "nll/val": 10, "bpc/val": 10 }, train: "nll/train", val: "nll/val" },
    { name: "multi-label BCE", keys: { "train/bce": 100, "dev/bce": 10, "dev/f1_micro": 10 }, train: "train/bce", val: "dev/bce" },
    { name: "regression MSE", keys: { "train/mse": 600, "val/mse": 5, "val/mae": 5 }, train: "train/mse", val: "val/mse" },
    {
      name: "a namespace (Keras under metrics/)",
      keys: { "metrics/loss": 100, "metrics/val_loss": 10 },
      train: "metrics/loss",
      val: "metrics/val_loss",
    },
    { name: "per-step tag and 'valid'", keys: { "Loss/train_step": 100, "Loss/valid": 10 }, train: "Loss/train_step", val: "Loss/valid" },
    { name: "bare family name and val_ prefix", keys: { nll: 100, val_nll: 10 }, train: "nll", val: "val_nll" },
    {
      name: "cross entropy spelled out",
      keys: { "train/cross_entropy": 50, "eval/cross_entropy": 5 },
      train: "train/cross_entropy",
      val: "eval/cross_entropy",
    },
  ])("$name", ({ keys, train, val }) => {
    expect(roles(keys)).toEqual({ train, val });
  });

  test.each<Row>([
    { name: "components of a VAE loss are not the objective", keys: { "train/recon_loss": 50, "train/kl_loss": 50 }, train: null, val: null },
    { name: "loss scale of mixed precision", keys: { loss_scale: 50 }, train: null, val: null },
    { name: "a metric, not a loss", keys: { "val/mae": 5, "val/rmse": 5 }, train: null, val: null },
    { name: "train loss and a validation metric of another family", keys: { "train/loss": 50, "val/mse": 5 }, train: "train/loss", val: null },
    { name: "two families on one split: which is the objective is not said", keys: { "train/nll": 50, "train/mse": 50 }, train: null, val: null },
    { name: "built-in names win", keys: { "train/loss": 50, "val/loss": 5, "val/nll": 5 }, train: "train/loss", val: "val/loss" },
  ])("not read: $name", ({ keys, train, val }) => {
    expect(roles(keys)).toEqual({ train, val });
  });

  test.each([
    ["train/nll", { split: "train", named: true, kind: "loss", word: "nll" }],
    ["nll_val", { split: "val", named: true, kind: "loss", word: "nll" }],
    ["bce_step", { split: "train", named: false, kind: "loss", word: "bce" }],
    ["val/char_acc", { split: "val", named: true, kind: "acc", word: "acc" }],
    ["train/val_loss", null],
    ["kl_loss", null],
    ["loss_nll", null],
  ])("shape of %s", (key, want) => {
    expect(lossKeyShape(key)).toEqual(want);
  });

  test.each<Row>([
    { name: "per-character accuracy of a char LM", keys: { "train/char_acc": 12, "val/char_acc": 12 }, train: "train/char_acc", val: "val/char_acc" },
    { name: "metric-first tags", keys: { "char_acc/val": 12 }, train: null, val: "char_acc/val" },
    {
      name: "Keras-style namespace: the named train accuracy beats the bare one",
      keys: { "metrics/accuracy": 20, "metrics/train_accuracy": 20 },
      train: "metrics/train_accuracy",
      val: null,
    },
    { name: "F1 and hamming are not accuracies", keys: { "dev/f1_micro": 10, "dev/hamming_loss": 10 }, train: null, val: null },
  ])("accuracy: $name", ({ keys, train, val }) => {
    expect(accRoles(keys)).toEqual({ train, val });
  });

  // the server holds only the series a rule can read: a loss read by its shape must be among them
  test.each([
    ["train/nll", true],
    ["val/char_acc", true],
    ["metrics/val_loss", true],
    ["train/recon_loss", false],
    ["dev/f1_micro", false],
  ])("the live server holds %s: %s", (key, held) => {
    expect(seriesReader({})(key)).toBe(held);
  });
});
