import { describe, expect, test } from "vitest";
import { splitCsv } from "@/lib/import/csv";
import { ImportData } from "@/lib/import/model";
import { readCsv } from "@/lib/import/csv";

// The CSV splitter the importer uses instead of csv-parse, which built and deep-copied an error
// object for every row whose length differs from the first row's: 64 MiB of such rows took a
// minute, with the server frozen for everyone.

describe("splitCsv", () => {
  test.each([
    [
      "plain rows",
      "a,b\n1,2\n",
      [
        ["a", "b"],
        ["1", "2"],
      ],
    ],
    [
      "CRLF line ends",
      "a,b\r\n1,2\r\n",
      [
        ["a", "b"],
        ["1", "2"],
      ],
    ],
    [
      "a BOM",
      "\ufeffa,b\n1,2",
      [
        ["a", "b"],
        ["1", "2"],
      ],
    ],
    ["empty lines", "a\n\n\n1\n\n", [["a"], ["1"]]],
    ["rows of any length", "a,b,c\n1\n1,2,3,4\n", [["a", "b", "c"], ["1"], ["1", "2", "3", "4"]]],
    [
      "quoted cells with separators, newlines and doubled quotes",
      'a,b\n"x,y","say ""hi""\nthere"\n',
      [
        ["a", "b"],
        ["x,y", 'say "hi"\nthere'],
      ],
    ],
    ["a quote inside an unquoted cell", 'a\nsay "hi"\n', [["a"], ['say "hi"']]],
    [
      "empty cells",
      "a,,b\n,,\n",
      [
        ["a", "", "b"],
        ["", "", ""],
      ],
    ],
    ["no final newline", "a\n1", [["a"], ["1"]]],
    [
      "hostile names are cells",
      "__proto__,constructor\n1,2\n",
      [
        ["__proto__", "constructor"],
        ["1", "2"],
      ],
    ],
  ])("%s", (_what, text, rows) => {
    expect(splitCsv(text, 100, 1000)).toEqual(rows);
  });

  test.each([
    ["a quote never closed", 'a\n"open\n1\n', /Quote Not Closed/],
    ["a row over the limit", `${"a,".repeat(600)}a\n`, /Max Record Size/],
  ])("%s: refused", (_what, text, message) => {
    expect(() => splitCsv(text, 100, 1000)).toThrow(message);
  });

  test("at most maxRows rows are built", () => {
    expect(splitCsv("1\n".repeat(1000), 10, 1000)).toHaveLength(10);
  });

  // each took seconds to minutes with csv-parse (an error object per row): the test's timeout is the guard
  test.each([
    ["600,000 one-cell rows under a two-column header", `step,a\n${"a note, not a row\n".repeat(1)}${"note\n".repeat(600_000)}`],
    ["600,000 three-cell rows under a two-column header", `step,a\n${"1,2,3\n".repeat(600_000)}`],
  ])("%s read in linear time", (_what, text) => {
    const d = new ImportData();
    readCsv(text, d);
    expect(d.skipped).toEqual([]);
  });
});
