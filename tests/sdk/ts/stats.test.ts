// run.logInputStats / run.logOutputStats: the statistics events the server's diagnostics read
// (input_stats per split for train_val_mismatch, output_stats for loss_output_mismatch), same wire
// shape as the Python SDK's log_input_stats / log_output_stats.
import * as fs from "node:fs";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

import { init, inputStats, outputStats, type Run } from "../../../sdk/ts/src/index";
import { type FakeServer, startFakeServer } from "./fake-server";
import { captureStderr, tmpDir } from "./util";

let server: FakeServer;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeEach(async () => {
  server = await startFakeServer();
  spoolDir = tmpDir();
  stderr = captureStderr();
});

afterEach(async () => {
  stderr?.restore();
  await server.stop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

async function events(use: (run: Run) => void) {
  const run = await init({ project: "sdk-test", url: server.url, spoolDir, flushIntervalMs: 50 });
  use(run);
  await run.finish("finished", { timeoutMs: 2000 });
  return [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events).map((e) => ({ type: e.type, step: e.step, data: e.data }));
}

describe("inputStats / outputStats", () => {
  test.each([
    [
      "(N, F) rows",
      [
        [0, 10],
        [2, 10],
      ],
      { mean: [1, 10], std: [1, 0], n: 2 },
    ],
    ["(N,) one feature", [1, 3], { mean: [2], std: [1], n: 2 }],
    [
      "(N, C, H) per channel",
      [
        [
          [0, 2],
          [5, 5],
        ],
        [
          [0, 2],
          [5, 5],
        ],
      ],
      { mean: [1, 5], std: [1, 0], n: 2 },
    ],
    ["typed arrays", [new Float32Array([1, 2]), new Float32Array([3, 4])], { mean: [2, 3], std: [1, 1], n: 2 }],
  ])("inputStats of %s", (_, x, want) => {
    expect(inputStats(x as never)).toEqual(want);
  });

  test.each([
    ["an empty batch", []],
    ["ragged rows", [[1, 2], [3]]],
    ["strings", [["a"]]],
  ])("inputStats refuses %s", (_, x) => {
    expect(() => inputStats(x as never)).toThrow(TypeError);
  });

  test("outputStats: ranges, means and stds; a NaN makes its side NaN", () => {
    expect(outputStats([[0], [2], [4]], [[-3], [1], [5]])).toMatchObject({
      pred_min: 0,
      pred_max: 4,
      pred_mean: 2,
      target_min: -3,
      target_max: 5,
      n: 3,
    });
    expect(outputStats([NaN, 1], [0, 1])).toMatchObject({ pred_min: NaN, target_max: 1 });
  });
});

describe("run.logInputStats / run.logOutputStats", () => {
  test("send input_stats (with its split) and output_stats as the Python SDK does", async () => {
    const got = await events((run) => {
      run.log({ "train/loss": 1 }, { step: 4 });
      run.logInputStats([
        [0, 16],
        [16, 16],
      ]);
      run.logInputStats([[1], [3]], { split: "val", step: 7 });
      run.logOutputStats([0, 2], [-1, 3], { split: "val" });
      run.logOutputStats([NaN], [1]);
    });
    expect(got).toEqual([
      { type: "input_stats", step: 4, data: { mean: [8, 16], std: [8, 0], n: 2 } },
      { type: "input_stats", step: 7, data: { mean: [2], std: [1], n: 2, split: "val" } },
      {
        type: "output_stats",
        step: 7, // the last step used
        data: {
          pred_min: 0,
          pred_max: 2,
          pred_mean: 1,
          pred_std: 1,
          target_min: -1,
          target_max: 3,
          target_mean: 1,
          target_std: 2,
          n: 2,
          split: "val",
        },
      },
      {
        type: "output_stats",
        step: 7, // the last step used
        data: {
          pred_min: "NaN",
          pred_max: "NaN",
          pred_mean: "NaN",
          pred_std: "NaN",
          target_min: 1,
          target_max: 1,
          target_mean: 1,
          target_std: 0,
          n: 1,
        },
      },
    ]);
  });

  test.each([
    ["an empty split", { split: "" }, "split is empty"],
    ["a split too long", { split: "v".repeat(65) }, "longer than 64 code points"],
    ["a control character", { split: "va\nl" }, "control characters"],
  ])("%s: warned, nothing sent, never thrown", async (_, opts, why) => {
    const got = await events((run) => {
      expect(run.logInputStats([[1]], opts)).toBeNull();
      expect(run.logOutputStats([1], [1], opts)).toBeNull();
    });
    expect(got).toEqual([]);
    expect(stderr.text()).toContain(why);
  });

  test("unreadable input is warned about, not thrown into the loop", async () => {
    const got = await events((run) => {
      expect(run.logInputStats([] as never)).toBeNull();
      expect(run.logOutputStats({} as never, [1])).toBeNull();
    });
    expect(got).toEqual([]);
    expect(stderr.text()).toMatch(/could not read/);
  });
});
