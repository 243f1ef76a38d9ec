import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { numberList } from "../../../lib/diagnostics/rules/input-not-normalized";
import type { RunEvent } from "../../../lib/diagnostics/types";
import { decayingLoss, makeRun } from "./synth";

// Input statistics as the SDKs send them: JSON has no NaN/Infinity, so a NaN feature arrives as the
// string "NaN" (or null). Every value keeps its feature's place, or feature i of the training list is
// compared with feature i+1 of the validation list (784 features read as 783: 'not comparable').

describe("numberList keeps each value in its feature's place", () => {
  test.each([
    { name: "plain numbers", v: [0.1, -2, 3], want: [0.1, -2, 3] },
    { name: '"NaN" in the middle', v: [0.1, "NaN", 3], want: [0.1, Number.NaN, 3] },
    { name: "null (a NaN some encoders write)", v: [null, 1], want: [Number.NaN, 1] },
    { name: '"Infinity" and "-Infinity"', v: ["Infinity", "-Infinity", 0], want: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0] },
    {
      name: "nested per-channel lists",
      v: [
        [1, "NaN"],
        [2, 3],
      ],
      want: [1, Number.NaN, 2, 3],
    },
    { name: "a single number", v: 5, want: [5] },
  ])("$name", ({ v, want }) => {
    expect(numberList(v)).toEqual(want);
  });

  test.each([
    { name: "all NaN", v: ["NaN", "NaN"] },
    { name: "empty", v: [] },
    { name: "not a list", v: { a: 1 } },
  ])("nothing to read: $name", ({ v }) => {
    expect(numberList(v)).toBeNull();
  });
});

const F = 784;
const tr = { mean: Array.from({ length: F }, (_, i) => 0.01 * ((i % 17) - 8)), std: Array.from({ length: F }, (_, i) => 0.9 + 0.0002 * i) };

function run(val: { mean: unknown[]; std: unknown[] }, train: { mean: unknown[]; std: unknown[] } = tr) {
  const events: RunEvent[] = [
    { type: "input_stats", step: 0, data: { n: 64, ...train } },
    { type: "input_stats", step: 0, data: { n: 64, ...val, split: "val" } },
  ];
  return diagnose(makeRun({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(300) }, events }));
}

const withAt = <T>(a: readonly T[], at: Record<number, unknown>) => a.map((x, i) => (i in at ? at[i] : x));

describe("train_val_mismatch with NaN features", () => {
  test.each([
    {
      name: "one NaN validation feature and one blown up to 1e6 (the blown-up one is still compared in its place)",
      val: { mean: withAt(tr.mean, { 100: "NaN", 500: 4e5 }), std: withAt(tr.std, { 100: "NaN", 500: 1e6 }) },
      raised: true,
      evidence: { features: 784, worst_feature: 500, features_nan_one_side: 1 },
    },
    {
      name: "only a NaN validation feature: NaN in one split's inputs is itself the difference",
      val: { mean: withAt(tr.mean, { 3: "NaN" }), std: withAt(tr.std, { 3: "NaN" }) },
      raised: true,
      evidence: { features: 784, features_nan_one_side: 1, first_nan_feature: 3 },
    },
    {
      name: "NaN in the training inputs only (null, as some encoders write it)",
      train: { mean: withAt(tr.mean, { 7: null }), std: withAt(tr.std, { 7: null }) },
      val: tr,
      raised: true,
      evidence: { features_nan_one_side: 1, first_nan_feature: 7 },
    },
    {
      name: "the same NaN feature in both splits: the same pipeline, nothing between them",
      train: { mean: withAt(tr.mean, { 9: "NaN" }), std: withAt(tr.std, { 9: "NaN" }) },
      val: { mean: withAt(tr.mean, { 9: "NaN" }), std: withAt(tr.std, { 9: "NaN" }) },
      raised: false,
    },
    { name: "the same statistics", val: tr, raised: false },
  ])("$name", ({ val, train, raised, evidence }) => {
    const d = run(val, train).find((x) => x.code === "train_val_mismatch");
    expect(Boolean(d)).toBe(raised);
    if (d && evidence) expect(d.evidence).toMatchObject(evidence);
    if (d && (evidence?.features_nan_one_side ?? 0) > 0) expect(d.message).toMatch(/NaN\/Inf/);
  });
});

describe("input_not_normalized counts NaN features as evidence", () => {
  test("raw-scale inputs with a NaN feature: the alert names it", () => {
    const raw = {
      mean: withAt(
        tr.mean.map(() => 120),
        { 5: "NaN" },
      ),
      std: withAt(
        tr.std.map(() => 60),
        { 5: "NaN" },
      ),
    };
    const events: RunEvent[] = [{ type: "input_stats", step: 0, data: { n: 64, ...raw } }];
    const d = diagnose(makeRun({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(300) }, events })).find(
      (x) => x.code === "input_not_normalized",
    );
    expect(d?.evidence).toMatchObject({ features: 784, non_finite_features: 1, constant_features: 0 });
    expect(d?.message).toMatch(/NaN/);
  });
});
