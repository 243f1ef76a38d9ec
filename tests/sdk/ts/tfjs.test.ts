// babysitCallback with the real @tensorflow/tfjs (sdk/ts's devDependency, pure JS on the cpu
// backend): a tiny model trained for a few epochs against a real server logs every batch's and
// every epoch's metrics under babysit's names, at the right steps, with the values tfjs reported,
// and finishes the run when training ends.
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { api, startServer, type TestServer } from "../../helpers/server";
import { babysitCallback, fitKey, init, type InitOptions } from "../../../sdk/ts/src/index";
import { captureStderr, tmpDir } from "./util";

// Node's own require: tfjs is CommonJS in sdk/ts/node_modules, outside the app's dependencies. Untyped
// on purpose: `npm start` on a fresh clone type-checks this tree before sdk/ts's packages are
// installed (npm test installs them), so no type may come from there.
const tf = createRequire(import.meta.url)("../../../sdk/ts/node_modules/@tensorflow/tfjs") as any;

let server: TestServer;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeAll(async () => {
  server = await startServer();
  spoolDir = tmpDir();
  stderr = captureStderr(); // tfjs's note that tfjs-node would be faster
  await tf.setBackend("cpu");
});

afterAll(async () => {
  stderr?.restore();
  await server?.stop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

const start = (opts: Partial<InitOptions> = {}) => init({ project: "tfjs", url: server.url, spoolDir, flushIntervalMs: 50, ...opts });

async function series(runId: string, key: string): Promise<Array<[number, number]>> {
  const r = await api(server.url, "GET", `/api/v1/runs/${runId}/series?key=${encodeURIComponent(key)}&points=10000`);
  expect(r.status).toBe(200);
  expect(r.body.exact).toBe(true);
  return r.body.buckets.map((b: { step: number; last: number }) => [b.step, b.last]);
}

/** 64 points of a separable 2-class problem: 48 to train on (3 batches of 16), 16 to validate. */
function data() {
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 64; i++) {
    const a = Math.sin(i * 1.7);
    const b = Math.cos(i * 0.9);
    x.push([a, b, a * b, a - b]);
    y.push(a + b > 0 ? 1 : 0);
  }
  return { xs: tf.tensor2d(x), ys: tf.tensor2d(y, [64, 1]) };
}

function model() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 8, activation: "relu", inputShape: [4], kernelInitializer: "glorotUniform" }));
  m.add(tf.layers.dense({ units: 1, activation: "sigmoid" }));
  m.compile({ optimizer: tf.train.adam(0.05), loss: "binaryCrossentropy", metrics: ["accuracy"] });
  return m;
}

describe("babysitCallback for TensorFlow.js model.fit", () => {
  test.each([
    ["loss", "train/loss"],
    ["acc", "train/acc"],
    ["accuracy", "train/acc"],
    ["val_loss", "val/loss"],
    ["val_acc", "val/acc"],
    ["val_accuracy", "val/acc"],
    ["mse", "train/mse"],
    ["val_mse", "val/mse"],
  ])("the log key %s is %s", (name, key) => {
    expect(fitKey(name)).toBe(key);
  });

  test("a tiny model's fit logs every batch and epoch with tfjs's values, and finishes the run", async () => {
    const run = await start({ name: "tfjs-fit" });
    const batches: Record<string, number>[] = [];
    const epochs: Record<string, number>[] = [];
    const { xs, ys } = data();
    const cb = babysitCallback(run);
    const h = await model().fit(xs, ys, {
      epochs: 3,
      batchSize: 16,
      validationSplit: 0.25,
      shuffle: false,
      callbacks: [
        cb,
        { onBatchEnd: async (_b: number, logs?: Record<string, number>) => void batches.push({ ...logs }) },
        { onEpochEnd: async (_e: number, logs?: Record<string, number>) => void epochs.push({ ...logs }) },
      ],
    });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(batches).toHaveLength(9);
    expect(Object.keys(epochs[0]).sort()).toEqual(["acc", "loss", "val_acc", "val_loss"]);
    expect(cb.step).toBe(9);

    // fit resolved after the run was finished, everything delivered
    const detail = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    expect(detail.body.run.status).toBe("finished");

    // one step per batch, the batch's own values
    expect(await series(run.id, "train/loss")).toEqual(batches.map((b, i) => [i, b.loss]));
    expect(await series(run.id, "train/acc")).toEqual(batches.map((b, i) => [i, b.acc]));
    // once per epoch, at the epoch's last batch: validation and the epoch's training averages
    const ends = [2, 5, 8];
    expect(await series(run.id, "val/loss")).toEqual(epochs.map((e, i) => [ends[i], e.val_loss]));
    expect(await series(run.id, "val/acc")).toEqual(epochs.map((e, i) => [ends[i], e.val_acc]));
    expect(await series(run.id, "train/loss_epoch")).toEqual(epochs.map((e, i) => [ends[i], e.loss]));
    expect(await series(run.id, "train/acc_epoch")).toEqual(epochs.map((e, i) => [ends[i], e.acc]));
    // the epoch: whole at each epoch's end, a fraction for batches once an epoch's length is known
    const epoch = new Map(await series(run.id, "epoch"));
    expect([epoch.get(2), epoch.get(5), epoch.get(8)]).toEqual([1, 2, 3]);
    expect(epoch.get(3)).toBeCloseTo(1 + 1 / 3, 10);
    expect(epoch.get(7)).toBeCloseTo(2 + 2 / 3, 10);
    // nothing but metrics: tfjs's batch index and size are not series
    const keys = (detail.body.keys as { key: string }[]).map((k) => k.key).sort();
    expect(keys).toEqual(["epoch", "train/acc", "train/acc_epoch", "train/loss", "train/loss_epoch", "val/acc", "val/loss"]);
    xs.dispose();
    ys.dispose();
  });

  test("batches: false logs once per epoch under the plain names; finish: false leaves the run running", async () => {
    const run = await start({ name: "tfjs-epochs" });
    const epochs: Record<string, number>[] = [];
    const { xs, ys } = data();
    await model().fit(xs, ys, {
      epochs: 2,
      batchSize: 16,
      validationSplit: 0.25,
      callbacks: [
        babysitCallback(run, { batches: false, finish: false }),
        { onEpochEnd: async (_e: number, logs?: Record<string, number>) => void epochs.push({ ...logs }) },
      ],
    });
    const r = await run.flush();
    expect(r.delivered).toBe(true);
    expect((await api(server.url, "GET", `/api/v1/runs/${run.id}`)).body.run.status).toBe("running");
    expect(await series(run.id, "train/loss")).toEqual(epochs.map((e, i) => [[2, 5][i], e.loss]));
    expect(await series(run.id, "val/acc")).toEqual(epochs.map((e, i) => [[2, 5][i], e.val_acc]));
    await run.finish();
    xs.dispose();
    ys.dispose();
  });

  // fine-tuning in a second fit on the same run: without startStep, its batches go on after the
  // first fit's (from step 0 again they would land on the first fit's steps and one of them be lost)
  test.each([
    ["a new callback", false],
    ["the same callback", true],
  ])("two fits on one run (%s): the second goes on where the first stopped, nothing lost", async (_what, same) => {
    const run = await start({ name: `tfjs-twice-${same}` });
    const losses: number[] = [];
    const record = { onBatchEnd: async (_b: number, logs?: Record<string, number>) => void losses.push(logs!.loss) };
    const { xs, ys } = data();
    const m = model();
    const first = babysitCallback(run, { finish: false });
    await m.fit(xs, ys, { epochs: 2, batchSize: 16, validationSplit: 0.25, callbacks: [first, record] });
    const second = same ? first : babysitCallback(run);
    await m.fit(xs, ys, { epochs: 2, batchSize: 16, validationSplit: 0.25, callbacks: [second, record] });
    if (same) await run.finish();
    expect(losses).toHaveLength(12);
    expect(await series(run.id, "train/loss")).toEqual(losses.map((l, i) => [i, l]));
    expect((await series(run.id, "val/loss")).map(([s]) => s)).toEqual([2, 5, 8, 11]);
    expect((await api(server.url, "GET", `/api/v1/runs/${run.id}`)).body.run.status).toBe("finished");
    xs.dispose();
    ys.dispose();
  });
});
