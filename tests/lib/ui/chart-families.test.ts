import { describe, expect, test } from "vitest";
import { chartFamilies } from "../../../lib/ui/chart-families";

// Collapsible families of charts on a page with many charts.

const charts = (...titles: string[]) => titles.map((title) => ({ title }));
const shape = (fs: ReturnType<typeof chartFamilies<{ title: string }>>) => fs.map((f) => [f.name, f.charts.map((c) => c.title)]);
const rules = { sectionMin: 5, familyMin: 3 };

describe("chartFamilies", () => {
  test("a small section is one group, whatever its keys", () => {
    expect(shape(chartFamilies(charts("a/1", "a/2", "a/3", "b"), rules))).toEqual([[null, ["a/1", "a/2", "a/3", "b"]]]);
  });

  test("prefixes shared by enough charts become families, in order of first chart; the rest come first", () => {
    const got = chartFamilies(charts("loss", "probe/1", "attn/1", "probe/2", "attn/2", "x/1", "probe/3", "attn/3", "acc"), rules);
    expect(shape(got)).toEqual([
      [null, ["loss", "x/1", "acc"]],
      ["probe", ["probe/1", "probe/2", "probe/3"]],
      ["attn", ["attn/1", "attn/2", "attn/3"]],
    ]);
  });

  test.each([
    ["keys named like object members", ["constructor/1", "constructor/2", "constructor/3", "__proto__/1", "__proto__/2", "__proto__/3"]],
    ["astral and CJK prefixes", ["🚀/a", "🚀/b", "🚀/c", "損失/a", "損失/b", "損失/c"]],
  ])("%s are families like any other", (_what, titles) => {
    const got = chartFamilies(charts(...titles), rules);
    expect(got.map((f) => f.name)).toEqual([titles[0].split("/")[0], titles[3].split("/")[0]]);
    expect(got.flatMap((f) => f.charts.map((c) => c.title))).toEqual(titles);
  });

  test("a title that starts with a slash has no family", () => {
    expect(shape(chartFamilies(charts("/a", "/b", "/c", "/d", "/e", "/f"), rules))).toEqual([[null, ["/a", "/b", "/c", "/d", "/e", "/f"]]]);
  });
});
