import { describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { AppError } from "@/lib/errors";
import { parseLogBatch } from "@/lib/schemas/parse-log-batch";

// input_stats and output_stats events are read by the diagnostics (input_not_normalized,
// train_val_mismatch, loss_output_mismatch): a malformed one is refused with the batch, naming the field.

const batch = (type: string, data: unknown) => ({ seq: 0, events: [{ type, step: 0, data }] });

function problem(b: unknown): string | null {
  try {
    parseLogBatch(b);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("invalid_batch");
    return (e as AppError).message;
  }
}

describe("input_stats", () => {
  test.each([
    ["train statistics as the SDKs send them", { mean: [0.1, -0.2], std: [1, 0.9], n: 64 }],
    ["with a split", { mean: [0.1], std: [1], n: 32, split: "val" }],
    ["non-finite statistics are data", { mean: ["NaN", 1], std: ["Infinity", 0] }],
    ["features at the limit", { mean: new Array(LIMITS.statsFeaturesMax.value).fill(0), std: new Array(LIMITS.statsFeaturesMax.value).fill(1) }],
  ])("accepted: %s", (_, data) => {
    expect(problem(batch("input_stats", data))).toBeNull();
  });

  test.each([
    ["no mean", { std: [1] }, "events[0].data.mean "],
    ["mean not a list", { mean: 0.5, std: [1] }, "events[0].data.mean "],
    ["an empty list", { mean: [], std: [] }, "events[0].data.mean "],
    ["a string in std", { mean: [0, 1], std: [1, "wide"] }, "events[0].data.std[1] "],
    ["a null in mean", { mean: [null], std: [1] }, "events[0].data.mean[0] "],
    ["lengths differ", { mean: [0, 1], std: [1] }, "events[0].data.std "],
    ["a negative std", { mean: [0], std: [-1] }, "events[0].data.std[0] "],
    ["one feature over the limit", { mean: new Array(LIMITS.statsFeaturesMax.value + 1).fill(0), std: [1] }, "events[0].data.mean "],
    ["a numeric split", { mean: [0], std: [1], split: 1 }, "events[0].data.split "],
    ["an empty split", { mean: [0], std: [1], split: "" }, "events[0].data.split "],
    ["a split too long", { mean: [0], std: [1], split: "v".repeat(LIMITS.statsSplitMaxLength.value + 1) }, "events[0].data.split "],
    ["a fractional n", { mean: [0], std: [1], n: 2.5 }, "events[0].data.n "],
  ])("refused: %s", (_, data, field) => {
    expect(problem(batch("input_stats", data))).toContain(field);
  });
});

describe("output_stats", () => {
  const ok = { pred_min: 0, pred_max: 3.2, target_min: -1.5, target_max: 4 };
  test.each([
    ["the four ranges", ok],
    ["with means, stds, n and a split", { ...ok, pred_mean: 1, pred_std: 0.5, target_mean: 1.2, target_std: 1.1, n: 400, split: "val" }],
    ["a NaN prediction range (the model diverged)", { ...ok, pred_min: "NaN", pred_max: "NaN" }],
  ])("accepted: %s", (_, data) => {
    expect(problem(batch("output_stats", data))).toBeNull();
  });

  test.each([
    ["no target_max", { pred_min: 0, pred_max: 1, target_min: 0 }, "events[0].data.target_max "],
    ["a string pred_min", { ...ok, pred_min: "low" }, "events[0].data.pred_min "],
    ["min above max", { ...ok, pred_min: 5 }, "events[0].data.pred_min "],
    ["a bad optional std", { ...ok, target_std: [1] }, "events[0].data.target_std "],
  ])("refused: %s", (_, data, field) => {
    expect(problem(batch("output_stats", data))).toContain(field);
  });

  test("other event types stay free-form", () => {
    expect(problem(batch("my_stats", { mean: "anything" }))).toBeNull();
  });
});
