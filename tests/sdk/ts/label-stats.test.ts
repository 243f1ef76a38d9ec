// logLabelStats(): the class distribution of a split, counted in the SDK and sent as the
// label_stats event the majority_class diagnosis reads. Never throws into the training loop.

import * as fs from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { labelCounts } from "../../../sdk/ts/src/label-stats";
import { init, type Run } from "../../../sdk/ts/src/index";
import { type FakeServer, startFakeServer } from "./fake-server";
import { captureStderr, tmpDir } from "./util";

describe("labelCounts", () => {
  test.each<[string, Parameters<typeof labelCounts>[0], number | undefined, number[]]>([
    ["class indices", [0, 0, 0, 1, 2, 0], undefined, [4, 1, 1]],
    ["a typed array", Int32Array.from([2, 2, 0]), undefined, [1, 0, 2]],
    ["whole floats", Float32Array.from([1, 1, 0]), undefined, [1, 2]],
    [
      "one-hot rows",
      [
        [1, 0, 0],
        [1, 0, 0],
        [0, 0, 1],
      ],
      undefined,
      [2, 0, 1],
    ],
    [
      "probabilities",
      [
        [0.1, 0.9],
        [0.8, 0.2],
        [0.3, 0.7],
      ],
      undefined,
      [1, 2],
    ],
    ["one-entry rows (binary targets)", [[1], [0], [1]], undefined, [1, 2]],
    ["an iterable", new Set([0, 3]), undefined, [1, 0, 0, 1]],
    ["classes absent, numClasses given", [1, 1], 4, [0, 2, 0, 0]],
    ["one class only: still two entries", [0, 0, 0], undefined, [3, 0]],
  ])("%s", (_name, labels, numClasses, counts) => {
    expect(labelCounts(labels, numClasses)).toEqual({ counts, n: counts.reduce((a, b) => a + b, 0) });
  });

  test.each<[string, unknown, string]>([
    ["no labels", [], "at least one label"],
    ["a fraction", [0.5, 1], "label 0 is 0.5: labels must be class indices"],
    ["a negative label", [1, -1], "label 1 is -1"],
    ["strings", ["cat", "dog"], "label 0 is cat"],
    ["NaN", [0, Number.NaN], "label 1 is NaN"],
    ["a label past the class limit", [0, 100_000], "at most 100000 classes"],
  ])("refuses %s", (_name, labels, message) => {
    expect(() => labelCounts(labels as number[])).toThrow(message);
  });
});

describe("run.logLabelStats", () => {
  let server: FakeServer;
  let spoolDir: string;
  let stderr: ReturnType<typeof captureStderr>;
  let run: Run;

  beforeEach(async () => {
    server = await startFakeServer();
    spoolDir = tmpDir();
    stderr = captureStderr();
    run = await init({ project: "labels", url: server.url, spoolDir, flushIntervalMs: 50 });
  });
  afterEach(async () => {
    stderr.restore();
    await server.stop();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  });

  const events = () => [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events).filter((e) => e.type === "label_stats");

  test("sends the counts, the total and the split as one label_stats event per call", async () => {
    const y = [...Array(85).fill(0), ...Array(10).fill(1), ...Array(5).fill(2)];
    expect(run.logLabelStats(y)).toEqual({ counts: [85, 10, 5], n: 100, split: "train" });
    expect(run.logLabelStats(y.slice(0, 10), { split: "val", numClasses: 3, step: 7 })).toEqual({ counts: [10, 0, 0], n: 10, split: "val" });
    const result = await run.finish();
    expect(result.rejections).toEqual([]);
    expect(events().map((e) => [e.step, e.data])).toEqual([
      [undefined, { counts: [85, 10, 5], n: 100, split: "train" }],
      [7, { counts: [10, 0, 0], n: 10, split: "val" }],
    ]);
  });

  test.each<[string, unknown, { split?: unknown }, string]>([
    ["labels that are not class indices", ["cat"], {}, "could not read its labels: label 0 is cat"],
    ["an empty split name", [0, 1], { split: "" }, "label_stats split is empty"],
    ["a split of 65 code points", [0, 1], { split: "x".repeat(65) }, "longer than 64 code points"],
  ])("%s: warned once, counted as rejected, nothing sent, no throw", async (_name, labels, options, warning) => {
    expect(run.logLabelStats(labels as number[], options as { split?: string })).toBeNull();
    expect(run.logLabelStats(labels as number[], options as { split?: string })).toBeNull();
    const result = await run.finish();
    expect(events()).toEqual([]);
    expect(result.rejections.reduce((a, r) => a + r.points, 0)).toBe(2);
    expect(stderr.lines(/logLabelStats/).filter((l) => l.includes(warning))).toHaveLength(1);
  });
});
