import { describe, expect, test } from "vitest";
import {
  type ListColumn,
  columnSortValue,
  columnsFromStore,
  columnsToStore,
  configFilterText,
  parseColumnSortValue,
  parseConfigFilters,
  withConfigFilters,
  withConfigQuery,
} from "@/lib/ui/runs-query";

// The runs list page's config filters (the API's config.<key>=<value> in the page URL), its
// per-project stored columns and its sort menu's column entries.

describe("config filters in the page URL", () => {
  test("parsed as the API's parameters, keys taken literally (dots, quotes, __proto__ are data)", () => {
    const got = parseConfigFilters({
      project: "p",
      "config.lr": "0.001..0.1",
      "config.model.depth": "3",
      "config.__proto__": "x",
      "config.": "nothing",
      "config.empty": "",
      "config.many": ["a", "b"],
    });
    expect(got).toEqual([
      { key: "lr", value: "0.001..0.1" },
      { key: "model.depth", value: "3" },
      { key: "__proto__", value: "x" },
    ]);
  });

  test("at most 20 from a URL", () => {
    const q = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`config.k${i}`, "1"]));
    expect(parseConfigFilters(q)).toHaveLength(20);
  });

  test("written back: exactly these, others removed, the rest of the URL kept", () => {
    const u = withConfigFilters(new URL("http://h/?project=p&config.old=1&q=x"), [
      { key: "lr", value: "0.01.." },
      { key: "a b&c", value: '"0.1"' },
    ]);
    expect([...u.searchParams]).toEqual([
      ["project", "p"],
      ["q", "x"],
      ["config.lr", "0.01.."],
      ["config.a b&c", '"0.1"'],
    ]);
    expect(parseConfigFilters(Object.fromEntries(u.searchParams))).toEqual([
      { key: "lr", value: "0.01.." },
      { key: "a b&c", value: '"0.1"' },
    ]);
  });

  test("added to the API query", () => {
    const q = new URLSearchParams(withConfigQuery("limit=10", [{ key: "lr", value: "..0.1" }]));
    expect(q.get("config.lr")).toBe("..0.1");
    expect(withConfigQuery("limit=10", [])).toBe("limit=10");
  });

  test.each([
    [{ key: "lr", value: "0.01" }, "lr = 0.01"],
    [{ key: "lr", value: "0.001..0.1" }, "lr in 0.001..0.1"],
    [{ key: "lr", value: "0.01.." }, "lr ≥ 0.01"],
    [{ key: "lr", value: "..0.1" }, "lr ≤ 0.1"],
    [{ key: "opt", value: "adam" }, "opt = adam"],
    [{ key: "v", value: '"a..b"' }, 'v = "a..b"'],
  ])("chip %j reads %s", (f, want) => {
    expect(configFilterText(f)).toBe(want);
  });
});

describe("stored columns and sort entries", () => {
  const cols: ListColumn[] = [
    { kind: "config", key: "lr", agg: "last" },
    { kind: "metric", key: "val/acc", agg: "max" },
    { kind: "config", key: '["odd",1]', agg: "last" },
  ];
  test("columns survive the store, and junk reads as none", () => {
    expect(columnsFromStore(columnsToStore(cols))).toEqual(cols);
    for (const junk of [null, "", "{", "[1,2]", '{"a":1}']) expect(columnsFromStore(junk)).toEqual([]);
  });
  test("a sort entry names its column and direction, whatever the key", () => {
    for (const c of cols) for (const desc of [false, true]) expect(parseColumnSortValue(columnSortValue(c, desc))).toEqual({ column: c, desc });
    for (const v of ["newest", "name", "[]", '["config","lr","last","up"]', '["x","lr","last","asc"]', '["metric","k","avg","asc"]'])
      expect(parseColumnSortValue(v)).toBeNull();
  });
});
