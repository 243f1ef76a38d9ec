// A TensorFlow.js `model.fit` callback that logs to a babysit run. It needs nothing from TensorFlow.js
// at run time: `model.fit` takes any object with the hooks of `tf.CustomCallbackArgs`
// (onBatchEnd, onEpochEnd, onTrainEnd, ...), and calls them with plain numbers.

import type { Run } from "./run.js";

/** The logs TensorFlow.js passes to a hook: metric name -> number (`loss`, `acc`, `val_loss`, ...). */
export type FitLogs = Record<string, unknown> | undefined;

export interface BabysitCallbackOptions {
  /** Log the training metrics of every batch (default true); false: once per epoch only. */
  batches?: boolean;
  /** Finish the run when training ends (default true): its diagnoses at finish run then. */
  finish?: boolean;
  /**
   * The step of the first batch. Default: the step after the last one logged to the run when training
   * begins (0 for a new run), so a second `fit` on the same run goes on after the first.
   */
  startStep?: number;
  /**
   * Batches per epoch, when known (`Math.ceil(samples / batchSize)`): gives every batch's row its
   * epoch (e.g. 0.25) from the first epoch on; without it, rows get their epoch once an epoch was seen.
   */
  stepsPerEpoch?: number;
}

/** The hooks `model.fit({ callbacks })` takes, as tf.CustomCallbackArgs declares them. */
export interface BabysitFitCallback {
  onTrainBegin(logs?: FitLogs): Promise<void>;
  onEpochBegin(epoch: number, logs?: FitLogs): Promise<void>;
  onBatchEnd(batch: number, logs?: FitLogs): Promise<void>;
  onEpochEnd(epoch: number, logs?: FitLogs): Promise<void>;
  onTrainEnd(logs?: FitLogs): Promise<void>;
  /** The step the next batch will be logged at (the batches logged so far, after startStep). */
  readonly step: number;
}

// what tfjs adds to a batch's logs besides metrics
const NOT_METRICS = new Set(["batch", "size"]);

/**
 * babysit's name for a Keras-style log key: `val_x` -> `val/x`, anything else -> `train/x`, with
 * `accuracy` written `acc` (the names babysit's diagnoses read: train/loss, train/acc, val/loss, val/acc).
 */
export function fitKey(name: string): string {
  const val = name.startsWith("val_");
  const base = val ? name.slice(4) : name;
  const short = base === "accuracy" ? "acc" : base;
  return `${val ? "val" : "train"}/${short}`;
}

function metricsOf(logs: FitLogs, pick: (name: string) => boolean, key: (name: string) => string): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  if (!logs || typeof logs !== "object") return out;
  for (const name of Object.keys(logs)) {
    const v = logs[name];
    if (NOT_METRICS.has(name) || typeof v !== "number" || !pick(name)) continue;
    out[key(name)] = v;
  }
  return out;
}

/**
 * A callback for TensorFlow.js `model.fit` that logs to `run`:
 * - after every batch (unless `batches: false`): its training metrics as `train/loss`, `train/acc`, ...
 *   at one step per batch, with the epoch as a fraction (1.5 = half-way through the second epoch);
 * - after every epoch: the validation metrics (`val_loss` -> `val/loss`, `val_acc` -> `val/acc`) at
 *   the step of the epoch's last batch, and the epoch's training averages as `train/loss_epoch`, ...
 *   (or as `train/loss`, ... when batches are not logged);
 * - when training ends: finishes the run (unless `finish: false`), so `await model.fit(...)` returns
 *   once everything was delivered and the run's diagnoses at finish ran.
 * It never throws into training: a problem is one warning from the SDK, as for `run.log`.
 *
 * @example
 * const run = await init({ project: "tfjs", config: { lr: 0.01 } });
 * await model.fit(xs, ys, { epochs: 10, batchSize: 32, validationSplit: 0.2, callbacks: babysitCallback(run) });
 */
export function babysitCallback(run: Run, options: BabysitCallbackOptions = {}): BabysitFitCallback {
  const batches = options.batches !== false;
  const finish = options.finish !== false;
  const given = Number.isSafeInteger(options.startStep) && (options.startStep as number) >= 0;
  let step = given ? (options.startStep as number) : 0;
  let perEpoch = Number.isFinite(options.stepsPerEpoch) && (options.stepsPerEpoch as number) > 0 ? (options.stepsPerEpoch as number) : 0;
  let epochStart = step;
  let currentEpoch = 0;
  const warn = (where: string, err: unknown) => {
    try {
      process.emitWarning(`babysit: the tfjs callback's ${where} failed: ${err instanceof Error ? err.message : String(err)}`);
    } catch {
      // nothing to do: training goes on
    }
  };
  return {
    get step() {
      return step;
    },
    async onTrainBegin() {
      // a second fit on the same run goes on after the first (from 0 again, its points would land on
      // the first fit's steps)
      if (given) return;
      try {
        step = Math.max(step, run.nextAutoStep() ?? 0);
        epochStart = step;
      } catch (err) {
        warn("onTrainBegin", err);
      }
    },
    async onEpochBegin(epoch) {
      epochStart = step;
      currentEpoch = epoch;
    },
    async onBatchEnd(_batch, logs) {
      try {
        if (!batches) {
          step++;
          return;
        }
        const metrics = metricsOf(logs, (n) => !n.startsWith("val_"), fitKey);
        // the epoch as a fraction: 1.5 is half-way through the second epoch
        const epoch = perEpoch ? currentEpoch + Math.min(1, (step - epochStart + 1) / perEpoch) : undefined;
        if (Object.keys(metrics).length) run.log(metrics, epoch === undefined ? { step } : { step, epoch });
        step++;
      } catch (err) {
        warn("onBatchEnd", err);
      }
    },
    async onEpochEnd(epoch, logs) {
      try {
        if (step === epochStart) step++; // an epoch without batch hooks still moves the step on
        if (!perEpoch) perEpoch = step - epochStart;
        const last = step - 1;
        const val = metricsOf(logs, (n) => n.startsWith("val_"), fitKey);
        const train = metricsOf(
          logs,
          (n) => !n.startsWith("val_"),
          (n) => (batches ? `${fitKey(n)}_epoch` : fitKey(n)),
        );
        run.log({ ...train, ...val }, { step: last, epoch: epoch + 1 });
      } catch (err) {
        warn("onEpochEnd", err);
      }
    },
    async onTrainEnd() {
      if (!finish) return;
      try {
        await run.finish();
      } catch (err) {
        warn("onTrainEnd", err);
      }
    },
  };
}
