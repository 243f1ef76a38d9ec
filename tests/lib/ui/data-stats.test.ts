import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import type { RunEvent } from "../../../lib/diagnostics/types";
import { compareInputs, dataStats, itemLabel, summarizeInputs, wireNum } from "../../../lib/ui/data-stats";
import { decayingLoss, makeRun } from "../diagnostics/synth";

// The run page's Data section reads the statistics events: per split the latest, training vs
// validation inputs feature by feature as train_val_mismatch reads them (the same numbers the alert
// states), NaN/±Infinity kept, names as data, and the history of the comparison.

const F = 16;
const train = { mean: Array.from({ length: F }, (_, i) => 0.01 * (i - 8)), std: Array.from({ length: F }, (_, i) => 0.9 + 0.01 * i) };
const scaled = (k: number) => ({ mean: train.mean.map((m) => m * k), std: train.std.map((s) => s * k) });
const ev = (data: object, step: number | null = 0, type = "input_stats"): RunEvent => ({ type, step, data });

describe("compareInputs agrees with train_val_mismatch's reading of the inputs", () => {
  test.each([
    { name: "validation not normalized", val: { mean: train.mean.map(() => 8), std: train.std.map(() => 16) } },
    {
      name: "one feature blown up (1e6)",
      val: { mean: train.mean.map((m, i) => (i === 3 ? 4e5 : m)), std: train.std.map((s, i) => (i === 3 ? 1e6 : s)) },
    },
    { name: "normalized twice", val: scaled(0.1) },
    { name: "sample noise only", val: { mean: train.mean.map((m) => m + 0.05), std: train.std.map((s) => s * 1.1) } },
    { name: "every feature 4x", val: scaled(4) },
    { name: "3 of 16 features 10x", val: { mean: train.mean, std: train.std.map((s, i) => (i < 3 ? 10 * s : s)) } },
    { name: "a validation batch of one example", val: { ...scaled(0.01), n: 1 } },
    {
      name: "a constant training feature blown up in validation",
      train: { mean: train.mean, std: train.std.map((s, i) => (i === 0 ? 0 : s)), n: 32 },
      val: { mean: train.mean.map((m, i) => (i === 0 ? 3e4 : m)), std: train.std.map((s, i) => (i === 0 ? 5e5 : s)) },
    },
  ])("$name", ({ val, ...rest }) => {
    const tr = ("train" in rest ? rest.train : undefined) ?? { ...train, n: 1000 };
    const events = [ev(tr), ev({ n: 200, ...val, split: "val" })];
    const d = diagnose(makeRun({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(300) }, events }), { strict: true }).find(
      (x) => x.code === "train_val_mismatch",
    );
    const s = dataStats(events);
    const c = s.comparison!;
    expect(c.mismatch).toBe(!!d);
    if (d) {
      expect(c.offCount).toBe(d.evidence.features_off);
      expect(c.worstFinite!.index).toBe(d.evidence.worst_feature);
      // the evidence is rounded to 3 significant digits
      expect(Math.abs(c.worstFinite!.off / (d.evidence.worst_off as number) - 1)).toBeLessThan(0.01);
    }
  });
});

describe("dataStats", () => {
  test("latest per split, splits by their own names, history of the worst feature at each validation log", () => {
    const events = [
      ev({ ...train, n: 64, source: "watch" }, 0),
      ev({ ...train, n: 64, split: "val", source: "watch" }, 100),
      ev({ ...train, n: 64 }, 101),
      ev({ ...scaled(0.1), n: 64, split: "val" }, 200),
      ev({ ...train, split: "test" }, 300),
      ev({ x: 1 }, 5, "other"),
    ];
    const s = dataStats(events);
    expect([...s.inputs.keys()]).toEqual(["train", "val", "test"]);
    expect(s.inputCounts.get("val")).toBe(2);
    expect(s.inputs.get("train")!.step).toBe(101);
    expect(s.inputs.get("train")!.source).toBeNull();
    // "test" reads as validation to the diagnostics (statsSplit), so it is the latest val here
    expect(s.val!.split).toBe("test");
    expect(s.history.map((h) => h.step)).toEqual([100, 200, 300]);
    expect(s.history[0].off).toBeCloseTo(1, 6);
    expect(s.history[1].off).toBeGreaterThanOrEqual(5);
    // the val split changed from one log to the next: said with the step
    expect(s.changes).toEqual([expect.objectContaining({ split: "val", step: 200, previousStep: 100 })]);
  });

  test("NaN and ±Infinity stay as logged, lead the worst features, and are counted", () => {
    const mean: (number | string)[] = [...train.mean];
    const std: (number | string)[] = [...train.std];
    mean[5] = "NaN";
    std[6] = "Infinity";
    mean[7] = "-Infinity";
    const s = dataStats([ev(train), ev({ mean, std, split: "val" })]);
    const sum = summarizeInputs(s.val!);
    expect(sum.nonFinite).toEqual({ nan: 1, posInf: 1, negInf: 1 });
    expect(sum.nonFiniteFeatures).toBe(3);
    expect(s.comparison!.notFinite).toBe(3);
    expect(s.comparison!.worst.slice(0, 3).map((w) => w.index)).toEqual([5, 6, 7]);
    expect(Number.isNaN(s.comparison!.worst[0].valMean)).toBe(true);
    expect(s.comparison!.worst[1].valStd).toBe(Number.POSITIVE_INFINITY);
    expect([wireNum("NaN"), wireNum("-Infinity"), wireNum("x"), wireNum(undefined)]).toEqual([Number.NaN, Number.NEGATIVE_INFINITY, null, null]);
  });

  test("784 features: the comparison keeps the worst 10, summaries cover all", () => {
    const n = 784;
    const m = Array.from({ length: n }, () => 0);
    const sd = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 1));
    const vsd = sd.map((x, i) => (i === 400 ? 2e6 : x));
    const s = dataStats([ev({ mean: m, std: sd }), ev({ mean: m, std: vsd, split: "val" })]);
    expect(s.comparison!.worst).toHaveLength(10);
    expect(s.comparison!.worst[0].index).toBe(400);
    expect(s.comparison!.mismatch).toBe(true);
    expect(summarizeInputs(s.train!).constant).toBe(112);
  });

  test.each(["__proto__", "constructor", "toString", "<img src=x onerror=alert(1)>", "hasOwnProperty"])(
    "a split, feature or class named %s is data",
    (name) => {
      const s = dataStats([
        ev({ mean: [0, 1], std: [1, 1], names: [name, "b"], split: name }),
        ev({ counts: [3, 1], split: name, names: [name, "other"] }, 0, "label_stats"),
      ]);
      expect(s.inputs.get(name)!.names).toEqual([name, "b"]);
      expect(s.labels.get(name)!.majority).toBe(0);
      expect(itemLabel("class", 0, s.labels.get(name)!.names)).toBe(name);
      expect(itemLabel("class", 1, null)).toBe("class 1");
      expect(Object.keys(Object.prototype)).toEqual([]);
    },
  );

  test("label and output statistics: majority share, empty classes, what the outputs' ranges say", () => {
    const s = dataStats([
      ev({ counts: [850, 100, 50, 0], n: 1000 }, 0, "label_stats"),
      ev({ counts: [40, 40, 20, 0], split: "val" }, 0, "label_stats"),
      ev({ pred_min: 0, pred_max: 3.1, target_min: -2.4, target_max: 3.3, n: 400 }, 900, "output_stats"),
      ev({ pred_min: "NaN", pred_max: "NaN", target_min: 0, target_max: 1, split: "val" }, 900, "output_stats"),
    ]);
    const tr = s.labels.get("train")!;
    expect([tr.majority, tr.majorityShare, tr.empty, tr.n]).toEqual([0, 0.85, 1, 1000]);
    expect(s.labels.get("val")!.majorityShare).toBe(0.4);
    expect(s.outputs.get("train")!.note).toMatch(/never go below 0/);
    expect(Number.isNaN(s.outputs.get("val")!.pred.min)).toBe(true);
    expect(s.outputs.get("val")!.note).toMatch(/not finite/);
  });

  test("nothing logged about data: empty; malformed events are skipped", () => {
    expect(dataStats([]).empty).toBe(true);
    // training and validation inputs of other feature counts are not compared
    const a = dataStats([ev({ mean: [0, 1], std: [1, 1] }), ev({ mean: [0], std: [1], split: "val" })]);
    expect(a.comparison).toBeNull();
    expect(compareInputs(a.train!, a.val!)).toBeNull();
    expect(dataStats([ev({ mean: [1], std: [1, 2] }), ev({ counts: "x" }, 0, "label_stats"), ev({}, 0, "output_stats")]).empty).toBe(true);
  });
});

test("the worst comparable feature is the one the alert names, even beside a NaN feature", () => {
  const mean: (number | string)[] = [...train.mean];
  mean[2] = "NaN";
  const std = train.std.map((s, i) => (i === 9 ? 1e3 : s));
  const c = dataStats([ev(train), ev({ mean, std, split: "val" })]).comparison!;
  expect(c.worst[0].index).toBe(2);
  expect(c.worstFinite!.index).toBe(9);
  expect(c.mismatch).toBe(true);
});
