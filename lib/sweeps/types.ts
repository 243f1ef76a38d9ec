// Hyperparameter search (sweeps): the shapes shared by the store, the API, the analysis and the
// pages. The wire format of a search space is the same in both SDKs and in the API (docs/api.md).
//
// A space maps parameter names (user data: Maps / null-prototype records only) to either a bare
// fixed value (number, string, boolean or null) or a distribution:
//   { "distribution": "log_uniform", "low": 1e-4, "high": 1e-1 }   low > 0, high > low
//   { "distribution": "uniform",     "low": 0,    "high": 0.5 }    high > low
//   { "distribution": "int_uniform", "low": 1,    "high": 4 }      integers, both ends included
//   { "distribution": "choice",      "values": ["relu", "tanh"] }  1+ scalar values
//
// Sampling (lib/sweeps/sampler.ts, sdk/python babysit/sweeps.py, sdk/ts src/sweeps.ts — the three
// agree exactly; a shared test vector checks it): trial `index` (0, 1, 2...) of a sweep with integer
// `seed` (0 <= seed < 2^32) draws each parameter `name` independently from
//   u = unit(seed, index, name), in [0, 1):
//     h     = FNV-1a 64 of the UTF-8 bytes of name (offset 0xcbf29ce484222325, prime 0x100000001b3)
//     state = ((seed << 32) XOR index XOR h) mod 2^64
//     z     = splitmix64(state):  x = state + 0x9E3779B97F4A7C15; z = x;
//             z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
//             z = z ^ (z >> 31)            (all mod 2^64)
//     u     = (z >> 11) / 2^53
//   uniform: low + u (high - low)
//   log_uniform: a = ln(low); min(high, max(low, exp(a + u (ln(high) - a))))  with the portable
//     ln and exp below, never the platform's (V8's Math.exp and CPython's math.exp differ by an ulp
//     for about 1 draw in 20); 1e-300 <= low < high <= 1e300 (LIMITS.sweepLogUniformMin/Max)
//   int_uniform: min(high, low + floor(u (high - low + 1)))     choice: values[floor(u * length)]
//   fixed: the value itself.
// Portable ln and exp (only + - * / on doubles, evaluated in exactly this order, so every IEEE 754
// platform agrees bit for bit; LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10,
// INV_LN2 = 1.4426950408889634, SQRT2 = 1.4142135623730951; 2^k built exactly, e.g. ldexp(1.0, k)):
//   ln(x):  x = m 2^e with m in [1, 2) (exact: frexp); if m > SQRT2: m = m / 2, e = e + 1;
//           s = (m - 1) / (m + 1); s2 = s * s; p = 1 / 25;
//           for k = 11 down to 0: p = 1 / (2k + 1) + s2 * p;
//           ln = e * LN2_HI + (e * LN2_LO + 2 * s * p)
//   exp(y): k = floor(y * INV_LN2 + 0.5); r = (y - k * LN2_HI) - k * LN2_LO; p = 1;
//           for n = 16 down to 1: p = 1 + (r * p) / n;     exp = p * 2^k
// Reference: lib/sweeps/sampler.ts; vectors: tests/fixtures/sweeps/sampler-vectors.json (read its
// numbers as float64: JavaScript writes 9.17e16 as the integer literal 91711467172362050).

export type Scalar = number | string | boolean | null;

export type Distribution =
  | { distribution: "log_uniform"; low: number; high: number }
  | { distribution: "uniform"; low: number; high: number }
  | { distribution: "int_uniform"; low: number; high: number }
  | { distribution: "choice"; values: Scalar[] };

export type ParamSpec = Distribution | Scalar;

/** name -> spec; built with a null prototype (names are user data). */
export type Space = Record<string, ParamSpec>;

export type Goal = "max" | "min";

export interface Objective {
  metric: string;
  goal: Goal;
}

/** Median stopping (run.should_stop()): a trial stops when it diverged, or when after `warmupSteps`
 *  its best objective so far is worse than the median of the other trials' best at the same step,
 *  once at least `minTrials` other trials reached that step. */
export interface EarlyStop {
  rule: "median" | "none";
  minTrials: number;
  warmupSteps: number;
}

/** What the analysis needs to know of one trial (one run of the sweep). */
export interface TrialSummary {
  runId: string;
  name: string;
  /** the trial's index from the sampler, null for a run that joined through config.sweep only */
  index: number | null;
  status: string; // running | finished | crashed | stale
  /** the hyperparameters: the run's config values for the space's names (or, with no declared
   *  space, every scalar config key except "sweep") */
  params: Record<string, Scalar>;
  /** the objective: best value of the metric over the run (max or min by goal); null if never
   *  logged, or when it logged NaN or ±Infinity (the trial diverged) */
  objective: number | null;
  /** true when the trial failed (diverged: a non-finite or exploding loss / a divergence alert,
   *  or crashed before logging the objective) — failed trials are not "bad values" */
  failed: boolean;
  failure: string | null; // "diverged" | "crashed" | "no_objective" | null
  /** codes of the trial's active alerts */
  alerts: string[];
  /** the objective metric's curve: [step, value] (thinned; NaN and ±Infinity kept as logged), for overlays and median stopping */
  curve: Array<[number, number]>;
  startedAt: number | null;
  finishedAt: number | null;
  /** set once should-stop answered stop=true for the trial (the server records it on the run as a
   *  PRUNED_EVENT event): early-stopped, so its objective is its best so far, not a fully trained
   *  result. The run's own status stays running / finished / crashed. */
  pruned?: Pruned | null;
}

/** Why a trial was stopped early: the should-stop answer that told it to stop. */
export interface Pruned {
  rule: string; // "median" | "diverged"
  reason: string;
  step: number | null;
  at: number;
}

/** A sweep-level alert: the same shape as a run's (lib/alerts/alert-view.ts AlertView). */
export interface SweepAlert {
  code: string; // search_boundary | search_too_few_trials | search_flat_parameter | search_range_too_wide | search_trials_failing
  severity: "info" | "warning" | "critical";
  title: string;
  message: string;
  evidence: Record<string, unknown>;
}

export interface ParamImportance {
  param: string;
  /** Spearman rank correlation of the parameter (log of it for log-scale) with the objective */
  rho: number | null;
  /** numeric params: the larger of |rho| and the correlation ratio of the objective's ranks over the
   *  parameter's terciles (chance-adjusted, so a peaked response such as the learning rate's counts);
   *  choice params: the spread of per-choice medians relative to the objective's range. In [0, 1]. */
  importance: number | null;
  n: number;
}
