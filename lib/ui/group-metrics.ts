// Which logged keys share a chart on the run page. Train and validation curves of one quantity go
// together (train/loss with val/loss, loss with val_loss), per-layer families are drawn one line
// per layer (all update ratios on one chart, one chart per activation/gradient/weight statistic),
// every other key gets a chart of its own. `epoch` is an x axis, not a chart.

import { naturalCompare } from "./natural-sort";

export type Section = "Metrics" | "Update ratios" | "Activations" | "Gradients" | "Weights";
export const SECTIONS: readonly Section[] = ["Metrics", "Update ratios", "Activations", "Gradients", "Weights"];

export interface GroupLine {
  key: string;
  label: string;
}

export interface MetricGroup {
  id: string;
  title: string;
  section: Section;
  lines: GroupLine[];
  /** Start on a log y axis (update ratios span decades). */
  logDefault: boolean;
  /** A faint horizontal reference, e.g. 1e-3 for update ratios. */
  refLine?: number;
}

export const X_AXIS_KEYS = new Set(["epoch"]);

// Maps, never plain objects: what indexes them comes from metric keys (a key may be `constructor`)
const SPLITS = new Map([
  ["train", "train"],
  ["training", "train"],
  ["val", "val"],
  ["valid", "val"],
  ["validation", "val"],
  ["eval", "eval"],
  ["test", "test"],
]);
const SPLIT_ORDER = ["", "train", "val", "eval", "test"];
const SPLIT_RE = "(train|training|val|valid|validation|eval|test)";
const PREFIXED = new RegExp(`^${SPLIT_RE}[/_](.+)$`, "i");
const SUFFIXED = new RegExp(`^(.+?)[/_]${SPLIT_RE}$`, "i");

/** The split (train/val/eval/test, "" for none) and the quantity a scalar key measures. */
export function splitOf(key: string): { split: string; base: string } {
  let m = PREFIXED.exec(key);
  if (m) return { split: SPLITS.get(m[1].toLowerCase()) ?? "", base: normBase(m[2]) };
  m = SUFFIXED.exec(key);
  if (m) return { split: SPLITS.get(m[2].toLowerCase()) ?? "", base: normBase(m[1]) };
  return { split: "", base: normBase(key) };
}

function normBase(s: string): string {
  const b = s.toLowerCase();
  return b === "accuracy" ? "acc" : b;
}

interface Family {
  section: Exclude<Section, "Metrics">;
  re: RegExp;
  /** Chart within the family (a statistic) and the line label (the layer). */
  parse: (m: RegExpExecArray) => { chart: string; layer: string };
}

const FAMILIES: Family[] = [
  { section: "Update ratios", re: /^update_ratios?\/(.+)$/i, parse: (m) => ({ chart: "update_ratio", layer: m[1] }) },
  { section: "Activations", re: /^act(?:s|ivations?)?\/(.+)\/([^/]+)$/i, parse: (m) => ({ chart: m[2].toLowerCase(), layer: m[1] }) },
  { section: "Gradients", re: /^grad_norm\/(.+)$/i, parse: (m) => ({ chart: "norm", layer: m[1] }) },
  { section: "Gradients", re: /^grad(?:s|ients?)?\/(.+)\/([^/]+)$/i, parse: (m) => ({ chart: m[2].toLowerCase(), layer: m[1] }) },
  { section: "Weights", re: /^weights?\/(.+)\/([^/]+)$/i, parse: (m) => ({ chart: m[2].toLowerCase(), layer: m[1] }) },
];

const STAT_TITLES = new Map<string, ReadonlyMap<string, string>>([
  ["Update ratios", new Map([["update_ratio", "update ratio (|Δw| / |w|) per layer"]])],
  [
    "Activations",
    new Map([
      ["mean", "activation mean"],
      ["std", "activation std"],
      ["dead_frac", "dead fraction"],
      ["saturated_frac", "saturated fraction"],
    ]),
  ],
  [
    "Gradients",
    new Map([
      ["norm", "gradient norm"],
      ["std", "gradient std"],
      ["mean", "gradient mean"],
    ]),
  ],
  [
    "Weights",
    new Map([
      ["norm", "weight norm"],
      ["std", "weight std"],
      ["mean", "weight mean"],
    ]),
  ],
]);
const FAMILY_PREFIX = new Map([
  ["Activations", "act"],
  ["Gradients", "grad"],
  ["Weights", "weight"],
  ["Update ratios", ""],
]);

const natural = { compare: naturalCompare };

export function groupMetrics(keys: readonly string[]): MetricGroup[] {
  const layerCharts = new Map<string, MetricGroup>();
  const scalars: string[] = [];
  for (const key of [...new Set(keys)].sort(natural.compare)) {
    if (X_AXIS_KEYS.has(key)) continue;
    let placed = false;
    for (const f of FAMILIES) {
      const m = f.re.exec(key);
      if (!m) continue;
      const { chart, layer } = f.parse(m);
      const id = `${f.section}:${chart}`;
      let g = layerCharts.get(id);
      if (!g) {
        const title = STAT_TITLES.get(f.section)?.get(chart) ?? `${FAMILY_PREFIX.get(f.section) ?? ""} ${chart}`;
        const ratio = f.section === "Update ratios";
        g = { id: slug(id), title, section: f.section, lines: [], logDefault: ratio, ...(ratio ? { refLine: 1e-3 } : {}) };
        layerCharts.set(id, g);
      }
      g.lines.push({ key, label: layer });
      placed = true;
      break;
    }
    if (!placed) scalars.push(key);
  }

  // Scalars: keys of one quantity share a chart when at least one of them names a split.
  const byBase = new Map<string, { key: string; split: string }[]>();
  for (const key of scalars) {
    const { split, base } = splitOf(key);
    if (!byBase.has(base)) byBase.set(base, []);
    byBase.get(base)!.push({ key, split });
  }
  const metric: MetricGroup[] = [];
  for (const [base, members] of byBase) {
    const paired = members.length > 1 && members.some((m) => m.split);
    const charts = paired ? [members] : members.map((m) => [m]);
    for (const ms of charts) {
      ms.sort((a, b) => SPLIT_ORDER.indexOf(a.split) - SPLIT_ORDER.indexOf(b.split) || natural.compare(a.key, b.key));
      const title = ms.length > 1 ? base : ms[0].key;
      metric.push({ id: slug(`m:${title}`), title, section: "Metrics", lines: ms.map((m) => ({ key: m.key, label: m.key })), logDefault: false });
    }
  }
  metric.sort((a, b) => rank(a.title) - rank(b.title) || natural.compare(a.title, b.title));

  const rest = [...layerCharts.values()].sort(
    (a, b) => SECTIONS.indexOf(a.section) - SECTIONS.indexOf(b.section) || statRank(a.title) - statRank(b.title) || natural.compare(a.title, b.title),
  );
  // ids name DOM nodes and React keys: make them unique even when two titles slug alike
  const seen = new Set<string>();
  return [...metric, ...rest].map((g) => {
    let id = g.id || "chart";
    for (let i = 2; seen.has(id); i++) id = `${g.id}-${i}`;
    seen.add(id);
    return id === g.id ? g : { ...g, id };
  });
}

/** Losses first, then accuracies, then the rest. */
function rank(title: string): number {
  const t = title.toLowerCase();
  if (/loss/.test(t)) return 0;
  if (/acc/.test(t)) return 1;
  return 2;
}

const STAT_ORDER = [
  "dead fraction",
  "saturated fraction",
  "activation mean",
  "activation std",
  "gradient norm",
  "gradient std",
  "weight norm",
  "weight std",
];
function statRank(title: string): number {
  const i = STAT_ORDER.indexOf(title);
  return i < 0 ? STAT_ORDER.length : i;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** The key a compare view opens on: train/loss, else the first loss-like key, else the first key. */
export function defaultCompareKey(keys: readonly string[]): string | undefined {
  const ks = keys.filter((k) => !X_AXIS_KEYS.has(k));
  for (const k of ["train/loss", "loss", "train_loss"]) if (ks.includes(k)) return k;
  return ks.find((k) => /loss/i.test(k) && splitOf(k).split !== "val") ?? ks.find((k) => /loss/i.test(k)) ?? [...ks].sort(natural.compare)[0];
}
