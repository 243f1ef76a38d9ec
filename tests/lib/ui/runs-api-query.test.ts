import { describe, expect, test } from "vitest";
import {
  type ColumnSort,
  type ListColumn,
  parseColumns,
  parseListFilters,
  runsApiQuery,
  withColumns,
  withListFilters,
} from "../../../lib/ui/runs-query";

// The runs list page's state as the GET /api/v1/runs query it sends: keys travel as JSON arrays
// (a key with a comma, a quote or "__proto__" stays one key), sorts by a chosen column name it.

const lr: ListColumn = { kind: "config", key: "lr", agg: "last" };
const acc: ListColumn = { kind: "metric", key: "val/acc", agg: "max" };
const odd: ListColumn = { kind: "config", key: 'a,"b"', agg: "last" };
const base = { project: "", status: "" as const, sort: "newest" as const };
const none = { q: "", tag: "", archived: "false" as const };

describe("runsApiQuery", () => {
  test.each<[string, Parameters<typeof runsApiQuery>, Record<string, string>]>([
    ["defaults", [base, none, [], null], { limit: "1000", sort: "-created" }],
    [
      "project, search (trimmed), tag, archived",
      [{ ...base, project: "p q" }, { q: " lr=0.1 ", tag: "t", archived: "all" }, [], null],
      {
        limit: "1000",
        project: "p q",
        q: "lr=0.1",
        tag: "t",
        archived: "all",
        sort: "-created",
      },
    ],
    ["name and oldest", [{ ...base, sort: "name" }, none, [], null], { limit: "1000", sort: "name" }],
    [
      "columns as JSON arrays",
      [base, none, [lr, acc, odd, { ...acc, agg: "min" }], null],
      {
        limit: "1000",
        configColumns: JSON.stringify(["lr", 'a,"b"']),
        metricColumns: JSON.stringify(["val/acc"]),
        sort: "-created",
      },
    ],
    [
      "sort by a metric column, descending",
      [base, none, [acc], { column: acc, desc: true } as ColumnSort],
      {
        limit: "1000",
        metricColumns: '["val/acc"]',
        sort: "-metric",
        sortKey: "val/acc",
        sortAgg: "max",
      },
    ],
    [
      "sort by a config column",
      [base, none, [lr], { column: lr, desc: false } as ColumnSort],
      {
        limit: "1000",
        configColumns: '["lr"]',
        sort: "config",
        sortKey: "lr",
      },
    ],
  ])("%s", (_what, args, want) => {
    expect(Object.fromEntries(new URLSearchParams(runsApiQuery(...args)))).toEqual(want);
  });

  test("list filters round-trip through the URL; unknown archived values fall back", () => {
    const u = withListFilters(new URL("http://h/?x=1"), { q: "a b", tag: "t", archived: "true" });
    expect(parseListFilters(Object.fromEntries(u.searchParams))).toEqual({ q: "a b", tag: "t", archived: "true" });
    expect(withListFilters(u, none).search).toBe("?x=1");
    expect(parseListFilters({ archived: "yes" }).archived).toBe("false");
  });

  test("the owner filter round-trips through the URL and reaches the API query", () => {
    const f = { q: "", tag: "", archived: "false" as const, owner: "mia & co?" };
    const u = withListFilters(new URL("http://h/"), f);
    expect(u.searchParams.get("owner")).toBe("mia & co?");
    expect(parseListFilters(Object.fromEntries(u.searchParams))).toEqual(f);
    expect(new URLSearchParams(runsApiQuery({ project: "", status: "", sort: "newest" }, f, [], null)).get("owner")).toBe("mia & co?");
    expect(withListFilters(u, { ...f, owner: "" }).search).toBe("");
  });

  test("chosen columns and their sort round-trip through the URL; malformed ones are left out", () => {
    const u = withColumns(new URL("http://h/?x=1"), [lr, acc, odd], { column: acc, desc: true });
    expect(parseColumns(Object.fromEntries(u.searchParams))).toEqual({ columns: [lr, acc, odd], by: { column: acc, desc: true } });
    expect(withColumns(u, [], null).search).toBe("?x=1");
    expect(parseColumns({ cols: "not json", by: "0" })).toEqual({ columns: [], by: null });
    expect(
      parseColumns({
        cols: JSON.stringify([
          ["metric", "a", "best"],
          ["config", ""],
          ["config", "lr"],
        ]),
        by: "5",
      }),
    ).toEqual({ columns: [lr], by: null });
  });
});
