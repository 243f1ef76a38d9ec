import { type LayerField, type ScalarRole, resolveKeys } from "../diagnostics/keys";
import type { SeriesPoints } from "../diagnostics/types";
import type { MetricGroup } from "./group-metrics";
import { type XMode, xAtStep } from "./x-axis";

// Which charts of the run page an alert is drawn on. Each diagnosis code looks at some roles
// (the training loss, the update ratios, the dead fractions, ...); the charts drawing a key of
// such a role get the marker. Keys get their roles exactly as the diagnostics give them
// (lib/diagnostics/keys.ts, config.babysit.keys included), so a renamed loss still gets its
// marker. When the evidence names a key (`key`, `train_key`, `keys`, ...) or a layer (`layers`,
// `first_layer`, ...), the charts drawing it are preferred over the others of the same role.

type Role = ScalarRole | `layer:${LayerField}`;

/** Roles one part of the evidence lives in; `first`: only the first role that has a chart. */
interface Slot {
  roles: Role[];
  first?: boolean;
}

const LOSS: Slot = { roles: ["train_loss", "val_loss"] };
const ACC: Slot = { roles: ["train_acc", "val_acc"] };
const UPDATE_RATIO: Slot = { roles: ["layer:update_ratio"] };
const GRADIENTS: Slot = { roles: ["grad_norm", "layer:grad_std", "layer:grad_norm"] };

// Maps: alert codes index them, and an unknown code must not find an Object.prototype member
const SLOTS = new Map<string, Slot[]>(
  Object.entries({
    divergence: [LOSS],
    lr_too_high: [LOSS, UPDATE_RATIO],
    lr_too_low: [LOSS, UPDATE_RATIO],
    loss_plateau: [LOSS],
    noisy_loss: [LOSS],
    bad_initial_loss: [{ roles: ["train_loss", "val_loss"], first: true }],
    overfitting: [LOSS, ACC],
    underfitting: [LOSS, ACC],
    overfit_sanity_failed: [{ roles: ["train_acc", "train_loss"], first: true }],
    symmetric_init: [{ roles: ["layer:weight_std", "layer:weight_mean"], first: true }, UPDATE_RATIO],
    saturated_activations: [{ roles: ["layer:saturated_frac", "layer:act_std"], first: true }],
    dead_relu: [{ roles: ["layer:dead_frac"] }],
    vanishing_gradients: [GRADIENTS],
    exploding_gradients: [GRADIENTS],
    no_learning: [LOSS, ACC],
    loss_output_mismatch: [LOSS, ACC],
    train_val_mismatch: [LOSS, ACC],
    unshuffled_data: [LOSS],
    majority_class: [ACC, LOSS],
    over_regularization: [{ roles: ["layer:weight_std"] }, ACC, LOSS],
  }),
);

/** Evidence fields that name a logged key, and those that name layers (comma-separated lists). */
const KEY_FIELDS = ["key", "train_key", "val_key", "keys", "source"];
const LAYER_FIELDS = ["layer", "layers", "high_layers", "low_layers", "first_layer", "last_layer", "source"];

/** Short marker labels; unknown codes show the code itself. */
const SHORT = new Map<string, string>(
  Object.entries({
    divergence: "divergence",
    lr_too_high: "LR too high",
    lr_too_low: "LR too low",
    loss_plateau: "plateau",
    noisy_loss: "noisy loss",
    bad_initial_loss: "initial loss",
    overfitting: "overfitting",
    underfitting: "underfitting",
    overfit_sanity_failed: "sanity check",
    symmetric_init: "symmetric init",
    saturated_activations: "saturated",
    dead_relu: "dead ReLU",
    vanishing_gradients: "vanishing grads",
    exploding_gradients: "exploding grads",
    gradcheck_failed: "gradcheck",
    input_not_normalized: "inputs",
    search_boundary: "search edge",
    no_learning: "no learning",
    loss_output_mismatch: "output vs loss",
    train_val_mismatch: "train/val mismatch",
    unshuffled_data: "unshuffled",
    majority_class: "majority class",
    over_regularization: "over-regularized",
  }),
);

export function alertLabel(code: string): string {
  return SHORT.get(code) ?? code.replace(/_/g, " ");
}

export interface ChartRef {
  id: string;
  lines: readonly { key: string }[];
}

interface KeyRole {
  role: Role;
  layer?: string;
}

/** Charts of a page, indexed by what their keys mean to the diagnostics. */
export interface AlertChartIndex {
  charts: readonly ChartRef[];
  roles: Map<string, KeyRole>;
}

export function alertChartIndex(charts: readonly ChartRef[], config: Record<string, unknown> = {}): AlertChartIndex {
  const series = new Map<string, SeriesPoints>();
  for (const c of charts) for (const l of c.lines) series.set(l.key, { steps: [0], values: [0] });
  const resolved = resolveKeys({ config, series, histograms: new Map(), events: [], finished: false });
  const roles = new Map<string, KeyRole>();
  for (const [role, named] of Object.entries(resolved.scalars)) if (named) roles.set(named.key, { role: role as ScalarRole });
  for (const [layer, fields] of resolved.layers) {
    for (const [field, named] of Object.entries(fields)) if (named) roles.set(named.key, { role: `layer:${field as LayerField}`, layer });
  }
  return { charts, roles };
}

/** The ids of the charts `alert` is drawn on, in page order; [] when no chart shows its evidence. */
export function alertCharts(alert: { code: string; evidence?: unknown }, index: AlertChartIndex): string[] {
  const evidence = evidenceObject(alert.evidence);
  const namedKeys = new Set(KEY_FIELDS.flatMap((f) => listOf(evidence[f])));
  const namedLayers = new Set(LAYER_FIELDS.flatMap((f) => listOf(evidence[f])));
  const draws = (c: ChartRef, pred: (key: string, r: KeyRole | undefined) => boolean) => c.lines.some((l) => pred(l.key, index.roles.get(l.key)));

  const picked = new Set<string>();
  for (const slot of SLOTS.get(alert.code) ?? []) {
    let charts = index.charts.filter((c) => draws(c, (_k, r) => !!r && slot.roles.includes(r.role)));
    const byKey = charts.filter((c) => draws(c, (k, r) => namedKeys.has(k) && !!r && slot.roles.includes(r.role)));
    const byLayer = charts.filter((c) => draws(c, (_k, r) => !!r?.layer && namedLayers.has(r.layer) && slot.roles.includes(r.role)));
    if (byKey.length) charts = byKey;
    else if (byLayer.length) charts = byLayer;
    if (slot.first) {
      const role = slot.roles.find((want) => charts.some((c) => draws(c, (_k, r) => r?.role === want)));
      charts = charts.filter((c) => draws(c, (_k, r) => r?.role === role));
    }
    for (const c of charts) picked.add(c.id);
  }
  // whatever the code, a chart of a key the evidence names shows it (also for codes added later)
  for (const c of index.charts) if (c.lines.some((l) => namedKeys.has(l.key))) picked.add(c.id);
  return index.charts.filter((c) => picked.has(c.id)).map((c) => c.id);
}

/** Same, for one alert and a page's chart groups. */
export function chartsForAlert(
  alert: { code: string; evidence?: unknown },
  groups: readonly Pick<MetricGroup, "id" | "lines">[],
  config?: Record<string, unknown>,
): string[] {
  return alertCharts(alert, alertChartIndex(groups, config));
}

/** Where the marker goes: the step the alert was first raised at. */
export function markerStep(alert: { step: number; firstStep?: number | null }): number {
  return typeof alert.firstStep === "number" && Number.isFinite(alert.firstStep) ? alert.firstStep : alert.step;
}

function evidenceObject(e: unknown): Record<string, unknown> {
  if (typeof e === "string") {
    try {
      return evidenceObject(JSON.parse(e));
    } catch {
      return {};
    }
  }
  return e && typeof e === "object" && !Array.isArray(e) ? (e as Record<string, unknown>) : {};
}

function listOf(v: unknown): string[] {
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return [];
}

/** Marker colours by severity (the page's --crit / --warn / --info). */
export const SEVERITY_COLOR: Record<string, string> = { critical: "#dc2626", warning: "#d97706", info: "#2563eb" };
export const severityColor = (s: string) => (Object.hasOwn(SEVERITY_COLOR, s) ? SEVERITY_COLOR[s] : SEVERITY_COLOR.info);

/** An alert as a chart draws it: a line at x in the severity's colour (faded once resolved) and a labelled flag. */
export interface AlertMarker {
  code: string;
  label: string;
  color: string;
  resolved: boolean;
  x: number;
}

/**
 * The markers of a chart's alerts, each at the step it was first raised on whatever x axis the
 * chart shows (none before the chart has points); resolved first, so active lines are drawn over them.
 */
export function alertMarkers(
  alerts: readonly { code: string; severity: string; status: string; step: number; firstStep?: number | null }[],
  hits: readonly { x: number; step: number }[],
  xMode: XMode,
): AlertMarker[] {
  if (!hits.length) return [];
  const byStep = xMode === "step" ? [] : [...hits].sort((a, b) => a.step - b.step);
  const out: AlertMarker[] = [];
  for (const a of alerts) {
    const step = markerStep(a);
    const x = xMode === "step" ? step : xAtStep(byStep, step);
    if (x === null) continue;
    out.push({ code: a.code, label: alertLabel(a.code), color: severityColor(a.severity), resolved: a.status === "resolved", x });
  }
  return out.sort((a, b) => Number(b.resolved) - Number(a.resolved));
}
