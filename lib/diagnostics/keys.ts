// Which logged series mean what. People log the same quantity under many names; the rules only
// ever see the canonical roles below. `config.babysit.keys` maps other names (exact keys for
// scalar roles, patterns with "{layer}" for per-layer families) and wins over the built-in names.

import { LIMITS, codePointLength } from "../contract/limits";
import { lossKeyShape, lossesByShape } from "./loss-keys";
import type { HistogramRecord, RunData, SeriesPoints } from "./types";

export interface NamedSeries {
  key: string;
  s: SeriesPoints;
}

export type ScalarRole = "train_loss" | "val_loss" | "train_acc" | "val_acc" | "lr" | "grad_norm" | "epoch";

export type LayerField =
  | "update_ratio"
  | "act_mean"
  | "act_std"
  | "saturated_frac"
  | "dead_frac"
  | "grad_std"
  | "grad_norm"
  | "weight_mean"
  | "weight_std";

export type HistFamily = "act_hist" | "weight_hist" | "grad_hist";

/** Built-in names per role, in priority order, matched case-insensitively. */
export const SCALAR_ALIASES: Record<ScalarRole, readonly string[]> = {
  train_loss: [
    "train/loss",
    "train_loss",
    "training_loss",
    "training/loss",
    "loss/train",
    "loss/training",
    "train/loss_step",
    "train_loss_step",
    "loss",
    "train/loss_epoch",
    "train_loss_epoch",
    // Lightning's self.log("loss", on_step=True, on_epoch=True)
    "loss_step",
    "loss_epoch",
    // detectron2's metrics.json: the sum of its loss_cls, loss_box_reg, ... terms
    "total_loss",
    "train/total_loss",
    // Keras's TensorBoard callback (train/ directory: batch_ with update_freq, epoch_ always)
    "batch_loss",
    "epoch_loss",
    "train/epoch_loss",
  ],
  val_loss: [
    "val/loss",
    "val_loss",
    "validation_loss",
    "validation/loss",
    "valid/loss",
    "valid_loss",
    "eval/loss",
    "eval_loss",
    "loss/val",
    "loss/validation",
    "loss/valid",
    "val/loss_epoch",
    "val_loss_epoch",
    // Keras's TensorBoard callback, imported as one run (validation/ directory)
    "validation/epoch_loss",
    "val/epoch_loss",
    "test/loss",
    "test_loss",
    "loss/test",
    // PyTorch's examples: `Test set: Average loss: 0.0345, ...`
    "test_average_loss",
  ],
  train_acc: [
    "train/acc",
    "train_acc",
    "train/accuracy",
    "train_accuracy",
    "training_accuracy",
    "training_acc",
    "training/accuracy",
    "acc/train",
    "accuracy/train",
    "acc",
    "accuracy",
    "train/acc_step",
    "train_acc_step",
    "train/acc_epoch",
    "train_acc_epoch",
    "acc_epoch",
    "accuracy_epoch",
    // top-1 accuracy as image-classification code names it (timm, torchvision's references)
    "train/top1",
    "train_top1",
    "train/acc1",
    "train/acc@1",
    "top1",
    "acc1",
    "acc@1",
    // per-token accuracy of a sequence model (chance 1 / vocabulary, as any class accuracy)
    "train/token_acc",
    "train_token_acc",
    "train/token_accuracy",
    "token_acc",
    // Keras's TensorBoard callback (train/ directory)
    "epoch_accuracy",
    "epoch_acc",
    "train/epoch_accuracy",
  ],
  val_acc: [
    "val/acc",
    "val_acc",
    "val/accuracy",
    "val_accuracy",
    "validation_accuracy",
    "validation/accuracy",
    "valid/acc",
    "valid_acc",
    "eval/accuracy",
    "eval/acc",
    "eval_accuracy",
    "eval_acc",
    "acc/val",
    "accuracy/val",
    "acc/validation",
    "accuracy/validation",
    "val_acc_epoch",
    "val/acc_epoch",
    "val_accuracy_epoch",
    // Keras's TensorBoard callback, imported as one run (validation/ directory)
    "validation/epoch_accuracy",
    "val/epoch_accuracy",
    // top-1 accuracy: mmengine (`Epoch(val) ... accuracy/top1: 76.5`, its TensorBoard/vis_data
    // `val/accuracy/top1`), timm (summary.csv `eval_top1`, `Test: ... Acc@1: 76.5`), others
    "val/accuracy/top1",
    "val_accuracy/top1",
    "accuracy/top1",
    "val/top1",
    "val_top1",
    "eval/top1",
    "eval_top1",
    "val_acc@1",
    "eval_acc@1",
    "valid/top1",
    "val/acc1",
    "val/acc@1",
    "eval/acc1",
    "eval/acc@1",
    // per-token accuracy of a sequence model
    "val/token_acc",
    "val_token_acc",
    "eval/token_acc",
    "eval_token_acc",
    "val/token_accuracy",
    "eval/token_accuracy",
    "test/acc",
    "test_acc",
    "test/accuracy",
    "test_accuracy",
    "test/top1",
    "test_top1",
    "test_acc@1",
  ],
  lr: [
    "lr",
    "learning_rate",
    "train/lr",
    "train/learning_rate",
    "optim/lr",
    "optimizer/lr",
    // Keras's TensorBoard callback (train/ directory)
    "train/epoch_learning_rate",
    "epoch_learning_rate",
    "train/epoch_lr",
    "epoch_lr",
  ],
  grad_norm: [
    "grad_norm",
    "gradient_norm",
    "train/grad_norm",
    "grad/norm",
    "grad_norm/total",
    "total_grad_norm",
    "global_grad_norm",
    "grad/global_norm",
  ],
  // the epoch that rides along with each row (stored as the series "epoch"): unshuffled_data's period
  epoch: ["epoch", "train/epoch", "trainer/epoch"],
};

/** Built-in per-layer families: each regex captures the layer name (and a field suffix). */
const LAYER_PATTERNS: { re: RegExp; field: (m: RegExpMatchArray) => LayerField | null }[] = [
  { re: /^update_ratios?\/(.+)$/i, field: () => "update_ratio" },
  {
    re: /^act(?:s|ivations?)?\/(.+)\/(mean|std|saturated_frac|dead_frac)$/i,
    field: (m) => {
      const f = m[2].toLowerCase();
      return f === "mean" ? "act_mean" : f === "std" ? "act_std" : (f as LayerField);
    },
  },
  {
    re: /^grad(?:s|ients?)?\/(.+)\/(std|norm)$/i,
    field: (m) => (m[2].toLowerCase() === "std" ? "grad_std" : "grad_norm"),
  },
  { re: /^grad_norm\/(.+)$/i, field: () => "grad_norm" },
  {
    re: /^weights?\/(.+)\/(mean|std)$/i,
    field: (m) => (m[2].toLowerCase() === "std" ? "weight_std" : "weight_mean"),
  },
];

const HIST_PATTERNS: Record<HistFamily, RegExp> = {
  act_hist: /^act(?:s|ivations?)?\/(.+)$/i,
  weight_hist: /^weights?\/(.+)$/i,
  grad_hist: /^grad(?:s|ients?)?\/(.+)$/i,
};

export interface ResolvedKeys {
  scalars: Partial<Record<ScalarRole, NamedSeries>>;
  /** layer -> its per-layer series; iteration order = network order (input side first) */
  layers: Map<string, Partial<Record<LayerField, NamedSeries>>>;
  hists: Record<HistFamily, Map<string, { key: string; records: HistogramRecord[] }>>;
}

/**
 * A `{layer}` pattern from config.babysit.keys, split at its placeholders: `parts[0]{layer}parts[1]…`.
 * Matched by matchKeyPattern below, never turned into a RegExp: a regex built from user text
 * with two dozen `.+` groups backtracks for minutes on a 60-character key.
 */
export interface KeyPattern {
  parts: string[];
}

const PLACEHOLDER = "{layer}";

/** The pattern, or null when it has no `{layer}` or is longer than LIMITS.keyPatternMaxLength. */
export function compileKeyPattern(pattern: string): KeyPattern | null {
  if (!pattern.includes(PLACEHOLDER)) return null;
  if (codePointLength(pattern) > LIMITS.keyPatternMaxLength.value) return null;
  return { parts: pattern.split(PLACEHOLDER) };
}

/**
 * The layer name a key gives the pattern's first `{layer}`, or null when it does not match. Same
 * answers as the anchored regex `^p0(.+)p1(.+)…pk$` (case-sensitive, each `{layer}` one or more
 * characters of any kind, slashes too, the first one as long as possible), found in one
 * right-to-left pass: each literal part is placed as late as the parts after it allow, which
 * leaves the first `{layer}` the longest it can be. Time: O(key length x pattern length).
 */
export function matchKeyPattern(p: KeyPattern, key: string): string | null {
  const { parts } = p;
  const k = parts.length - 1; // placeholders
  const head = parts[0];
  const tail = parts[k];
  if (!key.startsWith(head)) return null;
  // `end`: where the text left for parts[0..i] ends; the last part must end the key
  let end = key.length - tail.length;
  if (end < head.length || !key.endsWith(tail)) return null;
  for (let i = k - 1; i >= 1; i--) {
    const lit = parts[i];
    // the placeholder after this part needs at least one character
    const at = key.lastIndexOf(lit, end - 1 - lit.length);
    if (at < 0 || end - 1 - lit.length < 0) return null;
    end = at;
  }
  // what is left between the head and the first literal part placed is the first {layer}
  return end - head.length >= 1 ? key.slice(head.length, end) : null;
}

function asList(v: unknown): string[] {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return [];
}

/** A metric's name with its separators (/ . - _ and spaces, any run of them) written as one _, lower case. */
export function sepForm(name: string): string {
  return name.toLowerCase().replace(/[\s/._-]+/g, "_");
}

const LIGHTNING_LR = /^lr-[A-Za-z]\w{0,63}$/;

/** A percent unit at the end of a metric's name: "_pct", "_percent", "%", " (%)". */
const PERCENT_SUFFIX = /(?:[\s_\-/.]*(?:pct|percent|percentage)|\s*\(%\)|\s*%)$/;

export function resolveKeys(run: RunData): ResolvedKeys {
  const userKeys: Record<string, unknown> = (run.config?.babysit?.keys as Record<string, unknown>) ?? {};
  // keys that differ only by case name the same thing ("Loss/train" and "loss/train", from two
  // loggers or a renamed tag): the one with the most points is read, whichever spelling the alias
  // has (ties: the alias's exact spelling, then the first logged); a key the user named is read as named
  const lower = new Map<string, string>();
  const points = (key: string) => run.series.get(key)?.values.length ?? 0;
  for (const key of run.series.keys()) {
    const l = key.toLowerCase();
    const had = lower.get(l);
    if (had === undefined || points(key) > points(had)) lower.set(l, key);
  }
  const byCase = (name: string): string | undefined => {
    const best = lower.get(name.toLowerCase());
    return run.series.has(name) && (best === undefined || points(name) >= points(best)) ? name : best;
  };

  // a built-in name also matches a key that writes its separators otherwise: TensorBoard's CSV
  // download writes a tag's slashes as _ (`Loss/train` -> `Loss_train`), tags may hold spaces
  // (`Learning rate`, `training loss`)
  const bySepForm = new Map<string, string>();
  for (const key of run.series.keys()) {
    const f = sepForm(key);
    const had = bySepForm.get(f);
    if (had === undefined || points(key) > points(had)) bySepForm.set(f, key);
  }
  // a name logged as a built-in name is spelled comes before one that matches only by its separators
  const builtIn = (role: ScalarRole): string[] => [
    ...new Set(
      [...SCALAR_ALIASES[role].map(byCase), ...SCALAR_ALIASES[role].map((name) => bySepForm.get(sepForm(name)))].filter(
        (k): k is string => k !== undefined,
      ),
    ),
  ];

  const scalars: ResolvedKeys["scalars"] = {};
  for (const role of Object.keys(SCALAR_ALIASES) as ScalarRole[]) {
    const named = asList(userKeys[role]);
    let found: string | undefined;
    for (const name of named) {
      const key = run.series.has(name) ? name : byCase(name);
      if (key !== undefined && points(key) > 0) {
        found = key;
        break;
      }
    }
    if (found === undefined) {
      for (const key of builtIn(role)) {
        if (points(key) === 0) continue;
        // The training loss is read for its shape (noise, sawtooth, plateaus): of several built-in
        // names logged, the one with the most points. A log that carries both a per-iteration loss
        // and a coarser estimate (nanoGPT's `iter 100: loss` and its every-eval `train loss`,
        // Lightning's `loss_step` and `loss_epoch`) is read at its full resolution.
        if (found === undefined || (role === "train_loss" && points(key) > points(found))) found = key;
        if (role !== "train_loss") break;
      }
    }
    // Lightning's LearningRateMonitor logs `lr-<Optimizer>` (`lr-Adam`, `lr-SGD`)
    if (found === undefined && role === "lr" && named.length === 0) found = [...run.series.keys()].find((k) => LIGHTNING_LR.test(k) && points(k) > 0);
    if (found !== undefined) scalars[role] = { key: found, s: run.series.get(found)! };
  }
  // An accuracy logged with its unit in the name ("train/acc_pct", "val_accuracy_percent", "acc (%)") is
  // that accuracy: the name less the unit is an alias (values in percent are scaled as any percent accuracy)
  for (const role of ["train_acc", "val_acc"] as const) {
    if (scalars[role] || asList(userKeys[role]).length > 0) continue;
    const aliases = new Set(SCALAR_ALIASES[role].map((a) => a.toLowerCase()));
    for (const [key, s] of run.series) {
      const bare = key.toLowerCase().replace(PERCENT_SUFFIX, "");
      if (bare !== key.toLowerCase() && aliases.has(bare) && s.values.length > 0) {
        scalars[role] = { key, s };
        break;
      }
    }
  }
  // a loss named by its family or under a namespace ("train/nll", "val/bce", "metrics/val_loss")
  lossesByShape(run.series, scalars);
  // "acc"/"loss" must not be claimed twice (e.g. a run logging only "loss" and "val_loss").
  for (const [a, b] of [
    ["train_loss", "val_loss"],
    ["train_acc", "val_acc"],
  ] as const) {
    if (scalars[a] && scalars[b] && scalars[a]!.key === scalars[b]!.key) delete scalars[a];
  }

  // at most LIMITS.keyPatternsMax patterns per run, in the order they are listed
  let patternBudget = LIMITS.keyPatternsMax.value;
  const compile = (pattern: string): KeyPattern | null => {
    if (patternBudget <= 0) return null;
    const p = compileKeyPattern(pattern);
    if (p) patternBudget--;
    return p;
  };
  const userLayer: { re: KeyPattern; field: LayerField }[] = [];
  for (const field of [
    "update_ratio",
    "act_mean",
    "act_std",
    "saturated_frac",
    "dead_frac",
    "grad_std",
    "grad_norm",
    "weight_mean",
    "weight_std",
  ] as LayerField[]) {
    for (const p of asList(userKeys[field])) {
      const re = compile(p);
      if (re) userLayer.push({ re, field });
    }
  }

  const found = new Map<string, Partial<Record<LayerField, NamedSeries>>>();
  const claimed = new Set(Object.values(scalars).map((n) => n!.key));
  for (const [key, s] of run.series) {
    if (claimed.has(key) || s.values.length === 0) continue;
    let layer: string | null = null;
    let field: LayerField | null = null;
    for (const u of userLayer) {
      const m = matchKeyPattern(u.re, key);
      if (m !== null) {
        layer = m;
        field = u.field;
        break;
      }
    }
    if (!field) {
      for (const p of LAYER_PATTERNS) {
        const m = key.match(p.re);
        if (m) {
          layer = m[1];
          field = p.field(m);
          if (field) break;
        }
      }
    }
    if (!field || layer === null) continue;
    let entry = found.get(layer);
    if (!entry) found.set(layer, (entry = {}));
    if (!entry[field]) entry[field] = { key, s };
  }

  const hists: ResolvedKeys["hists"] = { act_hist: new Map(), weight_hist: new Map(), grad_hist: new Map() };
  const userHist: { re: KeyPattern; fam: HistFamily }[] = [];
  for (const fam of Object.keys(HIST_PATTERNS) as HistFamily[]) {
    for (const p of asList(userKeys[fam])) {
      const re = compile(p);
      if (re) userHist.push({ re, fam });
    }
  }
  for (const [key, records] of run.histograms) {
    if (!records || records.length === 0) continue;
    let hit: { fam: HistFamily; layer: string } | null = null;
    for (const u of userHist) {
      const m = matchKeyPattern(u.re, key);
      if (m !== null) {
        hit = { fam: u.fam, layer: m };
        break;
      }
    }
    if (!hit) {
      for (const fam of Object.keys(HIST_PATTERNS) as HistFamily[]) {
        const m = key.match(HIST_PATTERNS[fam]);
        if (m) {
          hit = { fam, layer: m[1] };
          break;
        }
      }
    }
    if (hit && !hists[hit.fam].has(hit.layer)) hists[hit.fam].set(hit.layer, { key, records });
  }

  return { scalars, layers: orderLayers(found, run.config), hists };
}

/** Network order: the config's layer list when it names them, then the order keys first appeared. */
function orderLayers<T>(found: Map<string, T>, config: Record<string, any>): Map<string, T> {
  const listed = [config?.model_layers, config?.layers, config?.model?.layers].find(Array.isArray) as unknown[] | undefined;
  if (!listed) return found;
  const out = new Map<string, T>();
  for (const name of listed) {
    if (typeof name === "string" && found.has(name)) out.set(name, found.get(name)!);
  }
  for (const [name, v] of found) if (!out.has(name)) out.set(name, v);
  return out;
}

/**
 * Whether a rule can ever read the series `key` of a run with this config: a scalar role's name
 * (built-in or from config.babysit.keys, any case) or a per-layer family's key. resolveKeys reads
 * nothing else, so the diagnostics need not hold any other series (lib/alerts/watch-runs.ts).
 */
export function seriesReader(config: Record<string, any>): (key: string) => boolean {
  const userKeys: Record<string, unknown> = (config?.babysit?.keys as Record<string, unknown>) ?? {};
  const names = new Set<string>();
  const sepForms = new Set<string>();
  for (const role of Object.keys(SCALAR_ALIASES) as ScalarRole[]) {
    for (const name of [...asList(userKeys[role]), ...SCALAR_ALIASES[role]]) names.add(name.toLowerCase());
    for (const name of SCALAR_ALIASES[role]) sepForms.add(sepForm(name));
  }
  // the same patterns, in the same order and number, as resolveKeys compiles for layers
  const patterns: KeyPattern[] = [];
  let patternBudget = LIMITS.keyPatternsMax.value;
  for (const field of ["update_ratio", "act_mean", "act_std", "saturated_frac", "dead_frac", "grad_std", "grad_norm", "weight_mean", "weight_std"]) {
    for (const p of asList(userKeys[field])) {
      if (patternBudget <= 0) break;
      const re = compileKeyPattern(p);
      if (re) {
        patternBudget--;
        patterns.push(re);
      }
    }
  }
  // an accuracy with a percent unit in its name: resolveKeys reads it when no exact alias is logged
  const accNames = new Set([...SCALAR_ALIASES.train_acc, ...SCALAR_ALIASES.val_acc].map((a) => a.toLowerCase()));
  const percentAcc = (key: string) => {
    const l = key.toLowerCase();
    const bare = l.replace(PERCENT_SUFFIX, "");
    return bare !== l && accNames.has(bare);
  };
  return (key) =>
    names.has(key.toLowerCase()) ||
    sepForms.has(sepForm(key)) ||
    LIGHTNING_LR.test(key) ||
    percentAcc(key) ||
    // a loss or accuracy named by its shape ("train/nll", "val/char_acc"): resolveKeys reads it when no alias is logged
    lossKeyShape(key) !== null ||
    patterns.some((p) => matchKeyPattern(p, key) !== null) ||
    LAYER_PATTERNS.some((p) => p.re.test(key));
}
