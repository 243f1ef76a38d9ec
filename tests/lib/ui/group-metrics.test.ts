import { describe, expect, test } from "vitest";
import { defaultCompareKey, groupMetrics, splitOf } from "@/lib/ui/group-metrics";

/** chart title -> keys on it, for the keys given */
function charts(keys: string[]) {
  return Object.fromEntries(groupMetrics(keys).map((g) => [g.title, g.lines.map((l) => l.key)]));
}

describe("groupMetrics", () => {
  test.each<[string, string[], Record<string, string[]>]>([
    [
      "train/val of one quantity share a chart",
      ["train/loss", "val/loss", "train/acc", "val/acc"],
      { loss: ["train/loss", "val/loss"], acc: ["train/acc", "val/acc"] },
    ],
    ["bare key pairs with its val_ twin", ["loss", "val_loss", "acc", "val_acc"], { loss: ["loss", "val_loss"], acc: ["acc", "val_acc"] }],
    ["underscore prefixes", ["train_loss", "val_loss"], { loss: ["train_loss", "val_loss"] }],
    ["eval and test join too, in split order", ["test/loss", "eval/loss", "train/loss"], { loss: ["train/loss", "eval/loss", "test/loss"] }],
    ["suffixed splits", ["loss/train", "loss/val"], { loss: ["loss/train", "loss/val"] }],
    ["accuracy and acc are one quantity", ["train/accuracy", "val/acc"], { acc: ["train/accuracy", "val/acc"] }],
    ["a lone split key keeps its name", ["train/loss", "lr"], { "train/loss": ["train/loss"], lr: ["lr"] }],
    ["two bare keys are not paired", ["loss", "lr"], { loss: ["loss"], lr: ["lr"] }],
    ["epoch is the x axis, not a chart", ["epoch", "loss"], { loss: ["loss"] }],
    [
      "update ratios: one chart, one line per layer",
      ["update_ratio/fc1", "update_ratio/fc2"],
      { "update ratio (|Δw| / |w|) per layer": ["update_ratio/fc1", "update_ratio/fc2"] },
    ],
    [
      "activations: one chart per statistic across layers",
      ["act/fc1/dead_frac", "act/fc2/dead_frac", "act/fc1/mean", "act/fc1/saturated_frac"],
      {
        "dead fraction": ["act/fc1/dead_frac", "act/fc2/dead_frac"],
        "saturated fraction": ["act/fc1/saturated_frac"],
        "activation mean": ["act/fc1/mean"],
      },
    ],
    [
      "gradients and weights by statistic",
      ["grad/fc1/norm", "grad/fc2/norm", "weight/fc1/std"],
      { "gradient norm": ["grad/fc1/norm", "grad/fc2/norm"], "weight std": ["weight/fc1/std"] },
    ],
    [
      "grad_norm/<layer> is the gradient norm family; grad/norm is a plain key",
      ["grad_norm/fc1", "grad/norm"],
      { "gradient norm": ["grad_norm/fc1"], "grad/norm": ["grad/norm"] },
    ],
    ["nested layer names", ["act/enc/0/mean", "act/enc/1/mean"], { "activation mean": ["act/enc/0/mean", "act/enc/1/mean"] }],
  ])("%s", (_name, keys, expected) => {
    expect(charts(keys)).toEqual(expected);
  });

  test("layers are labelled by name in natural order; update ratios start on a log axis with a 1e-3 reference", () => {
    const g = groupMetrics(["update_ratio/layer10", "update_ratio/layer2"])[0];
    expect(g).toMatchObject({ section: "Update ratios", logDefault: true, refLine: 1e-3 });
    expect(g.lines.map((l) => l.label)).toEqual(["layer2", "layer10"]);
  });

  test("sections come in a fixed order, losses first", () => {
    const gs = groupMetrics(["weight/fc1/std", "act/fc1/mean", "update_ratio/fc1", "lr", "val/acc", "train/acc", "val/loss", "train/loss"]);
    expect(gs.map((g) => [g.section, g.title])).toEqual([
      ["Metrics", "loss"],
      ["Metrics", "acc"],
      ["Metrics", "lr"],
      ["Update ratios", "update ratio (|Δw| / |w|) per layer"],
      ["Activations", "activation mean"],
      ["Weights", "weight std"],
    ]);
  });

  test("chart ids are unique even when titles slug alike", () => {
    const ids = groupMetrics(["a.b", "a/b", "a b"]).map((g) => g.id);
    expect(new Set(ids).size).toBe(3);
  });
});

describe("splitOf", () => {
  test.each([
    ["train/loss", "train", "loss"],
    ["validation_accuracy", "val", "acc"],
    ["loss", "", "loss"],
    ["loss/valid", "val", "loss"],
    ["trainer_steps", "", "trainer_steps"],
  ])("%s -> %s %s", (key, split, base) => {
    expect(splitOf(key)).toEqual({ split, base });
  });
});

describe("defaultCompareKey", () => {
  test.each<[string[], string | undefined]>([
    [["val/loss", "train/loss", "acc"], "train/loss"],
    [["val_loss", "my_loss", "acc"], "my_loss"],
    [["val_loss", "acc"], "val_loss"],
    [["epoch", "b", "a"], "a"],
    [[], undefined],
  ])("%j -> %s", (keys, expected) => {
    expect(defaultCompareKey(keys)).toBe(expected);
  });
});
