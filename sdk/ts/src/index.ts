/**
 * babysit – TypeScript client of the babysit training monitor.
 *
 * @example
 * import { init } from "babysit";
 *
 * const run = await init({ project: "digits", config: { lr: 0.1 } });
 * for (let step = 0; step < 1000; step++) {
 *   run.log({ "train/loss": trainStep() }, { step });
 * }
 * await run.finish();
 *
 * @packageDocumentation
 */
export { init, Run, DEFAULT_URL, resolveMode, type InitOptions, type LogOptions, type HistogramInput, type Mode } from "./run.js";
export type { Alert, DeliveryResult, Rejection } from "./transport.js";
export { sync, type SyncOptions, type SyncResult, type SkippedSpool, type KeyRefusal } from "./sync.js";
export { computeHistogram, DEFAULT_BINS, type Histogram } from "./histogram.js";
export { inputStats, outputStats, type InputStats, type OutputStats, type NumericArray } from "./stats.js";
export { labelCounts, type LabelStats, type LabelsInput } from "./label-stats.js";
export {
  sweep,
  logUniform,
  uniform,
  intUniform,
  choice,
  sample,
  validateSpace,
  defaultSeed,
  Sweep,
  Trial,
  SweepError,
  type SweepOptions,
  type Space,
  type ParamSpec,
  type Distribution,
  type Scalar,
  type Goal,
} from "./sweeps.js";
export { babysitCallback, fitKey, type BabysitCallbackOptions, type BabysitFitCallback, type FitLogs } from "./tfjs.js";
