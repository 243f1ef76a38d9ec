// A coarse-to-fine random search with the TypeScript SDK: logistic regression on two overlapping
// Gaussian blobs, trained with plain SGD; the learning rate and the L2 weight decay are searched
// log-uniformly. Stage 1 tries wide ranges for 2 epochs per trial (stopping a trial early when
// run.shouldStop() says so); stage 2 is sweep.refine({ top: 3 }), trained 3 epochs per trial.
// Start several copies at once with the same sweep name and they share each stage: the server hands
// each its own trials (without a name, each copy makes a sweep of its own, named at random).
//
//   node --import tsx sdk/ts/examples/sweep.ts lr-search  # against BABYSIT_URL or :3000
import { randomBytes } from "node:crypto";

import { logUniform, sweep, type Trial } from "../src/index.js";

const N = 600;
const DIM = 10;

function data(seed: number): { x: number[][]; y: number[] } {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    const label = i % 2;
    x.push(Array.from({ length: DIM }, (_, d) => gauss() + (d < 3 ? (label ? 2.6 : 1.4) : 0))); // off the origin: the bias must be learnt
    y.push(label);
  }
  return { x, y };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Trains one trial; returns its last validation accuracy. */
async function train(trial: Trial, epochs: number, d: { x: number[][]; y: number[] }): Promise<number> {
  const lr = trial.config.lr as number;
  const wd = trial.config.weight_decay as number;
  const run = await trial.init({ config: { epochs } });
  const w = new Array<number>(DIM).fill(0);
  let b = 0;
  const split = N * 0.8;
  let step = 0;
  let acc = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < split; i++, step++) {
      const xi = d.x[i]!;
      const p = sigmoid(xi.reduce((s, v, k) => s + v * w[k]!, b));
      const g = p - d.y[i]!;
      for (let k = 0; k < DIM; k++) w[k] = w[k]! - lr * (g * xi[k]! + wd * w[k]!);
      b -= lr * g;
      const loss = -(d.y[i] ? Math.log(p) : Math.log(1 - p));
      if (step % 20 === 0) run.log({ "train/loss": loss }, { step });
    }
    let correct = 0;
    let valLoss = 0;
    for (let i = split; i < N; i++) {
      const p = sigmoid(d.x[i]!.reduce((s, v, k) => s + v * w[k]!, b));
      correct += Number(p > 0.5 === (d.y[i] === 1));
      valLoss -= d.y[i] ? Math.log(p) : Math.log(1 - p);
    }
    acc = correct / (N - split);
    run.log({ "val/acc": acc, "val/loss": valLoss / (N - split) }, { step, epoch: epoch + 1 });
    if (await run.shouldStop()) {
      console.log(`  trial ${trial.index} stopped early after epoch ${epoch + 1}: ${run.stopReason}`);
      break;
    }
  }
  await run.finish();
  return acc;
}

const d = data(7);
const name = process.argv[2] ?? `coarse-${randomBytes(3).toString("hex")}`;
const coarse = await sweep({
  project: "ts-sweep",
  name,
  objective: "val/acc",
  goal: "max",
  budget: 12,
  space: { lr: logUniform(1e-5, 10), weight_decay: logUniform(1e-6, 1) },
});
for await (const trial of coarse.trials()) {
  const acc = await train(trial, 2, d);
  console.log(`  coarse trial ${trial.index}: lr=${(trial.config.lr as number).toExponential(2)} val/acc=${acc.toFixed(3)}`);
}
const fine = await coarse.refine({ top: 3, budget: 8 });
if (fine) {
  console.log(`stage 2: ${JSON.stringify(fine.space)} -> ${fine.url}`);
  for await (const trial of fine.trials()) {
    const acc = await train(trial, 3, d);
    console.log(`  fine trial ${trial.index}: lr=${(trial.config.lr as number).toExponential(2)} val/acc=${acc.toFixed(3)}`);
  }
}
