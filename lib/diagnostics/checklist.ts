// The babysitting checklist (cs231n's "babysitting the learning process"): for every run, each check a
// careful person makes reads passed (the rule behind it could judge and found nothing, with the number
// it read), raised (its alert), or unknown (the data it needs is not there, with the one call that
// would bring it). Computed from the same data the rules read (RunData as lib/alerts holds it), never
// from new memory. "passed" is never said without the data: each item first asks whether its rules
// had what they need.

import { buildContext, type Context, type Rule } from "./context";
import { foldedUnder } from "./causes";
import { DIAGNOSIS_CODES, RULES } from "./index";
import { isValid } from "./hist";
import { layerRecent } from "./layers";
import { expectedInitialLoss } from "./rules/bad-initial-loss";
import { GRADCHECK_TYPES, gradcheckEntries } from "./rules/gradcheck-failed";
import { latestInputStats, numberList } from "./rules/input-not-normalized";
import { isOverfitSanityRun } from "./rules/overfit-sanity-failed";
import { finiteSample, fmt, median } from "./series";
import type { Diagnosis, RunData } from "./types";

export type ChecklistState = "passed" | "raised" | "unknown";

export interface ChecklistItem {
  id: string;
  title: string;
  state: ChecklistState;
  /** passed: the number that passed it; raised: the alert's headline; unknown: what is missing */
  evidence: string;
  /** raised: the code of the alert on the page: the item's code that is raised, or the root cause it is folded under */
  alert: string | null;
  /** every alert code this item stands for */
  codes: string[];
  /** unknown: the one call that would make it checkable (null when no call can) */
  how: string | null;
}

export interface ChecklistSummary {
  passed: number;
  raised: number;
  unknown: number;
  /** the raised items' alert codes, in checklist order, each once */
  raisedCodes: string[];
  /** "7 passed, 1 raised (lr_too_high), 3 not checkable": the SDKs print this line at finish() */
  text: string;
}

export interface ChecklistInput {
  /** codes of the run's active alerts (what the alerts panel shows); without it, diagnose(run)'s */
  active?: Iterable<string>;
  /** image keys the run logged (images are not part of RunData: the diagnostics never hold them) */
  imageKeys?: readonly string[];
  /** the run's id: an imported run's (`imp-...`) gets advice about its logs, not SDK calls */
  runId?: string;
}

/** Where a run's data came from: the SDK, an import of log files, or `babysit run` (a command's output). */
export function runOrigin(run: RunData, runId?: string): "sdk" | "import" | "command" {
  if (typeof runId === "string" && runId.startsWith("imp-")) return "import";
  const c = run.config;
  return c && typeof c.command === "string" && Array.isArray(c.argv) ? "command" : "sdk";
}

/**
 * Items whose "how" is an SDK call (it needs the model or the batch in hand): what a run without the
 * SDK (imported logs, a command's output) would need in its logs instead.
 */
const NOT_SDK_HOW: ReadonlyMap<string, string> = new Map([
  ["gradient_check", "a gradient check needs the model itself: stream the run with the SDK (`gradcheck(model, x, loss_fn)`)"],
  ["input_preprocessing", "log the inputs' per-feature mean and std (an `input_stats` event), or stream the run with the SDK (`log_input_stats(x)`)"],
  [
    "initialization",
    "log `weight/<layer>/std` and `grad/<layer>/std` from the first step, or stream the run with the SDK (`watch(model, optimizer)`)",
  ],
  ["update_ratios", "log update ratios (`update_ratio/<layer>`: |Δw| / |w| per update), or stream the run with the SDK (`watch(model, optimizer)`)"],
  [
    "activations_gradients",
    "log `act/<layer>/mean`, `act/<layer>/std` and `grad/<layer>/std`, or stream the run with the SDK (`watch(model, optimizer)`)",
  ],
  ["first_layer_filters", "log the first layer's weights as an image (e.g. `filters/conv1`), or stream the run with the SDK"],
]);

interface Judged {
  checkable: boolean;
  evidence: string;
  how: string | null;
}

interface ItemDef {
  id: string;
  title: string;
  codes: string[];
  judge(ctx: Context, input: ChecklistInput): Judged;
  /**
   * A finding of another item's rule that is this item's too: the code, when its diagnosis (as the
   * rule gives it now) is of this item's kind. train_val_mismatch read from the input statistics is
   * a preprocessing fault: "Input preprocessing: passed" beside it contradicted the alert.
   */
  alsoRaisedBy?(fires: (code: string) => Diagnosis | null): string | undefined;
}

const WATCH = "call `watch(model, optimizer)`";
const yes = (evidence: string): Judged => ({ checkable: true, evidence, how: null });
const no = (evidence: string, how: string | null): Judged => ({ checkable: false, evidence, how });
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const ITEMS: ItemDef[] = [
  {
    id: "initial_loss",
    title: "Initial loss vs chance",
    codes: ["bad_initial_loss"],
    judge(ctx, input) {
      const lp = ctx.loss();
      if (!lp || !Number.isFinite(lp.first)) return no("no training loss logged yet", "log `train/loss` from step 0");
      const C = ctx.numClasses;
      if (C === null) {
        // an imported run or a command's has no config a person can add to: say where it could come from
        const origin = runOrigin(ctx.run, input.runId);
        const how =
          origin === "sdk"
            ? "set `num_classes` in the run config"
            : origin === "import"
              ? "not checkable from imported logs without `num_classes` among their hyperparameters (TensorBoard hparams), or stream the run with the SDK with `num_classes` in its config"
              : "not checkable from a command's output: stream the run with the SDK with `num_classes` in its config";
        return no(`first loss ${fmt(lp.first)}, but the number of classes is unknown`, how);
      }
      if (lp.firstStep > ctx.t.initial_loss_max_step) {
        return no(
          `the first loss was logged at step ${lp.firstStep}, after the first updates`,
          "log `train/loss` at step 0, before the first update",
        );
      }
      const expected = expectedInitialLoss(ctx.run.config ?? {}, C);
      if (!expected || !(expected.value > 0)) return no("the loss is not a classification loss: it has no chance level", null);
      const formula = expected.formula.startsWith("ln C") ? `ln ${C}` : expected.formula.startsWith("C - 1") ? `${C} - 1` : "ln 2";
      return yes(`initial loss ${fmt(lp.first)} vs ${formula} = ${fmt(expected.value)}`);
    },
  },
  {
    id: "gradient_check",
    title: "Gradient check",
    codes: ["gradcheck_failed"],
    judge(ctx) {
      const latest = new Map<string, number>();
      for (const e of ctx.run.events) {
        if (!GRADCHECK_TYPES.has(e.type)) continue;
        for (const x of gradcheckEntries(e)) latest.set(x.param, x.error);
      }
      if (latest.size === 0) return no("no gradient check logged", "call `gradcheck(model, x, loss_fn)`");
      const worst = Math.max(...latest.values());
      return yes(`worst relative error ${fmt(worst)} over ${plural(latest.size, "parameter")} (at most ${fmt(ctx.t.gradcheck_warn)})`);
    },
  },
  {
    id: "overfit_tiny",
    title: "Overfit a tiny subset",
    codes: ["overfit_sanity_failed"],
    judge(ctx) {
      if (!isOverfitSanityRun(ctx.run.config)) {
        return no("this is not a sanity run", 'run ~20 examples with config `sanity: "overfit_tiny"` (regularization off)');
      }
      if (!ctx.run.finished) return no("a sanity run is judged when it ends", "call `finish()`");
      const acc = ctx.keys.scalars.train_acc;
      if (acc && acc.s.values.length > 0) {
        const n = acc.s.values.length;
        const final = Math.max(...finiteSample(acc.s.values, Math.max(0, n - 3), n)) * ctx.accScale("train_acc");
        if (Number.isFinite(final)) return yes(`final train accuracy ${fmt(final)} (at least ${fmt(ctx.t.sanity_train_acc)})`);
      }
      const lp = ctx.loss();
      if (lp && lp.initial > 0 && Number.isFinite(lp.tail)) return yes(`final loss ${fmt(lp.tail)} from ${fmt(lp.initial)}`);
      return no("no training loss or accuracy logged", "log `train/acc` or `train/loss`");
    },
  },
  {
    id: "input_preprocessing",
    title: "Input preprocessing",
    codes: ["input_not_normalized"],
    judge(ctx) {
      const ev = latestInputStats(ctx.run.events, "train");
      const mean = numberList(ev?.data?.mean);
      const std = numberList(ev?.data?.std);
      if (!ev || !mean || !std || mean.length !== std.length) return no("no input statistics logged", "call `log_input_stats(x)`");
      const m = median(mean.filter(Number.isFinite).map(Math.abs));
      const s = median(std.filter(Number.isFinite));
      const val = numberList(latestInputStats(ctx.run.events, "val")?.data?.mean);
      // whether the validation inputs were compared too: without them a validation set preprocessed
      // differently goes unseen, and the item says so rather than passing in silence
      const vs = val
        ? val.length === mean.length
          ? `; validation inputs compared over ${plural(val.length, "feature")}`
          : `; validation inputs have ${plural(val.length, "feature")}, not comparable`
        : '; validation inputs not logged (evaluate after `model.eval()` with `watch()`, or `log_input_stats(x_val, split="val")`)';
      return yes(`typical |mean| ${fmt(m)}, typical std ${fmt(s)} over ${plural(mean.length, "feature")}${vs}`);
    },
    alsoRaisedBy(fires) {
      const d = fires("train_val_mismatch");
      return d && "features_off" in d.evidence ? "train_val_mismatch" : undefined;
    },
  },
  {
    id: "initialization",
    title: "Initialization",
    codes: ["symmetric_init"],
    judge(ctx) {
      const t = ctx.t;
      let atInit = 0;
      for (const f of ctx.keys.layers.values()) {
        const ws = f.weight_std?.s;
        if (!ws) continue;
        const i0 = ws.values.findIndex(Number.isFinite);
        if (i0 >= 0 && ws.steps[i0] <= t.initial_loss_max_step) atInit++;
      }
      for (const [layer, { records }] of ctx.keys.hists.weight_hist) {
        if (ctx.keys.layers.get(layer)?.weight_std) continue;
        const first = records.find(isValid);
        if (first && first.step <= t.initial_loss_max_step) atInit++;
      }
      if (atInit > 0) return yes(`weights at init differ within each of ${plural(atInit, "layer")}`);
      const grads = new Set([...layerRecent(ctx, "grad_std"), ...layerRecent(ctx, "grad_norm")].map((g) => g.layer));
      if (grads.size > 0) return yes(`gradients reach ${plural(grads.size, "layer")}`);
      return no("no per-layer weight or gradient statistics", `${WATCH} before the first step`);
    },
  },
  {
    id: "update_ratios",
    title: "Update/weight ratios ~1e-3",
    codes: ["lr_too_high", "lr_too_low"],
    judge(ctx) {
      const ur = layerRecent(ctx, "update_ratio");
      if (ur.length === 0) return no("no update/weight ratios logged", WATCH);
      const m = median(ur.map((x) => x.recent));
      return yes(
        `median update/weight ratio ${fmt(m)} over ${plural(ur.length, "layer")} (alerts below ${fmt(ctx.t.update_ratio_low)} or above ${fmt(ctx.t.update_ratio_high)})`,
      );
    },
  },
  {
    id: "activations_gradients",
    title: "Activation and gradient distributions",
    codes: ["dead_relu", "saturated_activations", "vanishing_gradients", "exploding_gradients"],
    judge(ctx) {
      const act = new Set<string>();
      for (const f of ["dead_frac", "saturated_frac", "act_std", "act_mean"] as const) for (const x of layerRecent(ctx, f)) act.add(x.layer);
      for (const layer of ctx.keys.hists.act_hist.keys()) act.add(layer);
      const grad = new Set<string>();
      for (const f of ["grad_norm", "grad_std"] as const) for (const x of layerRecent(ctx, f)) grad.add(x.layer);
      for (const layer of ctx.keys.hists.grad_hist.keys()) grad.add(layer);
      if (act.size === 0 && grad.size === 0) return no("no per-layer activation or gradient statistics", WATCH);
      const parts: string[] = [];
      const dead = layerRecent(ctx, "dead_frac");
      if (act.size) {
        parts.push(
          `activations of ${plural(act.size, "layer")}` +
            (dead.length ? ` (dead at most ${Math.round(100 * Math.max(...dead.map((d) => d.recent)))}%)` : ""),
        );
      } else parts.push("activations not logged");
      parts.push(grad.size ? `gradients of ${plural(grad.size, "layer")}` : "gradients not logged");
      return yes(parts.join(", "));
    },
  },
  {
    id: "train_val",
    title: "Train vs validation curves",
    codes: ["overfitting", "underfitting", "train_val_mismatch", "over_regularization", "majority_class"],
    judge(ctx) {
      const k = ctx.keys.scalars;
      // a matching pair first (accuracy with accuracy, loss with loss): "loss/train 0.475 vs
      // Accuracy/val 0.886" compares nothing
      const [val, train] =
        k.val_acc && k.train_acc
          ? [k.val_acc, k.train_acc]
          : k.val_loss && k.train_loss
            ? [k.val_loss, k.train_loss]
            : [k.val_acc ?? k.val_loss, k.train_acc ?? k.train_loss];
      if (!val) return no("no validation metric logged", "log `val/loss` and `val/acc` at each evaluation");
      if (!train) return no("no training metric logged", "log `train/loss`");
      const evals = val.s.values.filter(Number.isFinite).length;
      if (evals < ctx.t.min_evals)
        return no(`${evals} of ${ctx.t.min_evals} evaluations so far`, `log \`${val.key}\` at ${ctx.t.min_evals} evaluations or more`);
      const last = (xs: number[]) => {
        for (let i = xs.length - 1; i >= 0; i--) if (Number.isFinite(xs[i])) return xs[i];
        return NaN;
      };
      const isAcc = val === k.val_acc && train === k.train_acc;
      const sv = isAcc ? ctx.accScale("val_acc") : 1;
      const st = isAcc ? ctx.accScale("train_acc") : 1;
      return yes(`${train.key} ${fmt(last(train.s.values) * st)} vs ${val.key} ${fmt(last(val.s.values) * sv)} over ${plural(evals, "evaluation")}`);
    },
  },
  {
    id: "loss_shape",
    title: "Learning rate and loss shape",
    codes: ["divergence", "loss_plateau", "noisy_loss", "no_learning", "loss_output_mismatch", "unshuffled_data", "lr_too_high", "lr_too_low"],
    judge(ctx) {
      const lp = ctx.loss();
      const need = ctx.t.plateau_min_points;
      if (!lp) return no("no training loss logged", "log `train/loss` every step");
      if (lp.n < need) return no(`${lp.n} of ${need} loss points so far`, "log `train/loss` every step");
      return yes(`loss ${fmt(lp.initial)} → ${fmt(lp.recent)} over ${plural(lp.n, "point")}`);
    },
  },
  {
    id: "first_layer_filters",
    title: "First-layer filters",
    codes: [],
    judge(_ctx, input) {
      const keys = input.imageKeys ?? [];
      // babysit does not judge pictures: logged filters are for a person to look at, so this item
      // never reads "passed"
      if (keys.length) {
        return no(
          `${plural(keys.length, "image key")} logged (${keys.slice(0, 3).join(", ")}): look at them for smooth, varied filters; babysit does not judge pictures`,
          null,
        );
      }
      return no("no images logged", 'call `log_image("filters/conv1", filters_grid(model.conv1.weight))`');
    },
  },
];

export const CHECKLIST_IDS: readonly string[] = ITEMS.map((i) => i.id);

/**
 * Every checklist item for a run. A rule that finds something the alerts hide under their root cause
 * (index.ts SUPPRESSED_BY) still makes its item "raised": the item did not pass, and it leads to the
 * alert the finding belongs under (causes.ts foldedUnder: the panel's root cause, or the alert it is a
 * misreading of).
 */
export function checklist(run: RunData, input: ChecklistInput = {}): ChecklistItem[] {
  const ctx = buildContext(run);
  const disabled = new Set<string>(
    Array.isArray(run.config?.babysit?.disable) ? run.config.babysit.disable.filter((x: unknown) => typeof x === "string") : [],
  );
  const rules = new Map<string, Rule>(RULES.map((r) => [r.code, r]));
  const fired = new Map<string, Diagnosis | null>();
  const fires = (code: string): Diagnosis | null => {
    if (!fired.has(code)) {
      let d: Diagnosis | null = null;
      const rule = rules.get(code);
      if (rule && !disabled.has(code)) {
        try {
          d = rule.evaluate(ctx);
        } catch {
          d = null;
        }
      }
      fired.set(code, d);
    }
    return fired.get(code) ?? null;
  };
  const active = input.active ? new Set(input.active) : null;
  const origin = runOrigin(run, input.runId);
  const from = origin === "import" ? "imported logs" : "a command's output";
  return ITEMS.map((item): ChecklistItem => {
    const base = { id: item.id, title: item.title, codes: item.codes };
    const raised = item.codes.find((c) => active?.has(c)) ?? item.codes.find((c) => fires(c) !== null) ?? item.alsoRaisedBy?.(fires);
    if (raised) {
      const d = fires(raised);
      // found, but folded under its root cause: the item leads to the cause's alert, the one on the page
      const cause = active && !active.has(raised) ? (foldedUnder(raised, active) ?? undefined) : undefined;
      const evidence = (d?.title ?? raised) + (cause ? ` (${raised}, folded under ${cause})` : "");
      return { ...base, state: "raised", alert: cause ?? raised, evidence, how: null };
    }
    let j: Judged;
    try {
      j = item.judge(ctx, input);
    } catch {
      j = no("could not be read", null);
    }
    const known = item.codes.filter((c) => DIAGNOSIS_CODES.includes(c));
    if (j.checkable && known.length > 0 && known.every((c) => disabled.has(c))) {
      return { ...base, state: "unknown", alert: null, evidence: `${known.join(", ")} disabled in config.babysit.disable`, how: null };
    }
    // an SDK call is no advice for a run made without the SDK: say what its logs would need instead
    const instead = !j.checkable && j.how !== null && origin !== "sdk" ? NOT_SDK_HOW.get(item.id) : undefined;
    const how = instead ? `not checkable from ${from}: ${instead}` : j.how;
    return { ...base, state: j.checkable ? "passed" : "unknown", alert: null, evidence: j.evidence, how };
  });
}

export function checklistSummary(items: readonly ChecklistItem[]): ChecklistSummary {
  const passed = items.filter((i) => i.state === "passed").length;
  const raisedItems = items.filter((i) => i.state === "raised");
  const unknown = items.filter((i) => i.state === "unknown").length;
  const raisedCodes = [...new Set(raisedItems.map((i) => i.alert!).filter(Boolean))];
  const text =
    `${passed} passed, ${raisedItems.length} raised` + (raisedCodes.length ? ` (${raisedCodes.join(", ")})` : "") + `, ${unknown} not checkable`;
  return { passed, raised: raisedItems.length, unknown, raisedCodes, text };
}
