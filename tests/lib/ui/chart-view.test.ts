import { describe, expect, test } from "vitest";
import { alertMarkers } from "@/lib/ui/alert-charts";
import { tooltipLabel, tooltipTitle } from "@/lib/ui/chart-options";
import { type ChartViewInput, type LineSpec, type Pt, buildChartView, nonFiniteNotes } from "@/lib/ui/chart-view";
import { runStepUnit } from "@/lib/ui/ema";
import { type Bucket, pointBucket } from "@/lib/ui/series";

// What a metric chart draws, built from its buckets without a browser: datasets per line (band,
// mean, smoothed mean, markers), what the card reports, the smoothed line across lines and gaps.

const line = (id: string, color = "#4e79a7"): LineSpec => ({ id, runId: "r", key: id, label: id, color });
const points = (values: number[], first = 0, every = 1): Bucket[] =>
  values.map((v, i) => pointBucket(first + i * every, v, 1000 + first + i * every));
const input = (lines: LineSpec[], series: [string, Bucket[]][], o: Partial<ChartViewInput> = {}): ChartViewInput => ({
  lines,
  series: new Map(series),
  seeds: new Map(),
  hidden: new Set(),
  xMode: "step",
  ema: 0,
  xContexts: new Map(),
  ...o,
});
const byLabel = (v: ReturnType<typeof buildChartView>, label: string) => v.datasets.find((d) => d.label === label)!;

describe("buildChartView", () => {
  test("exact points: one mean line, no band; counts, step range and x range", () => {
    const v = buildChartView(input([line("loss")], [["loss", points([3, 2, 1], 10)]]));
    expect(v.datasets.map((d) => d.label)).toEqual(["loss"]);
    expect([v.drawn, v.exact, v.first, v.last, v.xRange]).toEqual([3, true, 10, 12, "10..12"]);
    expect(v.yFlat).toBeNull();
  });

  test("downsampled buckets get a min/max band under the mean", () => {
    const b: Bucket = { ...pointBucket(0, 1, 0), lastStep: 9, count: 10, min: 0, max: 5 };
    const v = buildChartView(input([line("loss")], [["loss", [b, ...points([2], 10)]]]));
    expect(v.datasets.map((d) => d.label)).toEqual(["loss min", "loss max", "loss"]);
    expect(v.exact).toBe(false);
  });

  test.each([
    ["NaN", Number.NaN, "loss NaN", "nan"],
    ["+Inf", Infinity, "loss +Inf", "posInf"],
    ["-Inf", -Infinity, "loss -Inf", "negInf"],
  ] as const)("a %s gets its own marker dataset, counted and noted", (_what, bad, label, kind) => {
    const v = buildChartView(input([line("loss")], [["loss", points([1, bad, 3])]]));
    expect((byLabel(v, label).data as Pt[]).map((p) => p.b.step)).toEqual([1]);
    expect(v.markerKinds[kind]).toBe(1);
    expect(v.markers).toBe(1);
    expect(nonFiniteNotes(v.nonFinite).map((n) => n.text)).toEqual([`1 ${label.slice(5)}`]);
  });

  test("a hidden line is not drawn", () => {
    const v = buildChartView(
      input(
        [line("a"), line("b")],
        [
          ["a", points([1, 2])],
          ["b", points([3, 4])],
        ],
        { hidden: new Set(["b"]) },
      ),
    );
    expect(v.datasets.map((d) => d.label)).toEqual(["a"]);
  });

  test("x that goes back: every dataset is parsed so the axis spans all points", () => {
    const ctx = { t0: 1000, epoch: null, epochUnavailable: false };
    const bs = points([1, 2, 3]);
    bs[2].time = 999; // a clock that stepped back
    const v = buildChartView(input([line("a")], [["a", bs]], { xMode: "relative", xContexts: new Map([["r", ctx]]) }));
    expect(v.ascending).toBe(false);
    expect(v.datasets.every((d) => d.parsing === true)).toBe(true);
  });

  test("no epoch logged: drawn by step and says so", () => {
    const v = buildChartView(input([line("a")], [["a", points([1, 2])]], { xMode: "epoch" }));
    expect(v.fallback).toBe(true);
    expect(v.xRange).toBe("0..1");
  });
});

describe("the smoothed line", () => {
  const curve = (s: number) => 2 * Math.exp(-s / 200);

  test("a validation line beside a train line follows its own dots; alone it is TensorBoard's EMA", () => {
    const train = points(Array.from({ length: 1000 }, (_, s) => curve(s)));
    const val = points(
      Array.from({ length: 10 }, (_, i) => curve(i * 100) + 0.1),
      0,
      100,
    );
    const both = buildChartView(
      input(
        [line("train"), line("val")],
        [
          ["train", train],
          ["val", val],
        ],
        { ema: 0.6 },
      ),
    );
    const sm = byLabel(both, "val (smoothed)").data as Pt[];
    sm.forEach((p, i) => expect(p.y).toBeCloseTo(val[i].mean as number, 9));
    const alone = buildChartView(input([line("val")], [["val", val]], { ema: 0.6 }));
    expect((byLabel(alone, "val (smoothed)").data as Pt[])[1].y).toBeCloseTo((0.6 * (val[0].mean as number) + (val[1].mean as number)) / 1.6, 12);
  });

  test("a validation line alone on its chart follows its own dots when its run logs something every step", () => {
    const val = points(
      Array.from({ length: 10 }, (_, i) => curve(i * 100) + 0.1),
      0,
      100,
    );
    const runKeys = [
      { key: "train/loss", count: 1000, firstStep: 0, lastStep: 999 },
      { key: "val/acc", count: 10, firstStep: 0, lastStep: 900 },
    ];
    const stepUnit = runStepUnit(runKeys);
    expect(stepUnit).toBe(1);
    const v = buildChartView(input([line("val")], [["val", val]], { ema: 0.6, xContexts: new Map([["r", { t0: null, epoch: null, stepUnit }]]) }));
    expect(v.smoothUnit).toBe(1);
    (byLabel(v, "val (smoothed)").data as Pt[]).forEach((p, i) => expect(p.y).toBeCloseTo(val[i].mean as number, 9));
    // a run that logs everything once an epoch keeps TensorBoard's smoothing per point
    const sparseRun = runStepUnit([{ key: "val/acc", count: 10, firstStep: 0, lastStep: 900 }]);
    const tb = buildChartView(
      input([line("val")], [["val", val]], { ema: 0.6, xContexts: new Map([["r", { t0: null, epoch: null, stepUnit: sparseRun }]]) }),
    );
    expect((byLabel(tb, "val (smoothed)").data as Pt[])[1].y).toBeCloseTo((0.6 * (val[0].mean as number) + (val[1].mean as number)) / 1.6, 12);
  });

  test.each([
    ["no keys", [], null],
    ["one point each", [{ count: 1, firstStep: 5, lastStep: 5 }], null],
    ["every step", [{ count: 100, firstStep: 0, lastStep: 99 }], 1],
    [
      "finest of several",
      [
        { count: 11, firstStep: 0, lastStep: 1000 },
        { count: 21, firstStep: 0, lastStep: 200 },
      ],
      10,
    ],
    [
      "a key whose steps repeat",
      [
        { count: 5, firstStep: 3, lastStep: 3 },
        { count: 3, firstStep: 0, lastStep: 4 },
      ],
      2,
    ],
  ])("runStepUnit: %s", (_, keys, want) => {
    expect(runStepUnit(keys)).toBe(want);
  });

  test("a gap breaks the smoothed line (a point with no value) and restarts it; the raw line is as logged", () => {
    const bs = [...points([5, 5.1, 4.9, 5]), ...points([1, 1.1, 0.9], 100)];
    const v = buildChartView(input([line("loss")], [["loss", bs]], { ema: 0.9 }));
    const sm = byLabel(v, "loss (smoothed)").data as Pt[];
    expect(sm.map((p) => p.y === null)).toEqual([false, false, false, false, true, false, false, false]);
    expect(sm[4].x).toBe(51.5);
    expect(sm[5].y).toBe(1);
    expect((byLabel(v, "loss").data as Pt[]).length).toBe(7);
    expect([v.smoothUnit, v.smoothBreaks]).toEqual([1, 1]);
  });

  test("zoomed: the smoothed line starts from the run's points before the range", () => {
    const all = points(Array.from({ length: 300 }, (_, s) => curve(s)));
    const seeded = buildChartView(input([line("a")], [["a", all.slice(200)]], { ema: 0.95, seeds: new Map([["a", all.slice(0, 200)]]) }));
    const whole = buildChartView(input([line("a")], [["a", all]], { ema: 0.95 }));
    const z = byLabel(seeded, "a (smoothed)").data as Pt[];
    const w = byLabel(whole, "a (smoothed)").data as Pt[];
    z.forEach((p, i) => expect(p.y).toBeCloseTo(w[200 + i].y!, 9));
  });
});

describe("tooltip and alert markers", () => {
  const pt = (b: Bucket): Pt => ({ x: b.step, y: b.mean, b, line: "loss" });
  test.each<[string, Bucket, string, string]>([
    ["an exact point", pointBucket(5, 0.25, 0), "raw", "loss: 0.25"],
    ["a bucket", { ...pointBucket(0, 1, 0), lastStep: 9, count: 10, min: 0.5, max: 2 }, "raw", "loss: mean 1 (min 0.5, max 2, 10 points)"],
    ["a smoothed value", pointBucket(5, 0.25, 0), "smooth", "loss smoothed: 0.25"],
    ["a NaN marker", pointBucket(7, Number.NaN, 0), "marker", "loss: NaN at step 7"],
  ])("%s", (_what, b, role, text) => {
    expect(tooltipLabel({ raw: pt(b), dataset: { role } as never })).toBe(text);
  });

  test("the title names the steps, and x when the axis is not the step", () => {
    const b = { ...pointBucket(10, 1, 0), lastStep: 19, count: 10 };
    expect(tooltipTitle([{ raw: pt(b) }], "step")).toBe("steps 10–19");
    expect(tooltipTitle([{ raw: { ...pt(b), x: 1.5 } }], "epoch")).toBe("steps 10–19 · epoch 1.5");
  });

  test("alert markers stand at the step first raised, resolved ones first; none before there are points", () => {
    const alerts = [
      { code: "a", severity: "critical", status: "active", step: 30, firstStep: 20 },
      { code: "b", severity: "warning", status: "resolved", step: 5 },
    ];
    const hits = [0, 10, 20, 30].map((s) => ({ x: s / 10, step: s }));
    expect(alertMarkers(alerts, hits, "step").map((m) => [m.code, m.x, m.resolved])).toEqual([
      ["b", 5, true],
      ["a", 20, false],
    ]);
    expect(alertMarkers(alerts, hits, "epoch").find((m) => m.code === "a")!.x).toBe(2);
    expect(alertMarkers(alerts, [], "step")).toEqual([]);
  });
});
