export type Severity = "info" | "warning" | "critical";

/** Full-resolution points, sorted by step ascending. NaN / ±Infinity are data (divergence). */
export interface SeriesPoints {
  steps: number[];
  values: number[];
}

export interface HistogramRecord {
  step: number;
  edges: number[];
  counts: number[];
}

export interface RunEvent {
  type: string;
  step: number | null;
  data: any;
}

export interface RunData {
  /** Free-form run config, e.g. { num_classes: 10, hyperparams: {...}, babysit: { thresholds: {...}, keys: {...} } } */
  config: Record<string, any>;
  /** key -> points, e.g. "train/loss", "val/acc", "update_ratio/fc1", "act/fc1/dead_frac" */
  series: Map<string, SeriesPoints>;
  /** e.g. "act/fc1" */
  histograms: Map<string, HistogramRecord[]>;
  /** e.g. { type: "input_stats", step: 0, data: { mean: number[], std: number[] } } */
  events: RunEvent[];
  /** true once the run has finished (final evaluation) */
  finished: boolean;
}

export interface Diagnosis {
  code: string;
  severity: Severity;
  /** step where the condition was first seen */
  step: number;
  /** short headline */
  title: string;
  /** plain explanation: what is wrong, why it matters, what to try */
  message: string;
  /** the numbers behind it */
  evidence: Record<string, number | string | boolean | null>;
  /** the active root cause this diagnosis follows from (lib/diagnostics/causes.ts) */
  causedBy?: string;
  /** on a root cause: the active diagnoses that follow from it, in display order */
  symptoms?: string[];
}
