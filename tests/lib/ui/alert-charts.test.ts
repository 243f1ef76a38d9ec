import { describe, expect, test } from "vitest";
import { alertChartIndex, alertCharts, alertLabel, chartsForAlert, markerStep } from "@/lib/ui/alert-charts";
import { groupMetrics } from "@/lib/ui/group-metrics";
import { xAtStep } from "@/lib/ui/x-axis";

/** Titles of the run-page charts (for these logged keys) that carry the alert's marker. */
function chartsOf(code: string, evidence: Record<string, unknown>, keys: string[], config: Record<string, unknown> = {}): string[] {
  const groups = groupMetrics(keys);
  const ids = chartsForAlert({ code, evidence }, groups, config);
  return ids.map((id) => groups.find((g) => g.id === id)!.title);
}

const CLASSIFIER = ["train/loss", "val/loss", "train/acc", "val/acc", "lr", "update_ratio/fc1", "update_ratio/fc2"];
const UR = "update ratio (|Δw| / |w|) per layer";
const LAYERS = [
  "loss",
  "update_ratio/fc1",
  "update_ratio/fc2",
  "act/fc1/dead_frac",
  "act/fc2/dead_frac",
  "act/fc1/saturated_frac",
  "act/fc1/std",
  "act/fc2/std",
  "grad/fc1/std",
  "grad/fc2/std",
  "grad_norm",
  "weight/fc1/std",
  "weight/fc1/mean",
];

describe("alertCharts: which charts carry an alert's marker", () => {
  test.each<[string, string, Record<string, unknown>, string[], string[]]>([
    ["divergence: the loss chart (train and val share it)", "divergence", { key: "train/loss" }, CLASSIFIER, ["loss"]],
    ["lr_too_high: the loss and the update ratios", "lr_too_high", { recent_loss: 9, high_layers: "fc1" }, CLASSIFIER, ["loss", UR]],
    ["lr_too_low: the loss and the update ratios", "lr_too_low", { key: "train/loss" }, CLASSIFIER, ["loss", UR]],
    ["lr_too_low without update ratios: the loss only", "lr_too_low", { key: "loss" }, ["loss", "lr"], ["loss"]],
    ["lr_too_low from a collapsed schedule: the loss and the lr it names", "lr_too_low", { key: "lr" }, ["loss", "lr"], ["loss", "lr"]],
    ["lr_too_high after an lr jump: the loss and the lr", "lr_too_high", { key: "lr", lr_jump_step: 300 }, ["loss", "lr"], ["loss", "lr"]],
    ["no_learning: loss and accuracy", "no_learning", { loss_key: "train/loss", acc_key: "val/acc" }, CLASSIFIER, ["loss", "acc"]],
    ["loss_output_mismatch: loss and accuracy", "loss_output_mismatch", { key: "train/loss", train_acc: 0.99 }, CLASSIFIER, ["loss", "acc"]],
    ["train_val_mismatch: loss and accuracy", "train_val_mismatch", { train_key: "train/loss", val_key: "val/loss" }, CLASSIFIER, ["loss", "acc"]],
    ["majority_class: accuracy and loss", "majority_class", { acc_key: "val/acc", loss_key: "val/loss" }, CLASSIFIER, ["loss", "acc"]],
    [
      "over_regularization: the weight std it measured, accuracy and loss",
      "over_regularization",
      { layers: "fc1", keys: "weight/fc1/std", train_acc: 0.75 },
      [...LAYERS, "train/acc", "val/acc"],
      ["loss", "acc", "weight std"],
    ],
    ["loss_plateau: the loss", "loss_plateau", { key: "train/loss" }, CLASSIFIER, ["loss"]],
    ["noisy_loss: the loss", "noisy_loss", { key: "train/loss" }, CLASSIFIER, ["loss"]],
    ["bad_initial_loss: the loss", "bad_initial_loss", { first_loss: 40 }, CLASSIFIER, ["loss"]],
    ["overfitting seen in accuracy: loss and accuracy", "overfitting", { train_key: "train/acc", val_key: "val/acc" }, CLASSIFIER, ["loss", "acc"]],
    [
      "underfitting seen in the loss, no accuracy logged",
      "underfitting",
      { train_key: "train/loss", val_key: "val/loss" },
      ["train/loss", "val/loss"],
      ["loss"],
    ],
    ["overfit_sanity_failed: train accuracy", "overfit_sanity_failed", { final_train_acc: 0.4 }, CLASSIFIER, ["acc"]],
    ["overfit_sanity_failed without accuracy: the loss", "overfit_sanity_failed", { final_loss: 1 }, ["loss"], ["loss"]],
    ["dead_relu: the dead fractions", "dead_relu", { layers: "fc2" }, LAYERS, ["dead fraction"]],
    [
      "saturated_activations: the saturated fractions",
      "saturated_activations",
      { layers: "fc1", keys: "act/fc1/saturated_frac" },
      LAYERS,
      ["saturated fraction"],
    ],
    [
      "saturated_activations seen in the std: the activation std",
      "saturated_activations",
      { layers: "fc2", keys: "act/fc2/std" },
      LAYERS,
      ["activation std"],
    ],
    [
      "saturated_activations without saturated_frac: the activation std",
      "saturated_activations",
      { layers: "fc1", keys: "act/fc1" },
      ["act/fc1/std"],
      ["activation std"],
    ],
    [
      "vanishing_gradients: the per-layer gradients it compares",
      "vanishing_gradients",
      { first_layer: "fc1", last_layer: "fc2" },
      LAYERS,
      ["gradient std"],
    ],
    ["exploding_gradients of the global norm: that chart", "exploding_gradients", { source: "grad_norm", growth: 500 }, LAYERS, ["grad_norm"]],
    ["exploding_gradients of a layer: its gradient chart", "exploding_gradients", { source: "fc2", non_finite_share: 1 }, LAYERS, ["gradient std"]],
    ["symmetric_init: weight std and update ratios", "symmetric_init", { layers: "fc1", findings: "…" }, LAYERS, [UR, "weight std"]],
    ["no chart for the evidence: nothing", "divergence", { key: "train/loss" }, ["lr"], []],
    ["event-based codes have no chart", "gradcheck_failed", { param: "W1", rel_error: 0.1 }, CLASSIFIER, []],
    ["input_not_normalized: no chart", "input_not_normalized", { median_abs_mean: 120 }, CLASSIFIER, []],
    ["an unknown code that names a key: that key's chart", "future_rule", { key: "lr" }, CLASSIFIER, ["lr"]],
    ["divergence of the val loss (no train loss logged): its chart", "divergence", { key: "val/loss" }, ["val/loss", "val/acc"], ["val/loss"]],
  ])("%s", (_name, code, evidence, keys, want) => {
    expect(chartsOf(code, evidence, keys)).toEqual(want);
  });

  test("train and val losses on separate charts: the one the evidence names, both when it names both", () => {
    const keys = ["train_loss", "val_loss_epoch", "train_acc", "val_acc"];
    expect(chartsOf("divergence", { key: "train_loss" }, keys)).toEqual(["train_loss"]);
    expect(chartsOf("overfitting", { train_key: "train_loss", val_key: "val_loss_epoch" }, keys)).toEqual(["train_loss", "val_loss_epoch", "acc"]);
  });

  test("keys renamed in config.babysit.keys are found as the diagnostics find them", () => {
    const keys = ["my_objective", "ratios/fc1", "ratios/fc2", "other"];
    const config = { babysit: { keys: { train_loss: "my_objective", update_ratio: "ratios/{layer}" } } };
    expect(chartsOf("lr_too_high", { high_layers: "fc2" }, keys, config)).toEqual(["my_objective", "ratios/fc2"]);
    expect(chartsOf("lr_too_high", {}, keys, config)).toEqual(["my_objective", "ratios/fc1", "ratios/fc2"]);
  });

  test("evidence stored as a JSON string is read too", () => {
    const groups = groupMetrics(CLASSIFIER);
    const index = alertChartIndex(groups);
    expect(alertCharts({ code: "overfitting", evidence: JSON.stringify({ train_key: "train/acc" }) }, index)).toEqual(["m-loss", "m-acc"]);
    expect(alertCharts({ code: "overfitting", evidence: "not json" }, index)).toEqual(["m-loss", "m-acc"]);
    expect(alertCharts({ code: "divergence" }, index)).toEqual(["m-loss"]);
  });
});

describe("markers", () => {
  test.each([
    [{ step: 80, firstStep: 40 }, 40],
    [{ step: 80 }, 80],
    [{ step: 80, firstStep: null }, 80],
  ])("marker step of %o is %d", (alert, want) => {
    expect(markerStep(alert)).toBe(want);
  });

  test.each([
    ["divergence", "divergence"],
    ["lr_too_high", "LR too high"],
    ["dead_relu", "dead ReLU"],
    ["some_new_rule", "some new rule"],
  ])("label of %s is %s", (code, want) => {
    expect(alertLabel(code)).toBe(want);
  });

  const pts = [
    { x: 0, step: 0 },
    { x: 10, step: 100 },
    { x: 30, step: 200 },
  ];
  test.each([
    [0, 0],
    [50, 5],
    [150, 20],
    [200, 30],
    [-5, 0], // before the first point: the first point's x
    [900, 30], // after the last: the last point's x
  ])("on a time/epoch axis, step %d sits at x %d", (step, want) => {
    expect(xAtStep(pts, step)).toBeCloseTo(want, 12);
  });
  test("no points, no x", () => {
    expect(xAtStep([], 3)).toBeNull();
  });
});
