import { describe, expect, test } from "vitest";
import { tooltipLabel, yScale } from "@/lib/ui/chart-options";
import { type ChartViewInput, type LineSpec, type Pt, buildChartView, logRange, nonPositiveNote } from "@/lib/ui/chart-view";
import { type Bucket, pointBucket } from "@/lib/ui/series";

// A chart draws exactly what was logged: a value <= 0 on a log axis is marked at the bottom edge,
// not drawn at the axis' floor; the log axis spans the positive values; values whose range
// overflows a double are all drawn at their height; non-finite runs are markers in their kind's colour.

const line = (id: string, color = "#4e79a7"): LineSpec => ({ id, runId: "r", key: id, label: id, color });
const points = (values: number[], first = 0): Bucket[] => values.map((v, i) => pointBucket(first + i, v, 1000 + first + i));
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
const byLabel = (v: ReturnType<typeof buildChartView>, label: string) => v.datasets.find((d) => d.label === label);
const ys = (d: Record<string, unknown> | undefined) => ((d as Record<string, unknown>).data as Pt[]).map((p) => p.y);

const decay = Array.from({ length: 300 }, (_, s) => 10 * 10 ** (-s / 25));
const withZero = decay.map((v, s) => (s < 250 ? v : 0));

describe("a log axis and values <= 0", () => {
  test("the reviewer's update ratios: the axis spans every positive value, the 50 zeros are marked at the bottom and noted", () => {
    const v = buildChartView(
      input(
        [line("nozero"), line("withzero", "#e15759")],
        [
          ["nozero", points(decay)],
          ["withzero", points(withZero)],
        ],
        { log: true },
      ),
    );
    expect(v.yLog).toEqual({ min: decay[299], max: 10 });
    // no zero is drawn as a value: the line stops where the values do
    const mean = ys(byLabel(v, "withzero"));
    expect(mean.slice(0, 250)).toEqual(decay.slice(0, 250));
    expect(mean.slice(250).every((y) => y === null)).toBe(true);
    expect(ys(byLabel(v, "nozero"))).toEqual(decay);
    const marks = byLabel(v, "withzero \u2264 0")!;
    expect((marks.data as Pt[]).map((p) => p.b.step)).toEqual(Array.from({ length: 50 }, (_, i) => 250 + i));
    expect(marks.yAxisID).toBe("yMarker");
    expect(byLabel(v, "nozero \u2264 0")).toBeUndefined();
    expect(v.nonPositive).toEqual({ values: 50, buckets: 0 });
    expect(nonPositiveNote(v.nonPositive)).toBe("50 values \u2264 0 not drawable on a log axis");
    // the axis chart.js gets spans the positive values, not 1..10
    expect(yScale(true, v.yFlat, v.yLog, v.yDiv)).toMatchObject({ type: "logarithmic", min: decay[299], max: 10 });
    // a tooltip names the value and why it is not drawn
    expect(tooltipLabel({ raw: (marks.data as Pt[])[0], dataset: marks as never })).toBe("withzero: 0 at step 250 (\u2264 0: not on a log axis)");
  });

  test.each([
    ["zero", 0],
    ["negative", -2.5],
    ["negative tiny", -1e-300],
  ])("a %s value is marked, not drawn, on a log axis; on a linear axis it is drawn as is", (_what, bad) => {
    const log = buildChartView(input([line("g")], [["g", points([1, bad, 3])]], { log: true }));
    expect(ys(byLabel(log, "g"))).toEqual([1, null, 3]);
    expect(log.nonPositive).toEqual({ values: 1, buckets: 0 });
    expect(log.yLog).toEqual({ min: 1, max: 3 });
    const lin = buildChartView(input([line("g")], [["g", points([1, bad, 3])]]));
    expect(ys(byLabel(lin, "g"))).toEqual([1, bad, 3]);
    expect(lin.nonPositive).toEqual({ values: 0, buckets: 0 });
    expect(byLabel(lin, "g \u2264 0")).toBeUndefined();
  });

  test("a bucket whose min is <= 0: its band has no lower edge there, the bucket is marked; the mean drawn while positive", () => {
    const b: Bucket = { ...pointBucket(0, 2, 0), lastStep: 9, count: 10, min: 0, max: 5, mean: 2 };
    const c: Bucket = { ...pointBucket(10, -1, 10), lastStep: 19, count: 10, min: -3, max: 1, mean: -1 };
    const v = buildChartView(input([line("g")], [["g", [b, c, ...points([4], 20)]]], { log: true }));
    expect(ys(byLabel(v, "g min"))).toEqual([null, null, 4]);
    expect(ys(byLabel(v, "g max"))).toEqual([5, 1, 4]);
    expect(ys(byLabel(v, "g"))).toEqual([2, null, 4]);
    expect(v.nonPositive).toEqual({ values: 0, buckets: 2 });
    expect(nonPositiveNote(v.nonPositive)).toBe("2 buckets with values \u2264 0 not drawable on a log axis");
    const marks = byLabel(v, "g \u2264 0")!;
    expect(tooltipLabel({ raw: (marks.data as Pt[])[1], dataset: marks as never })).toBe(
      "g: min -3 in steps 10\u201319 (\u2264 0: not on a log axis)",
    );
  });

  test("the smoothed line on a log axis has no point <= 0 either", () => {
    const v = buildChartView(input([line("g")], [["g", points([1, -5, -5, -5, 2])]], { log: true, ema: 0.6 }));
    const sm = ys(byLabel(v, "g (smoothed)"));
    expect(sm.every((y) => y === null || y > 0)).toBe(true);
  });

  test.each([
    [1e-3, 1e-3],
    [5, 5],
  ])("a log axis over one positive value %s spans a decade around it", (lo, hi) => {
    const r = logRange(lo, hi)!;
    expect(r.min).toBeLessThan(lo);
    expect(r.max).toBeGreaterThan(hi);
    expect(r.max / r.min).toBeCloseTo(10, 5);
  });

  test("no positive value at all: no log range (only markers)", () => {
    const v = buildChartView(input([line("g")], [["g", points([0, 0, -1])]], { log: true }));
    expect(v.yLog).toBeNull();
    expect(v.nonPositive.values).toBe(3);
  });
});

describe("finite values whose range overflows a double", () => {
  const huge = [1e308, -1e308, 0, 5e307];

  test("every value drawn at a tenth of its height, ticks and tooltips say the real values", () => {
    const v = buildChartView(input([line("g")], [["g", points(huge)]]));
    expect(v.yDiv).toBe(10);
    const drawn = ys(byLabel(v, "g")) as number[];
    expect(drawn.every((y) => Number.isFinite(y))).toBe(true);
    expect(drawn.map((y) => y * 10)).toEqual(huge.map((h) => expect.closeTo(h, -300)));
    // the drawn span is a double again: chart.js can place ticks on it
    expect(Number.isFinite(Math.max(...drawn) - Math.min(...drawn))).toBe(true);
    const scale = yScale(false, v.yFlat, v.yLog, v.yDiv);
    const ticks = [-1e307, -5e306, 0, 5e306, 1e307].map((value) => ({ value }));
    const labels = ticks.map((t, i) => scale.ticks.callback(t.value, i, ticks));
    expect(labels).toEqual(["-1e308", "-5e307", "0", "5e307", "1e308"]);
    const mean = byLabel(v, "g")!;
    expect((mean.data as Pt[]).map((p) => tooltipLabel({ raw: p, dataset: mean as never }))).toEqual(["g: 1e308", "g: -1e308", "g: 0", "g: 5e307"]);
  });

  test.each([
    ["both extremes", [1.7e308, -1.7e308]],
    ["the largest doubles", [Number.MAX_VALUE, -Number.MAX_VALUE, 1]],
  ])("%s: smoothing them overflows nothing, each smoothed value is finite and within the values", (_what, vs) => {
    const v = buildChartView(input([line("g")], [["g", points(vs)]], { ema: 0.6 }));
    const sm = byLabel(v, "g (smoothed)")!;
    for (const p of sm.data as Pt[]) {
      expect(Number.isFinite(p.v)).toBe(true);
      expect(p.v as number).toBeGreaterThanOrEqual(Math.min(...vs));
      expect(p.v as number).toBeLessThanOrEqual(Math.max(...vs));
      expect(tooltipLabel({ raw: p, dataset: sm as never })).not.toMatch(/NaN|Inf/);
    }
  });

  test.each([
    ["one value, the largest double", [Number.MAX_VALUE, Number.MAX_VALUE]],
    ["near the largest double", [1.7e308, 1.79e308]],
    ["near the most negative double", [-1.79e308, -1.7e308]],
  ])("%s: drawn scaled, the axis' range is finite", (_what, vs) => {
    const v = buildChartView(input([line("g")], [["g", points(vs)]]));
    expect(v.yDiv).toBe(10);
    expect((ys(byLabel(v, "g")) as number[]).every((y) => Number.isFinite(y) && Number.isFinite(y * 2))).toBe(true);
    if (v.yFlat) expect(Number.isFinite(v.yFlat.max) && Number.isFinite(v.yFlat.min)).toBe(true);
  });

  test("an ordinary range is drawn as is", () => {
    const v = buildChartView(input([line("g")], [["g", points([1e305, -1e305, 3])]]));
    expect(v.yDiv).toBe(1);
    expect(ys(byLabel(v, "g"))).toEqual([1e305, -1e305, 3]);
  });
});

describe("non-finite values in a row", () => {
  const run = [...Array.from({ length: 100 }, (_, i) => 2 + Math.sin(i)), ...Array(200).fill(Number.NaN)];

  test("200 NaN after finite values: a marker each in NaN's colour (no outline in the line's colour), one NaN span, nothing at a made-up level", () => {
    const v = buildChartView(input([line("loss", "#4e79a7")], [["loss", points(run)]]));
    const marks = byLabel(v, "loss NaN")!;
    expect((marks.data as Pt[]).length).toBe(200);
    expect(marks.backgroundColor).toBe("#dc2626");
    expect(marks.borderColor).not.toBe("#4e79a7");
    expect(marks.yAxisID).toBe("yMarker");
    // the line and anything in the line's colour has no value over the NaN steps
    for (const d of v.datasets.filter((d) => d.yAxisID !== "yMarker"))
      expect(
        ys(d)
          .slice(100)
          .every((y) => y === null),
      ).toBe(true);
    const span = byLabel(v, "loss NaN run")!;
    expect((span.data as Pt[]).map((p) => p.b.step)).toEqual([100, 299]);
    expect(span.borderColor).toBe("rgba(220, 38, 38, 0.35)");
    expect(v.markerRuns).toBe(1);
  });

  test.each([
    ["NaN", Number.NaN, "#dc2626"],
    ["+Inf", Infinity, "#111827"],
    ["-Inf", -Infinity, "#db2777"],
  ])("runs of %s are spans of their own colour, one per run; a lone one is just its marker", (name, bad, color) => {
    const vs = [1, bad, bad, bad, 2, bad, 3, bad, bad, 4];
    const v = buildChartView(input([line("g")], [["g", points(vs)]]));
    const span = byLabel(v, `g ${name} run`)!;
    expect((span.data as Pt[]).map((p) => [p.b.step, p.y === null])).toEqual([
      [1, false],
      [3, false],
      [7, true],
      [7, false],
      [8, false],
    ]);
    expect(String(span.borderColor)).toContain(String(Number.parseInt(color.slice(1, 3), 16)));
    expect((byLabel(v, `g ${name}`)!.data as Pt[]).length).toBe(6);
  });

  test("downsampled NaN-only buckets in a row: markers and a span, no band", () => {
    const nanBucket = (step: number): Bucket => ({ ...pointBucket(step, Number.NaN, step), lastStep: step + 4, count: 5, nan: 5 });
    const fin: Bucket = { ...pointBucket(0, 1, 0), lastStep: 4, count: 5, min: 0.5, max: 2 };
    const v = buildChartView(input([line("g")], [["g", [fin, nanBucket(5), nanBucket(10), nanBucket(15)]]]));
    expect(ys(byLabel(v, "g min"))).toEqual([0.5, null, null, null]);
    expect(ys(byLabel(v, "g max"))).toEqual([2, null, null, null]);
    expect((byLabel(v, "g NaN run")!.data as Pt[]).map((p) => [p.b.step, p.b.lastStep])).toEqual([
      [5, 9],
      [15, 19],
    ]);
  });
});

describe("a log axis over the values logged", () => {
  test("ticks from 1.58e-11 to 10: the powers of ten are labelled plainly, the unlabelled end ticks ask no extra digits", () => {
    const scale = yScale(true, null, { min: 1.58e-11, max: 10 });
    const values = [1.58e-11, 2e-11, 3e-11, 5e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 2, 5, 10];
    const ticks = values.map((value) => ({ value }));
    const labels = values.map((v, i) => scale.ticks.callback(v, i, ticks)).filter(Boolean);
    expect(labels).toContain("1e-10");
    expect(labels).toContain("1e1");
    expect(labels.every((l) => !/\.0+e/.test(l))).toBe(true);
  });
});
