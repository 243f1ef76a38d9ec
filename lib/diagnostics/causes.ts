// Root cause first: which diagnoses follow from which, so that a symptom (a dead-ReLU share, a
// diverged loss) is shown under the problem that produced it (a too-high learning rate) instead of
// above it. Pure and dependency-free: the server (diagnose(), the alerts API, socket events), the
// alerts panel in the browser and the checklist use these relations (CAUSES, MISREADS). The reasoning behind each row is in
// docs/diagnostics.md ("Root causes and symptoms").

/** cause -> the diagnoses it produces. A DAG (tests check): no code is its own (indirect) cause. */
export const CAUSES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // upstream problems: setup, data, hyperparameters
  input_not_normalized: ["saturated_activations", "exploding_gradients", "vanishing_gradients", "dead_relu", "bad_initial_loss", "divergence"],
  lr_too_high: ["divergence", "exploding_gradients", "dead_relu", "noisy_loss", "saturated_activations", "loss_plateau", "no_learning"],
  lr_too_low: ["loss_plateau", "underfitting", "no_learning"],
  symmetric_init: ["no_learning", "loss_plateau", "underfitting", "dead_relu", "vanishing_gradients"],
  unshuffled_data: ["noisy_loss", "dead_relu", "saturated_activations", "loss_plateau"],
  loss_output_mismatch: ["bad_initial_loss", "loss_plateau", "underfitting", "no_learning", "overfit_sanity_failed", "noisy_loss"],
  gradcheck_failed: ["overfit_sanity_failed", "no_learning", "loss_plateau", "underfitting"],
  train_val_mismatch: ["overfitting"],
  // a penalty that shrinks the weights caps the fit; a net held at its prior answers the majority class
  over_regularization: ["underfitting", "loss_plateau", "majority_class"],
  // a badly scaled init (what bad_initial_loss measures) saturates or kills units and scales gradients
  bad_initial_loss: ["saturated_activations", "dead_relu", "exploding_gradients", "vanishing_gradients"],
  // mechanisms inside the net
  saturated_activations: ["vanishing_gradients", "no_learning", "loss_plateau", "underfitting"],
  dead_relu: ["no_learning", "loss_plateau", "underfitting", "overfit_sanity_failed"],
  vanishing_gradients: ["no_learning", "loss_plateau", "underfitting", "overfit_sanity_failed"],
  exploding_gradients: ["divergence", "noisy_loss"],
  // outcomes that explain other outcomes
  no_learning: ["loss_plateau", "underfitting", "overfit_sanity_failed"],
  majority_class: ["loss_plateau", "underfitting"],
  overfit_sanity_failed: ["underfitting"],
  loss_plateau: ["underfitting"],
});

/**
 * cause -> findings it makes other rules misread: not a chain of causes (a diverged run's pinned
 * accuracy is no majority class, zero updates of dead units are no low learning rate), so never
 * followed transitively and never a fold of active alerts. diagnose() hides these findings while their
 * cause is active (index.ts SUPPRESSED_BY: every pair it hides is a CAUSES or a MISREADS relation, tests
 * check); the checklist folds such a hidden finding under the cause that explains it.
 */
export const MISREADS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // identical units all move alike: their update ratios read as a learning-rate problem either way
  symmetric_init: ["lr_too_low", "lr_too_high"],
  // units (or early layers) that get no gradient have update ratios of ~0 whatever the learning rate
  dead_relu: ["lr_too_low"],
  vanishing_gradients: ["lr_too_low"],
  // a diverged run's shrunken, frozen or pinned numbers say nothing about the rate, the fit, a penalty or the prior
  divergence: ["lr_too_low", "loss_plateau", "noisy_loss", "underfitting", "overfitting", "no_learning", "over_regularization", "majority_class"],
  // the floored loss stops falling (not a too-low rate) and is no constant answer's (not the prior)
  loss_output_mismatch: ["lr_too_low", "majority_class"],
  // validation at chance because its inputs are processed differently, while training learns
  train_val_mismatch: ["no_learning"],
  // validation never left chance: a widening train/val gap is memorized noise, not overfitting
  no_learning: ["overfitting"],
});

const RANK: Record<string, number> = { info: 0, warning: 1, critical: 2 };
const rank = (s: string) => RANK[s] ?? -1;

/** Every code that causes `code`, directly or through other codes (active or not). */
function ancestorsOf(): Map<string, Set<string>> {
  const parents = new Map<string, string[]>();
  for (const [cause, symptoms] of Object.entries(CAUSES))
    for (const s of symptoms) {
      const p = parents.get(s) ?? [];
      p.push(cause);
      parents.set(s, p);
    }
  const out = new Map<string, Set<string>>();
  for (const code of parents.keys()) {
    const seen = new Set<string>();
    const todo = [...(parents.get(code) ?? [])];
    while (todo.length) {
      const c = todo.pop()!;
      if (seen.has(c)) continue;
      seen.add(c);
      todo.push(...(parents.get(c) ?? []));
    }
    out.set(code, seen);
  }
  return out;
}

const ANCESTORS = ancestorsOf();

/** Whether `cause` produces `symptom`, directly or through a chain of other diagnoses. */
export function causes(cause: string, symptom: string): boolean {
  return ANCESTORS.get(symptom)?.has(cause) ?? false;
}

/** Whether `cause` makes `finding` a misreading (MISREADS: direct only). */
export function misreads(cause: string, finding: string): boolean {
  return MISREADS[cause]?.includes(finding) ?? false;
}

/**
 * The active alert a finding that is not itself on the page (diagnose() hid it) belongs under: the
 * root cause the panel would fold it under (an active alert that causes it, directly or through other
 * diagnoses, and that no other active alert causes), else an active alert it is a misreading of; the
 * first in `active`'s order (the panel's: most severe first) when several qualify. Null when none.
 */
export function foldedUnder(finding: string, active: Iterable<string>): string | null {
  const codes = [...active].filter((c) => c !== finding);
  const activeSet = new Set(codes);
  const isRoot = (c: string) => ![...(ANCESTORS.get(c) ?? [])].some((x) => activeSet.has(x));
  const root = codes.find((c) => causes(c, finding) && isRoot(c));
  if (root) return root;
  const cause = codes.find((c) => causes(c, finding)) ?? codes.find((c) => misreads(c, finding));
  if (!cause) return null;
  // a misread finding goes where its explaining alert is shown: under that alert's own root, if any
  return codes.find((c) => causes(c, cause) && isRoot(c)) ?? cause;
}

export interface Related {
  /** the root cause this alert follows from (absent on a root cause) */
  causedBy?: string;
  /** on a root cause: the codes of the alerts that follow from it, in display order */
  symptoms?: string[];
}

interface Item {
  code: string;
  severity: string;
  status?: string;
}

/**
 * Relates alerts that are active together and orders them root cause first: each root cause (an
 * active alert no other active alert causes) is followed by its symptoms; roots by severity (most
 * severe first), symptoms likewise. A symptom never sorts above its cause, however severe. Each
 * symptom points at ONE root (the most severe of its active ancestors, ties by the given order),
 * so the panel folds a one-level tree. Resolved alerts (status "resolved") take no part and come
 * last, in the given order. Ties keep the given order.
 */
export function rootCauseOrder<T extends Item>(items: readonly T[]): (T & Related)[] {
  const active = items.filter((a) => a.status !== "resolved");
  const resolved = items.filter((a) => a.status === "resolved");
  const pos = new Map(active.map((a, i) => [a.code, i]));
  const bySeverity = (a: Item, b: Item) => rank(b.severity) - rank(a.severity) || pos.get(a.code)! - pos.get(b.code)!;
  const activeCodes = new Set(active.map((a) => a.code));
  const rootOf = new Map<string, string>();
  for (const a of active) {
    const anc = ANCESTORS.get(a.code);
    if (!anc) continue;
    // roots among the active ancestors: those no other active alert causes
    const roots = active.filter((c) => c.code !== a.code && anc.has(c.code) && ![...(ANCESTORS.get(c.code) ?? [])].some((x) => activeCodes.has(x)));
    if (roots.length) rootOf.set(a.code, roots.sort(bySeverity)[0].code);
  }
  const out: (T & Related)[] = [];
  for (const root of active.filter((a) => !rootOf.has(a.code)).sort(bySeverity)) {
    const symptoms = active.filter((a) => rootOf.get(a.code) === root.code).sort(bySeverity);
    out.push(symptoms.length ? { ...plain(root), symptoms: symptoms.map((s) => s.code) } : plain(root));
    for (const s of symptoms) out.push({ ...plain(s), causedBy: root.code });
  }
  for (const r of resolved) out.push(plain(r));
  return out;
}

/** A copy without a relation it may carry from an earlier answer (it is recomputed here). */
function plain<T extends Item>(a: T): T & Related {
  const { causedBy: _c, symptoms: _s, ...rest } = a as T & Related;
  return rest as T & Related;
}
