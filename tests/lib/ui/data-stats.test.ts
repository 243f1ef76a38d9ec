import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, test } from "vitest";
import DataPanel from "../../../app/_components/DataPanel";
import { diagnose } from "../../../lib/diagnostics";
import type { RunEvent } from "../../../lib/diagnostics/types";
import { compareInputs, dataStats, itemLabel, lightenStats, summarizeInputs, wireNum } from "../../../lib/ui/data-stats";
import { statsSplit } from "../../../lib/diagnostics/rules/input-not-normalized";
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

  test("nothing logged about data: empty; malformed events are not read, and listed", () => {
    expect(dataStats([]).empty).toBe(true);
    // training and validation inputs of other feature counts are not compared
    const a = dataStats([ev({ mean: [0, 1], std: [1, 1] }), ev({ mean: [0], std: [1], split: "val" })]);
    expect(a.comparison).toBeNull();
    expect(compareInputs(a.train!, a.val!)).toBeNull();
    // ... and said: the section shows what it could not read rather than nothing
    const u = dataStats([ev({ mean: [1], std: [1, 2] }), ev({ counts: "x" }, 0, "label_stats"), ev({}, 0, "output_stats")]);
    expect(u.inputs.size + u.labels.size + u.outputs.size).toBe(0);
    expect(u.empty).toBe(false);
    expect(u.unreadable.map((x) => x.reason)).toEqual(["mean has 1 entries, std 2", "counts is not a list", "no prediction or target range"]);
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

// Hostile statistics events: both SDKs' event data is free-form JSON within the server's limits, and
// the aliases (data_stats, input_statistics) and imported runs are not checked like input_stats.
// Nothing may throw, in the reading or in the section drawn from it; names stay text; what cannot
// be read is said, with why.
const big = <T>(n: number, v: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => v(i));
const HOSTILE: { name: string; events: RunEvent[]; unreadable?: RegExp; check?: (s: ReturnType<typeof dataStats>) => void }[] = [
  { name: "mean and std of different lengths", events: [ev({ mean: [0, 1, 2], std: [1, 1] })], unreadable: /mean has 3 entries, std 2/ },
  { name: "std as a string", events: [ev({ mean: [0, 1], std: "1, 1" }, 0, "data_stats")], unreadable: /std is not a list/ },
  { name: "a mean entry that is a word", events: [ev({ mean: [0, "one"], std: [1, 1] })], unreadable: /mean\[1\] is not a number/ },
  { name: "nested arrays", events: [ev({ mean: [[0, 1]], std: [[1, 1]] }, 0, "input_statistics")], unreadable: /mean\[0\] is not a number/ },
  { name: "a negative std", events: [ev({ mean: [0, 1], std: [1, -1] }, 0, "data_stats")], unreadable: /std\[1\] is negative/ },
  { name: "empty lists", events: [ev({ mean: [], std: [] })], unreadable: /empty/ },
  {
    name: "a split that is an object with a toString",
    events: [ev({ mean: [0], std: [1], split: { toString: 1 } }, 0, "data_stats")],
    unreadable: /split is not a string/,
  },
  {
    name: "zero and NaN std everywhere, training and validation",
    events: [ev({ mean: [0, 0], std: [0, 0] }), ev({ mean: ["NaN", 0], std: ["NaN", 0], split: "val" })],
    check: (s) => {
      expect(s.comparison!.compared).toBe(0);
      expect(s.comparison!.mismatch).toBe(false);
      expect(s.comparison!.notFinite).toBe(1);
    },
  },
  {
    name: "100,000 features",
    events: [
      ev({ mean: big(100_000, (i) => i % 3), std: big(100_000, () => 1) }),
      ev({ mean: big(100_000, () => 0), std: big(100_000, () => 1), split: "val" }),
    ],
    check: (s) => expect(s.comparison!.worst).toHaveLength(10),
  },
  {
    name: "__proto__, constructor and <script> as split, feature and class names",
    events: [
      ev({ mean: [0, 1, 2], std: [1, 1, 1], names: ["__proto__", "constructor", "<script>alert(1)</script>"], split: "__proto__" }),
      ev({ mean: [0, 1, 2], std: [1, 1, 1e9], split: "constructor", names: ["a", "b", "<script>x</script>"] }),
      ev({ counts: [1, 2], names: ["__proto__", "<script>"], split: "<script>" }, 0, "label_stats"),
    ],
    check: (s) => expect([...s.inputs.keys()]).toEqual(["__proto__", "constructor"]),
  },
  {
    name: "labels with 10,000 classes",
    events: [ev({ counts: big(10_000, (i) => i % 7) }, 0, "label_stats")],
    check: (s) => expect(s.labels.get("train")!.counts).toHaveLength(10_000),
  },
  { name: "label counts as strings", events: [ev({ counts: ["3", "1"] }, 0, "label_stats")], unreadable: /counts\[0\] is not a number/ },
  { name: "a negative label count", events: [ev({ counts: [3, -1] }, 0, "label_stats")], unreadable: /counts\[1\] is not a count/ },
  { name: "label counts all zero", events: [ev({ counts: [0, 0] }, 0, "label_stats")], check: (s) => expect(s.labels.get("train")!.n).toBe(0) },
  {
    name: "output statistics without targets",
    events: [ev({ pred_min: 0, pred_max: 1 }, 0, "output_stats")],
    check: (s) => expect(s.outputs.get("train")!.target.min).toBeNull(),
  },
  {
    name: "output statistics as words",
    events: [ev({ pred_min: "low", target_max: {} }, 0, "output_stats")],
    unreadable: /no prediction or target range/,
  },
  {
    name: "names, min, max and shape of other kinds",
    events: [ev({ mean: [0, 1], std: [1, 1], names: [1, 2], min: "x", max: [1], shape: big(10_000, () => [[1]]), n: "many" })],
    check: (s) => {
      const i = s.inputs.get("train")!;
      expect([i.names, i.min, i.max, i.n]).toEqual([null, null, null, null]);
    },
  },
  {
    name: "data that is not an object",
    events: [ev([1, 2] as unknown as object), ev(null as unknown as object, 0, "label_stats")],
    unreadable: /missing/,
  },
];

describe("hostile statistics events", () => {
  test.each(HOSTILE)("$name", ({ events, unreadable, check }) => {
    const s = dataStats(events);
    if (unreadable) expect(s.unreadable.map((u) => u.reason).join("; ")).toMatch(unreadable);
    else expect(s.unreadable).toEqual([]);
    expect(s.empty).toBe(false);
    check?.(s);
    // the section drawn from them: no throw, names as text
    const html = renderToStaticMarkup(createElement(DataPanel, { events }));
    expect(html).toContain('aria-label="Data"');
    expect(html).not.toMatch(/<script/i);
    if (unreadable) expect(html).toContain("could not be read");
    // and the page's lighter events read the same
    expect(shown(dataStats(lightenStats(events)))).toEqual(shown(s));
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

/** What the Data section draws from a reading: compared with and without the page's lighter events. */
function shown(s: ReturnType<typeof dataStats>) {
  return {
    inputs: [...s.inputs.values()],
    inputCounts: [...s.inputCounts],
    labels: [...s.labels.values()],
    labelCounts: [...s.labelCounts],
    outputs: [...s.outputs.values()],
    comparison: s.comparison,
    history: s.history,
    changes: s.changes,
    unreadable: s.unreadable,
  };
}

describe("lightenStats: the page and GET /runs/{id} carry only the lists the Data section reads", () => {
  // watch()'s order: a training batch, then one validation batch per evaluation pass; the
  // validation inputs change scale at epoch 60 and a NaN feature comes at epoch 80
  const F2 = 784;
  const epochs = 100;
  const events: RunEvent[] = [];
  for (let k = 0; k < epochs; k++) {
    const tr = { mean: big(F2, (i) => ((i * 7 + k) % 13) / 100), std: big(F2, (i) => 0.9 + ((i + k) % 5) / 50) };
    const va = k < 60 ? tr : { mean: tr.mean, std: tr.std.map((x) => (x as number) * 10) };
    events.push(ev({ ...tr, n: 64, source: "watch" }, k * 100));
    events.push(
      ev({ ...va, mean: k >= 80 ? va.mean.map((m, i) => (i === 9 ? "NaN" : m)) : va.mean, n: 64, split: "val", source: "watch" }, k * 100 + 50),
    );
    if (k % 10 === 0) events.push(ev({ counts: big(10, (i) => 100 + i + k), split: "train" }, k * 100, "label_stats"));
  }
  events.push(ev({ mean: [1], std: [1, 2], split: "val" }, 9999)); // unreadable: said with why, from its reading

  test("the same section from a fraction of the bytes", () => {
    const light = lightenStats(events);
    expect(shown(dataStats(light))).toEqual(shown(dataStats(events)));
    expect(dataStats(light).history).toHaveLength(epochs);
    expect(dataStats(light).changes.map((c) => c.step)).toEqual([6050]);
    const size = (x: unknown) => JSON.stringify(x).length;
    expect(size(light)).toBeLessThan(size(events) / 20);
    // the latest of each split whole; the others say what was left out
    const full = light.filter((e) => !e.omitted);
    expect(full.map((e) => `${e.type} ${e.step}`)).toEqual(["label_stats 9000", "input_stats 9900", "input_stats 9950"]);
    expect(light.at(-1)).toMatchObject({ omitted: { fields: ["mean", "std"], length: 1 }, reading: { unreadable: "mean has 1 entries, std 2" } });
    expect(light[0].omitted).toEqual({ fields: ["mean", "std"], length: F2 });
    expect(light[0].data).toEqual({ n: 64, source: "watch" });
  });

  test("live: events arriving after the lighter ones read as after the whole ones", () => {
    const next = [
      ev({ mean: big(F2, () => 0), std: big(F2, () => 1), n: 64 }, 20_000),
      ev({ mean: big(F2, () => 0), std: big(F2, (i) => (i === 3 ? 1e4 : 1)), n: 64, split: "val" }, 20_050),
    ];
    const a = dataStats([...lightenStats(events), ...next]);
    expect(shown(a)).toEqual(shown(dataStats([...events, ...next])));
    expect(a.comparison!.worstFinite!.index).toBe(3);
    expect(a.history.at(-1)!.step).toBe(20_050);
  });
});

test("a split that is not a name reads as another split, not a throw (the diagnostics' and the checklist's statsSplit)", () => {
  for (const split of [{ toString: 1 }, { valueOf: "x" }, [1], { __proto__: null }]) expect(statsSplit({ split })).toBe("other");
  expect(statsSplit({ split: " VAL " })).toBe("val");
});

test("many splits, and unreadable events: past the first splits and for what cannot be read, the lists stay on the server", () => {
  const F3 = 784;
  const full = (split: string, step: number, k = 1) => ev({ mean: big(F3, () => 0), std: big(F3, () => k), split }, step);
  const events: RunEvent[] = [
    full("train", 0),
    ...big(20, (i) => full(`holdout-${i}`, i + 1)),
    full("val", 100, 50),
    full("holdout-3", 101),
    ev({ mean: big(F3, () => 0), std: big(F3 - 1, () => 1) }, 200, "data_stats"),
  ];
  const light = lightenStats(events);
  const s = dataStats(light);
  expect([...s.inputs.keys()]).toEqual(["train", ...big(7, (i) => `holdout-${i}`), "val"]);
  expect(s.hiddenSplits).toEqual(big(13, (i) => `holdout-${i + 7}`));
  expect(s.inputCounts.get("holdout-3")).toBe(2);
  expect(s.comparison!.mismatch).toBe(true);
  expect(s.unreadable).toEqual([{ type: "data_stats", split: "train", step: 200, reason: "mean has 784 entries, std 783" }]);
  expect(light.at(-1)!.omitted).toEqual({ fields: ["mean", "std"], length: F3 });
  expect(JSON.stringify(light).length).toBeLessThan(JSON.stringify(events).length / 2);
  const html = renderToStaticMarkup(createElement(DataPanel, { events: light }));
  expect(html).toContain("13 more splits logged statistics not shown here");
});

test("compareInputs' worst features: the same as ranking every feature and sorting (random sides with NaN, Inf, 0 std and ties)", () => {
  let seed = 3;
  const r = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const pick = (): number | string => {
    const u = r();
    return u < 0.03 ? "NaN" : u < 0.05 ? "Infinity" : u < 0.1 ? 0 : u < 0.2 ? 1 : Math.round(r() * 1e3) / 100;
  };
  for (let round = 0; round < 30; round++) {
    const n = 1 + Math.floor(r() * 60);
    const side = () => ({ mean: big(n, pick), std: big(n, pick) });
    const s = dataStats([ev(side()), ev({ ...side(), split: "val" })]);
    const c = compareInputs(s.train!, s.val!, n)!;
    const top = compareInputs(s.train!, s.val!, 5)!;
    // every feature listed, as the ranking reads them: not finite on a side first, then by off, ties by index
    const rank = (d: (typeof c.worst)[0]) =>
      Number.isNaN(d.off) ? ([d.trainMean, d.trainStd, d.valMean, d.valStd].every(Number.isFinite) ? -1 : Number.POSITIVE_INFINITY) : d.off;
    const sorted = [...c.worst].sort((a, b) => rank(b) - rank(a) || a.index - b.index);
    expect(c.worst.map((d) => d.index)).toEqual(sorted.map((d) => d.index));
    expect(top.worst).toEqual(c.worst.slice(0, 5));
    const finite = c.worst.filter((d) => Number.isFinite(d.off));
    const max = Math.max(0, ...finite.map((d) => d.off));
    expect(top.worstFinite?.index ?? null).toBe(max > 0 ? finite.find((d) => d.off === max)!.index : null);
  }
});
