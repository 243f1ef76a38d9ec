import { describe, expect, test } from "vitest";
import { LiveBus } from "@/app/_components/live";
import { seriesEntries, seriesRecord } from "@/lib/contract/socket";
import { alertChartIndex, alertCharts, alertLabel, severityColor } from "@/lib/ui/alert-charts";
import { defaultCompareKey, groupMetrics, splitOf } from "@/lib/ui/group-metrics";
import { firstPointKeys } from "@/lib/ui/x-axis";
import { ODD_KEYS, PROTO_NAMES } from "../../helpers/odd-keys";

// Metric keys are data, never object members: every name Object.prototype has (and `then`, which
// makes an object look like a promise), and astral and CJK keys, are keys like any other on every
// path from the server's live payload to the charts' grouping.

test("the table holds every Object.prototype member", () => {
  for (const n of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf", "toLocaleString"])
    expect(PROTO_NAMES).toContain(n);
});

const ALL = [...PROTO_NAMES, ...ODD_KEYS];
// the same names in the places the grouping looks at: a split, a layer, a statistic
const VARIANTS = (name: string) => [
  name,
  `train/${name}`,
  `val/${name}`,
  `${name}/val`,
  `update_ratio/${name}`,
  `act/${name}/mean`,
  `act/layer1/${name}`,
  `grad_norm/${name}`,
  `weights/${name}/${name}`,
];

describe.each(ALL)("key %j", (name) => {
  test("groupMetrics puts it (in every role) on exactly one chart, with string titles and labels", () => {
    const keys = [...VARIANTS(name), "train/loss"];
    const groups = groupMetrics(keys);
    const drawn = groups.flatMap((g) => g.lines.map((l) => l.key));
    expect(drawn.sort()).toEqual([...new Set(keys)].sort());
    for (const g of groups) {
      expect(typeof g.title).toBe("string");
      expect(typeof g.id).toBe("string");
      expect(g.id.length).toBeGreaterThan(0);
      for (const l of g.lines) expect(typeof l.label).toBe("string");
    }
    expect(new Set(groups.map((g) => g.id)).size).toBe(groups.length);
  });

  test("splitOf answers strings", () => {
    for (const k of VARIANTS(name)) {
      const { split, base } = splitOf(k);
      expect(typeof split).toBe("string");
      expect(typeof base).toBe("string");
    }
  });

  test("defaultCompareKey picks one of the keys", () => {
    expect([name, `val/${name}`]).toContain(defaultCompareKey([name, `val/${name}`]));
  });

  test("alert markers find a chart that draws it as a named key; an alert code of that name gets a string label", () => {
    const groups = groupMetrics([name, "train/loss"]);
    const index = alertChartIndex(groups);
    const chart = groups.find((g) => g.lines.some((l) => l.key === name))!;
    expect(alertCharts({ code: "some_future_code", evidence: { key: name } }, index)).toEqual([chart.id]);
    expect(alertCharts({ code: name, evidence: {} }, index)).toEqual([]);
    expect(typeof alertLabel(name)).toBe("string");
    expect(severityColor(name)).toMatch(/^#/);
  });

  test("a live payload carries it through JSON (what socket.io sends) to the charts that draw it", () => {
    const series = seriesRecord([
      [name, [[1, 0.5, 100]]],
      ["train/loss", [[1, "NaN", 100]]],
    ]);
    const received = JSON.parse(JSON.stringify({ runId: "r", series })).series;
    expect(seriesEntries(received)).toEqual([
      [name, [[1, 0.5, 100]]],
      ["train/loss", [[1, "NaN", 100]]],
    ]);
    const bus = new LiveBus();
    const got: unknown[] = [];
    bus.subscribe("r", name, (pts) => got.push(pts));
    bus.subscribe("r", "other", (pts) => got.push(["wrong", pts]));
    bus.publish("r", received);
    expect(got).toEqual([[[1, 0.5, 100]]]);
  });

  test("firstPointKeys names it when it holds the run's first point", () => {
    expect(
      firstPointKeys([
        { key: "late", firstStep: 5 },
        { key: name, firstStep: 0 },
      ]),
    ).toEqual({ step: 0, keys: [name] });
  });
});
