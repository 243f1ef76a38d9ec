// Root cause first: which diagnoses follow from which, so that a symptom (a dead-ReLU share, a
// diverged loss) is shown under the problem that produced it (a too-high learning rate) instead of
// above it. Pure and dependency-free: the server (diagnose(), the alerts API, socket events) and
// the alerts panel in the browser use this one table. The reasoning behind each row is in
// docs/diagnostics.md ("Root causes and symptoms").

/** cause -> the diagnoses it produces. A DAG (tests check): no code is its own (indirect) cause. */
export const CAUSES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // upstream problems: setup, data, hyperparameters
  input_not_normalized: ["saturated_activations", "exploding_gradients", "vanishing_gradients", "dead_relu", "bad_initial_loss", "divergence"],
  lr_too_high: ["divergence", "exploding_gradients", "dead_relu", "noisy_loss", "saturated_activations", "loss_plateau", "no_learning"],
  lr_too_low: ["loss_plateau", "underfitting", "no_learning"],
  symmetric_init: ["no_learning", "loss_plateau", "underfitting", "dead_relu", "vanishing_gradients"],
  unshuffled_data: ["noisy_loss", "dead_relu", "saturated_activations", "loss_plateau"],
  loss_output_mismatch: ["bad_initial_loss", "loss_plateau", "underfitting", "no_learning", "overfit_sanity_failed"],
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
