// A small, real training run logged to babysit: a 2-layer MLP (2 -> 64 -> 3, ReLU) trained with
// hand-written backprop and SGD with momentum on a synthetic 3-arm spiral, in plain TypeScript.
// It logs what babysit's diagnostics look at: losses, accuracies, the learning rate, update/weight
// ratios, activation and gradient statistics, and histograms once per epoch.
//
//   node --import tsx sdk/ts/examples/train.ts                 # against BABYSIT_URL or :3000
//   node --import tsx sdk/ts/examples/train.ts --lr 40         # watch it diverge
import { pathToFileURL } from "node:url";

import { init, type Run } from "../src/index.js";

export interface DemoOptions {
  /** Server URL (default: BABYSIT_URL, else http://127.0.0.1:3000). */
  url?: string;
  project?: string;
  name?: string;
  /** Optimizer steps (default 1500). */
  steps?: number;
  /** Pause after each step, to make the run look live on the dashboard (default 0). */
  delayMs?: number;
  /** Peak learning rate (default 0.3; try 40 for a run that diverges). */
  lr?: number;
  /** Hidden units (default 64). */
  hidden?: number;
  seed?: number;
  /** Run id, to resume a run. */
  id?: string;
  /** More config keys, sent with the run's own (e.g. `sweep: {id, trial}` to make the run a sweep's trial). */
  config?: Record<string, unknown>;
}

export interface DemoResult {
  runId: string;
  url: string;
  valAcc: number;
  valLoss: number;
}

const CLASSES = 3;
const BATCH = 64;

/**
 * Trains the MLP and logs everything to babysit; resolves when the run is finished.
 *
 * @example
 * import { runDemo } from "./train.js";
 * const { url } = await runDemo({ project: "demo", name: "spiral-mlp", steps: 1500, delayMs: 10 });
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const steps = options.steps ?? 1500;
  const peakLr = options.lr ?? 0.3;
  const hidden = options.hidden ?? 64;
  const rand = mulberry32(options.seed ?? 1);
  const data = spiral(300, rand);
  const { train, val } = split(data, 0.2, rand);
  const stepsPerEpoch = Math.ceil(train.n / BATCH);
  const config = {
    model: "mlp",
    layers: [2, hidden, CLASSES],
    // lets babysit check the first loss against ln 3 (the checklist's "initial loss")
    num_classes: CLASSES,
    optimizer: "sgd",
    momentum: 0.9,
    lr: peakLr,
    weight_decay: 1e-4,
    batch_size: BATCH,
    steps,
    dataset: "spiral-3",
    train_size: train.n,
    val_size: val.n,
    ...options.config,
  };

  const run = await init({ url: options.url, project: options.project ?? "demo", name: options.name, id: options.id, config });
  process.stderr.write(`babysit: logging to ${run.url}\n`);
  run.event("input_stats", { mean: columnStats(train).mean, std: columnStats(train).std }, 0);

  const model = new Mlp(2, hidden, CLASSES, rand);
  let order = shuffle(range(train.n), rand);
  let cursor = 0;
  let last = { valAcc: NaN, valLoss: NaN };
  try {
    for (let step = 0; step < steps; step++) {
      if (cursor + BATCH > train.n) {
        order = shuffle(order, rand);
        cursor = 0;
      }
      const idx = order.slice(cursor, cursor + BATCH);
      cursor += BATCH;
      const lr = schedule(step, steps, peakLr);
      const stats = model.trainStep(gather(train, idx), lr);
      logStep(run, step, step / stepsPerEpoch, lr, stats);

      const endOfEpoch = (step + 1) % stepsPerEpoch === 0 || step === steps - 1;
      if (endOfEpoch) {
        const v = model.evaluate(val);
        last = { valAcc: v.acc, valLoss: v.loss };
        run.log({ "val/loss": v.loss, "val/acc": v.acc }, { step });
        run.logHistogram("act/fc1", v.hidden, step);
        run.logHistogram("weight/fc1", model.w1, step);
        run.logHistogram("weight/fc2", model.w2, step);
        run.logHistogram("grad/fc1", model.g1, step);
      }
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      else if (step % 100 === 99) await new Promise((r) => setImmediate(r)); // let the SDK send
    }
  } catch (err) {
    await run.finish("crashed");
    throw err;
  }
  await run.finish();
  return { runId: run.id, url: run.url, ...last };
}

function logStep(run: Run, step: number, epoch: number, lr: number, s: StepStats): void {
  run.log(
    {
      "train/loss": s.loss,
      "train/acc": s.acc,
      lr,
      "update_ratio/fc1": s.updateRatio1,
      "update_ratio/fc2": s.updateRatio2,
      "act/fc1/mean": s.actMean,
      "act/fc1/std": s.actStd,
      "act/fc1/dead_frac": s.deadFrac,
      "grad/fc1/std": s.gradStd1,
      "grad/fc2/std": s.gradStd2,
      "weight/fc1/mean": s.weightMean1,
      "weight/fc1/std": s.weightStd1,
      "weight/fc2/mean": s.weightMean2,
      "weight/fc2/std": s.weightStd2,
    },
    { step, epoch },
  );
}

/** Linear warmup over the first 5% of steps, then cosine decay to 5% of the peak. */
function schedule(step: number, steps: number, peak: number): number {
  const warmup = Math.max(1, Math.floor(steps * 0.05));
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(1, steps - warmup);
  return peak * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

// ---------------------------------------------------------------------------------------------
// The model: y = softmax(relu(x W1 + b1) W2 + b2), cross-entropy loss, SGD with momentum.

interface Data {
  n: number;
  x: Float64Array; // n x 2, row-major
  y: Int32Array;
}

interface StepStats {
  loss: number;
  acc: number;
  updateRatio1: number;
  updateRatio2: number;
  actMean: number;
  actStd: number;
  deadFrac: number;
  gradStd1: number;
  gradStd2: number;
  weightMean1: number;
  weightStd1: number;
  weightMean2: number;
  weightStd2: number;
}

class Mlp {
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
  /** Last gradient of w1 (for the histogram). */
  readonly g1: Float64Array;
  private readonly v = new Map<Float64Array, Float64Array>();

  constructor(
    private readonly nIn: number,
    private readonly nHidden: number,
    private readonly nOut: number,
    rand: () => number,
  ) {
    // He initialisation for the ReLU layer, Xavier-ish for the output layer.
    this.w1 = Float64Array.from({ length: nIn * nHidden }, () => gauss(rand) * Math.sqrt(2 / nIn));
    this.b1 = new Float64Array(nHidden);
    this.w2 = Float64Array.from({ length: nHidden * nOut }, () => gauss(rand) * Math.sqrt(1 / nHidden));
    this.b2 = new Float64Array(nOut);
    this.g1 = new Float64Array(this.w1.length);
    for (const p of [this.w1, this.b1, this.w2, this.b2]) this.v.set(p, new Float64Array(p.length));
  }

  forward(d: Data) {
    const { nIn, nHidden: H, nOut: C } = this;
    const pre = new Float64Array(d.n * H);
    const h = new Float64Array(d.n * H);
    const probs = new Float64Array(d.n * C);
    let loss = 0;
    let correct = 0;
    for (let i = 0; i < d.n; i++) {
      for (let j = 0; j < H; j++) {
        let s = this.b1[j]!;
        for (let k = 0; k < nIn; k++) s += d.x[i * nIn + k]! * this.w1[k * H + j]!;
        pre[i * H + j] = s;
        h[i * H + j] = Math.max(s, 0);
      }
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        let s = this.b2[c]!;
        for (let j = 0; j < H; j++) s += h[i * H + j]! * this.w2[j * C + c]!;
        probs[i * C + c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) sum += probs[i * C + c] = Math.exp(probs[i * C + c]! - max);
      let best = 0;
      for (let c = 0; c < C; c++) {
        probs[i * C + c]! /= sum;
        if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      }
      loss -= Math.log(probs[i * C + d.y[i]!]!);
      if (best === d.y[i]) correct++;
    }
    return { pre, h, probs, loss: loss / d.n, acc: correct / d.n };
  }

  evaluate(d: Data) {
    const f = this.forward(d);
    return { loss: f.loss, acc: f.acc, hidden: f.h };
  }

  trainStep(d: Data, lr: number): StepStats {
    const { nIn, nHidden: H, nOut: C } = this;
    const f = this.forward(d);
    const g2 = new Float64Array(this.w2.length);
    const gb2 = new Float64Array(C);
    const gb1 = new Float64Array(H);
    this.g1.fill(0);
    const dh = new Float64Array(H);
    for (let i = 0; i < d.n; i++) {
      dh.fill(0);
      for (let c = 0; c < C; c++) {
        const dl = (f.probs[i * C + c]! - (d.y[i] === c ? 1 : 0)) / d.n;
        gb2[c]! += dl;
        for (let j = 0; j < H; j++) {
          g2[j * C + c]! += f.h[i * H + j]! * dl;
          dh[j]! += this.w2[j * C + c]! * dl;
        }
      }
      for (let j = 0; j < H; j++) {
        if (f.pre[i * H + j]! <= 0) continue;
        gb1[j]! += dh[j]!;
        for (let k = 0; k < nIn; k++) this.g1[k * H + j]! += d.x[i * nIn + k]! * dh[j]!;
      }
    }
    const updateRatio1 = this.sgd(this.w1, this.g1, lr, 1e-4);
    this.sgd(this.b1, gb1, lr, 0);
    const updateRatio2 = this.sgd(this.w2, g2, lr, 1e-4);
    this.sgd(this.b2, gb2, lr, 0);

    let dead = 0;
    for (let j = 0; j < H; j++) {
      let alive = false;
      for (let i = 0; i < d.n && !alive; i++) alive = f.pre[i * H + j]! > 0;
      if (!alive) dead++;
    }
    const act = meanStd(f.h);
    const w1 = meanStd(this.w1);
    const w2 = meanStd(this.w2);
    return {
      loss: f.loss,
      acc: f.acc,
      updateRatio1,
      updateRatio2,
      actMean: act.mean,
      actStd: act.std,
      deadFrac: dead / H,
      gradStd1: meanStd(this.g1).std,
      gradStd2: meanStd(g2).std,
      weightMean1: w1.mean,
      weightStd1: w1.std,
      weightMean2: w2.mean,
      weightStd2: w2.std,
    };
  }

  /** One SGD-with-momentum update in place; returns rms(update) / rms(weights). */
  private sgd(p: Float64Array, g: Float64Array, lr: number, weightDecay: number): number {
    const v = this.v.get(p)!;
    let upd = 0;
    let w = 0;
    for (let i = 0; i < p.length; i++) {
      v[i] = 0.9 * v[i]! - lr * (g[i]! + weightDecay * p[i]!);
      p[i]! += v[i]!;
      upd += v[i]! * v[i]!;
      w += p[i]! * p[i]!;
    }
    return Math.sqrt(upd) / (Math.sqrt(w) || 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Data

/** `perClass` points on each of 3 interleaved spiral arms, with noise. */
function spiral(perClass: number, rand: () => number): Data {
  const n = perClass * CLASSES;
  const x = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < perClass; i++) {
      const r = i / perClass;
      const t = c * 4 + 4 * r + gauss(rand) * 0.2;
      const k = c * perClass + i;
      x[2 * k] = r * Math.sin(t);
      x[2 * k + 1] = r * Math.cos(t);
      y[k] = c;
    }
  }
  return { n, x, y };
}

function split(d: Data, valFrac: number, rand: () => number): { train: Data; val: Data } {
  const order = shuffle(range(d.n), rand);
  const nVal = Math.round(d.n * valFrac);
  return { val: gather(d, order.slice(0, nVal)), train: gather(d, order.slice(nVal)) };
}

function gather(d: Data, idx: number[]): Data {
  const x = new Float64Array(idx.length * 2);
  const y = new Int32Array(idx.length);
  idx.forEach((src, i) => {
    x[2 * i] = d.x[2 * src]!;
    x[2 * i + 1] = d.x[2 * src + 1]!;
    y[i] = d.y[src]!;
  });
  return { n: idx.length, x, y };
}

function columnStats(d: Data): { mean: number[]; std: number[] } {
  const cols = [0, 1].map((c) => meanStd(Float64Array.from({ length: d.n }, (_, i) => d.x[2 * i + c]!)));
  return { mean: cols.map((c) => c.mean), std: cols.map((c) => c.std) };
}

function meanStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length) };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function shuffle<T>(a: T[], rand: () => number): T[] {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [b[i], b[j]] = [b[j]!, b[i]!];
  }
  return b;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

// Run directly: node --import tsx sdk/ts/examples/train.ts [--steps N] [--lr X] [--delay MS] [--name NAME]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const num = (flag: string) => (arg(flag) === undefined ? undefined : Number(arg(flag)));
  const result = await runDemo({
    steps: num("--steps"),
    lr: num("--lr"),
    delayMs: num("--delay"),
    name: arg("--name"),
    project: arg("--project"),
  });
  console.log(`val/acc ${result.valAcc.toFixed(3)}  val/loss ${result.valLoss.toFixed(3)}  ${result.url}`);
}
