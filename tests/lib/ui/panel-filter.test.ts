import { describe, expect, test } from "vitest";
import { groupMetrics } from "../../../lib/ui/group-metrics";
import { naturalCompare, naturalSort } from "../../../lib/ui/natural-sort";
import { filterPanels, shownSummary } from "../../../lib/ui/panel-filter";

// The run page's filter box covers every kind of panel, and every list of keys is in one natural order.

describe("natural order of keys", () => {
  test.each([
    [
      ["act/0", "act/10", "act/2", "act/1"],
      ["act/0", "act/1", "act/2", "act/10"],
    ],
    [
      ["layer10/w", "layer9/w", "layer100/w"],
      ["layer9/w", "layer10/w", "layer100/w"],
    ],
    [
      ["b", "A", "a", "B"],
      ["A", "a", "B", "b"],
    ],
    [
      ["img_2", "img_02", "img_1"],
      ["img_1", "img_02", "img_2"],
    ],
    [
      ["constructor", "__proto__", "toString"],
      ["__proto__", "constructor", "toString"],
    ],
  ])("%j -> %j", (keys, sorted) => {
    expect(naturalSort(keys)).toEqual(sorted);
  });

  test("a total order: antisymmetric, only equal strings compare equal", () => {
    const keys = ["a1", "A1", "a01", "a1 ", "ä1", "a10", "a2"];
    for (const x of keys) for (const y of keys) expect(Math.sign(naturalCompare(x, y))).toBe(-Math.sign(naturalCompare(y, x)) || 0);
    for (const x of keys) for (const y of keys) if (x !== y) expect(naturalCompare(x, y)).not.toBe(0);
  });

  test("charts and their legends use the same order as histogram panels", () => {
    const keys = ["act/l10/mean", "act/l2/mean", "act/l1/mean"];
    const [g] = groupMetrics(keys);
    expect(g.lines.map((l) => l.label)).toEqual(["l1", "l2", "l10"]);
    expect(filterPanels("", [], ["act/l10", "act/l2", "act/l1"], []).histograms).toEqual(["act/l1", "act/l2", "act/l10"]);
  });
});

describe("filterPanels", () => {
  const groups = groupMetrics(["train/loss", "val/loss", "lr", "grad_norm/fc1"]);
  const hists = ["act/10", "act/2", "weights/fc1"];
  const images = ["samples/fc1", "digits"];

  test.each([
    ["", 3, ["act/2", "act/10", "weights/fc1"], ["digits", "samples/fc1"]],
    ["fc1", 1, ["weights/fc1"], ["samples/fc1"]],
    ["FC1", 1, ["weights/fc1"], ["samples/fc1"]],
    ["act/", 0, ["act/2", "act/10"], []],
    ["loss", 1, [], []],
    ["digits", 0, [], ["digits"]],
    ["[a-z]+", 0, [], []],
    ["nothing", 0, [], []],
  ])("%j: %i charts, histograms %j, images %j", (q, charts, h, im) => {
    const shown = filterPanels(q, groups, hists, images);
    expect(shown.charts.length).toBe(charts);
    expect(shown.histograms).toEqual(h);
    expect(shown.images).toEqual(im);
  });

  test("the summary says how many of each kind are shown, only for kinds the run has", () => {
    const totals = { charts: groups.length, histograms: 3, images: 2 };
    expect(shownSummary(filterPanels("fc1", groups, hists, images), totals)).toBe("1 chart of 3 · 1 histogram of 3 · 1 image of 2");
    expect(shownSummary(filterPanels("act/", groups, hists, images), totals)).toBe("0 charts of 3 · 2 histograms of 3 · 0 images of 2");
    expect(shownSummary(filterPanels("loss", groups, [], []), { charts: 3, histograms: 0, images: 0 })).toBe("1 chart of 3");
  });
});
