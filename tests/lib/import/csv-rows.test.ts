import { describe, expect, test } from "vitest";
import type { ImportData } from "@/lib/import/model";
import { ImportFileError, parseFile, parseFileAsync } from "@/lib/import/parse-file";

// How the CSV importer splits rows (Papa Parse underneath), seen through the points it reads. The
// library before it, csv-parse, built and deep-copied an error object for every row whose length
// differs from the first row's: 64 MiB of such rows took a minute, with the server frozen.

function parse(text: string, opts = {}) {
  return parseFile("m.csv", Buffer.from(text), opts).data;
}

function series(d: ImportData, key: string): [number, number][] {
  const p = d.points.get(key);
  return p ? p.steps.map((s, i) => [s, p.values[i]]) : [];
}

describe("CSV rows", () => {
  test.each([
    ["plain rows", "step,a,b\n1,2,3\n", { a: [[1, 2]], b: [[1, 3]] }],
    ["CRLF line ends", "step,a,b\r\n1,2,3\r\n", { a: [[1, 2]], b: [[1, 3]] }],
    ["a BOM", "\ufeffstep,a\n1,2", { a: [[1, 2]] }],
    [
      "empty lines",
      "step,a\n\n\n1,2\n\n2,3\n\n",
      {
        a: [
          [1, 2],
          [2, 3],
        ],
      },
    ],
    [
      "rows shorter and longer than the header",
      "step,a,b\n1\n2,5\n3,6,7,8\n",
      {
        a: [
          [2, 5],
          [3, 6],
        ],
        b: [[3, 7]],
      },
    ],
    ["quoted cells with separators, newlines and doubled quotes", 'step,"a,b","say ""hi"""\n"1","2",3\n', { "a,b": [[1, 2]], 'say "hi"': [[1, 3]] }],
    [
      "a quoted note with a newline between rows",
      'step,a\n1,2\n"a note,\nover two lines"\n2,3\n',
      {
        a: [
          [1, 2],
          [2, 3],
        ],
      },
    ],
    ["a quote inside an unquoted cell", 'step,say "hi"\n1,2\n', { 'say "hi"': [[1, 2]] }],
    ["empty cells", "step,a,,b\n1,,,\n2,1,,\n", { a: [[2, 1]], b: [] }],
    ["no final newline", "step,a\n1,2", { a: [[1, 2]] }],
    ["hostile names are columns", "step,__proto__,constructor\n1,2,3\n", { ["__proto__"]: [[1, 2]], constructor: [[1, 3]] }],
    [
      "a Keras CSVLogger resumed with new columns",
      "epoch,loss\n0,1\n1,0.5\nepoch,loss,val_loss\n2,0.25,0.3\n",
      {
        loss: [
          [0, 1],
          [1, 0.5],
          [2, 0.25],
        ],
      },
    ],
  ])("%s", (_what, text, want) => {
    const d = parse(text);
    expect(d.skipped).toEqual([]);
    for (const [key, points] of Object.entries(want)) expect(series(d, key)).toEqual(points);
  });

  test("a quote never closed: the rows before it are read, the rest is noted as not CSV", () => {
    const d = parse('step,a\n1,2\n"open,3\n4,5\n');
    expect(series(d, "a")).toEqual([[1, 2]]);
    expect(d.skipped).toEqual([expect.stringMatching(/^not CSV: Quote Not Closed/)]);
  });

  test("a row over 1 MiB is left out and noted; the others are read", () => {
    const d = parse(`step,a\n1,2\n2,${"9".repeat(1_100_000)}\n3,4\n`);
    expect(series(d, "a")).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(d.skipped).toEqual([expect.stringMatching(/^not CSV: Max Record Size/)]);
  });

  test("a step column that is not there: nothing is read", () => {
    const d = parse("it,loss\n5,1\n", { stepColumn: "nope" });
    expect(d.pointCount).toBe(0);
    expect(d.skipped).toEqual(['no column named "nope"']);
  });

  test("more rows than importPointsMax: too large, for the sync and the async reader", async () => {
    const text = Buffer.from(`v\n${"1\n".repeat(1_000_001)}`);
    expect(() => parseFile("m.csv", text)).toThrow(ImportFileError);
    await expect(parseFileAsync("m.csv", text)).rejects.toThrow(/nothing of this file was imported/);
  });

  test("a large CSV is read in parts: the event loop runs between them", async () => {
    const text = Buffer.from(`step,a\n${Array.from({ length: 300_000 }, (_, i) => `${i},${i % 7}`).join("\n")}\n`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const { data } = await parseFileAsync("m.csv", text);
      expect(data.pointCount).toBe(300_000);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  test("rows and quoted cells across the parts a large file is read in are read whole", async () => {
    // about 3 MiB: quoted notes with separators and newlines land on every part boundary somewhere
    const lines = ["step,a,note,b"];
    for (let i = 0; i < 60_000; i++) lines.push(`${i},${i % 13},"a, ""note""\n${"x".repeat(i % 40)}",${i % 5}`);
    const { data } = await parseFileAsync("m.csv", Buffer.from(`${lines.join("\n")}\n`));
    expect(data.skipped).toEqual([]);
    expect(series(data, "a")).toEqual(Array.from({ length: 60_000 }, (_, i) => [i, i % 13]));
    expect(series(data, "b")).toEqual(Array.from({ length: 60_000 }, (_, i) => [i, i % 5]));
  });

  // each took seconds to minutes with csv-parse (an error object per row): the test's timeout is the guard
  test.each([
    // (no row holds a number: the file says so once, as a text log in which nothing is read does)
    [
      "600,000 one-cell rows under a two-column header",
      `step,a\n${"a note, not a row\n".repeat(1)}${"note\n".repeat(600_000)}`,
      ["no metrics in this CSV file: no column of its rows holds numbers"],
    ],
    ["600,000 three-cell rows under a two-column header", `step,a\n${"1,2,3\n".repeat(600_000)}`, []],
  ])("%s read in linear time", (_what, text, skipped) => {
    const d = parse(text);
    expect(d.skipped).toEqual(skipped);
  });
});
