// Every number the rules compare against lives here, so that docs/diagnostics.md, the tests and a
// user's `config.babysit.thresholds` all talk about the same names.

export const DEFAULT_THRESHOLDS = {
  // Evidence gates shared by the rules: below these we stay silent rather than guess.
  min_points: 10, // points in a recent window before a per-step signal counts as "sustained"
  min_evals: 5, // evaluation points (val metrics) before comparing train and val
  recent_frac: 0.2, // "recent window" = last 20% of a series' points (at least min_points)
  // Small batches: a loss point of a batch of 1 is one sample's loss (0.001 or 10 for a model at
  // ln 3); levels read from single points are then noise. The starting level and the levels the
  // divergence tests compare pool at least this many samples: ceil(64 / batch_size) points.
  loss_pool_samples: 64,
  loss_pool_cv: 0.5, // without a batch size: points that differ by > 50% of their level from the
  // very start (a batch of tens of samples varies by a few %) are read as single samples

  // divergence
  divergence_factor: 3, // recent loss level above 3x its starting level = exploding
  divergence_order_factor: 30, // a past stretch above 30x the start is a blow-up even where the data order makes a sawtooth
  collapse_best_frac: 0.5, // loss had reached <= 50% of its start ...
  collapse_return_frac: 0.9, // ... and is now back at >= 90% of its start = training collapsed

  // update / weight ratio (cs231n: ~1e-3 is healthy)
  update_ratio_high: 1e-2,
  update_ratio_extreme: 1e-1,
  update_ratio_low: 1e-5,

  // lr_too_high: loss jumping around a high level
  lr_high_loss_cv: 0.5, // robust step-to-step noise / level of the recent loss
  lr_high_level_frac: 0.5, // recent loss still >= 50% of its start
  lr_high_ur_level_frac: 1.0, // with high update ratios: the loss is not below its start ...
  lr_high_ur_loss_cv: 0.3, // ... or noisier than this (less one standard error of the noise estimate)
  lr_high_settled_frac: 0.1, // a loss down to <= 10% of its start is settled: high ratios alone are no overshooting
  lr_high_sustained_ratio: 3e-2, // ratios above 3e-2 (30x the healthy ~1e-3) in every third of the run ...
  lr_high_sustained_shrink_frac: 0.5, // sustained high ratios: layers whose weights shrank below 50% of
  // their start are left out (weight decay pulling weights down makes every step large relative to them)
  lr_high_peak_ratio: 1, // one logged step that changed half the layers' weights by >= their own size,
  // and the loss never got below lr_high_level_frac of its start (healthy first steps: ~1e-2)
  lr_jump_factor: 3, // the logged lr rose to >= 3x its highest earlier value in one logged step ...
  lr_jump_min_points: 5, // ... after at least 5 logged lr points (not a warmup's first steps)
  lr_jump_undone_frac: 0.33, // ... and the loss then gave back >= a third of its fall from the first loss
  lr_jump_after_points: 3, // ... read as the median of >= 3 loss points after the jump (3 epochs when logged per epoch)

  // lr_too_low
  lr_low_progress_frac: 0.5, // ratios < update_ratio_low matter only while loss is >= 50% of its start
  update_ratio_low_loose: 1e-4, // ratios < 1e-4 count when the run has also barely learned:
  slow_loss_rel: 0.25, //   loss fell by less than 25% of its start, near chance (or acc gain < slow_acc_gain)
  slow_acc_gain: 0.05,
  flat_loss_rel: 0.03, // without update ratios: loss moved by less than 3% of its start ...
  flat_loss_acc_rel: 0.1, // ... or by less than 10% while train accuracy gained < flat_acc_gain
  flat_acc_gain: 0.02,
  flat_loss_min_points: 50, // (or 2 x min_evals accuracy evaluations, for per-epoch logs)
  flat_val_cv: 0.01, // a logged val loss must be smooth too (a dead net at chance level jitters)
  weight_collapse_frac: 0.2, // weight std shrank below 20% of its start: high ratios are not the lr's fault
  lr_collapse_factor: 1e-3, // logged lr below 1e-3 x its peak = collapsed (a scheduler stepped per batch) ...
  lr_collapse_frac: 0.25, // ... for at least 25% of the logged lr points (a cosine schedule ends with ~2%)
  lr_collapse_loss_rel: 0.05, // ... and the loss moved by less than 5% of its level since the collapse
  lr_collapse_fast_frac: 0.1, // ... and it fell from 0.5x to 1e-3x its peak within 10% of the run, or
  // the loss was still falling meanwhile (a cosine schedule takes ~50% of the run for that fall)
  lr_collapse_fast_evals: 5, // ... or within 5 evaluation intervals (~epochs) when val metrics are logged
  lr_collapse_done_frac: 0.1, // ... unless the loss was already <= 10% of its first value (converged)
  lr_cut_factor: 0.1, // logged lr <= 0.1 x its peak ...
  lr_cut_evals: 2, // ... from within the first 2 evaluation intervals (~epochs) to the end, the model short of its data

  // overfitting
  overfit_gap_acc: 0.1, // train acc - val acc
  overfit_gap_se: 3, // ... and more than 3 standard errors of that difference (set sizes from the config or the accuracy's granularity;
  // 3, not 2: a live rule tests at every evaluation, and over tens of them 2 s.e. is crossed by chance)
  overfit_val_loss_rise: 0.1, // val loss 10% above its minimum
  overfit_loss_gap_ratio: 1.2, // val loss >= 1.2x train loss
  overfit_patience_evals: 3, // evals since the best val value
  overfit_patience_frac: 0.2, // and >= 20% of the evaluated span since the best val value

  // underfitting (judged from the run itself: train error that val error mirrors, progress too slow to close it)
  underfit_err_frac: 0.1, // train error >= 10% of an untrained model's error (1 - 1/C), now and where the
  // accuracy curve is heading: the model does not fit its own data ...
  underfit_gap_share: 0.5, // ... and |train acc - val acc| <= 50% of the train error: the val error IS the training error
  underfit_gap_acc: 0.05, // |train acc - val acc| below this is "no gap"
  underfit_slowdown: 0.5, // a creeping curve is projected only when its gain per third of the evaluations
  // at least halved from the middle third to the last (a clear levelling off; early curves are not judged)
  underfit_loss_frac_lnc: 0.5, // without accuracy: train loss >= 0.5 ln C is "poor"
  underfit_loss_gap_rel: 0.1, // |val loss - train loss| / train loss below this is "no gap"
  // a model with >= 1 parameter per training sample (watch()'s model event, config train_size) has the
  // capacity to fit its data: its high training error is the data's, unless a penalty or a weight decay
  // >= 0.01 is named
  underfit_capacity_ratio: 1,
  underfit_capacity_wd: 0.01,
  plateau_delta_acc: 0.01, // no new high of more than 1 accuracy point in the plateau window
  plateau_rel: 0.02, // no new low of more than 2% of the loss in the plateau window
  learned_delta_acc: 0.1, // the model learned something: accuracy rose by >= 10 points
  learned_loss_frac: 0.9, // or loss fell to <= 90% of its start

  // majority_class: accuracy pinned at the majority class's share, loss not below the prior entropy
  majority_tol_frac: 0.1, // accuracy within 10% of the minority share (1 - p) of the majority share p ...
  majority_tol_min: 0.005, // ... or of half an accuracy point, whichever is larger
  majority_share: 0.5, // ... at >= half of the evaluations and at the latest ones
  majority_loss_frac: 0.75, // loss >= 0.75 x the prior entropy: near it (a constant prediction cannot go below it;
  // one that leans a little on the inputs while its answers stay the majority class goes a bit below)
  majority_inferred_loss_frac: 0.9, // inferred: loss >= 0.9 x h(p), the least a constant answer with share p scores
  majority_loss_drift: 0.05, // inferred: the loss fell by >= 5% while the accuracy stayed pinned
  majority_inferred_min_evals: 8, // without label_stats, >= 8 evaluations at the pinned value (a converged net on a
  // small evaluation set also holds one accuracy for a few evaluations: 0.865 on digits for 3 of 5 epochs)
  majority_inferred_max: 0.95, // without label_stats, only accuracies pinned at <= 0.95 (above, a good model
  // on a small evaluation set and a constant answer look alike: log the labels' shares for extreme imbalance)

  // over_regularization: the penalty shrinks the weights and caps the fit
  overreg_shrink_frac: 0.5, // the median layer's recent weight std <= 50% of its start (healthy runs keep or grow it) ...
  overreg_shrink_wd_frac: 0.8, // ... or <= 80% of it when the config sets a weight decay > 0
  overreg_decay_half_life: 50, // or the config's decay alone halves the weights within 50 steps (SGD: lr x wd / (1 - momentum) a step) ...
  overreg_held_err: 0.02, // ... and the training set stays >= 2% wrong, no better than validation
  overreg_loss_frac: 0.2, // loss only: the levelled-off training loss is still >= 20% of its start

  // activations
  saturated_frac: 0.3, // share of tanh/sigmoid outputs at their limits
  dead_frac: 0.3, // share of ReLU units that never fire
  dead_frac_critical: 0.9,
  dead_zero_frac: 0.9, // share of zero activations (histogram, or per-activation dead_frac)
  dead_flicker: 0.03, // a per-batch dead share whose step-to-step noise exceeds 0.03 counts live units
  // missing a batch (small or single-class batches); judged like per-activation zeros
  dead_poor_frac: 0.25, // below dead_frac_critical, dead units count only while the fit is poor: train error
  // >= 25% of an untrained model's (1 - 1/C), or without accuracy a loss >= 50% of its start that stopped falling
  dead_recover_frac: 0.75, // a layer whose dead share fell below 75% of its peak is recovering: units came back
  dead_low_quantile: 0.1, // a unit dead for good is dead on every batch: the layer's dead share is read
  // as this low quantile of its recent per-batch shares (a flickering share is live units missing a batch)

  // whether the run fits its data (dead_relu below dead_frac_critical and loss_plateau speak only when it
  // falls short: dead units in a model that fits cost nothing; a converged run is not a plateau)
  fit_err_frac: 0.1, // train error <= 10% of an untrained model's error (1 - 1/C) = fits
  fit_loss_frac: 0.2, // without accuracy: the loss <= 20% of its start = fits ...
  fit_progress_rel: 0.1, // ... and one that fell >= 10% from the window before the recent one is still learning

  // bad_initial_loss: first loss vs ln C
  initial_loss_high_ratio: 1.5,
  initial_loss_high_nats: 1.0, // ... and >= 1 nat above it (C = 2: 0.69 -> 1.69, not 1.04; logits of std ~1.4 add that)
  initial_loss_low_ratio: 0.5,
  initial_loss_max_step: 10, // the first loss is "initial" only if logged at step <= 10

  // symmetric_init
  symmetric_std_eps: 1e-7, // weight std <= eps * max(1, |mean|) = all weights identical
  zero_grad_eps: 1e-12,

  // input_not_normalized (input_stats event; features with std 0 are ignored)
  input_mean_max: 1.0, // median |feature mean| (standardized inputs have ~0)
  input_mean_std_ratio: 0.5, // ... and median |mean| >= 0.5 x median std
  input_std_max: 10, // median feature std
  input_std_min: 1e-3,
  input_scale_ratio_max: 100, // largest feature std / median feature std (one-hot columns next to
  // standardized ones differ by ~20x; a raw column in the thousands among unit-scale ones by far more)

  // gradcheck_failed (relative error)
  gradcheck_warn: 1e-4,
  gradcheck_fail: 1e-2,

  // loss_plateau
  plateau_window_frac: 0.3, // last 30% of the loss points ...
  plateau_min_points: 30,
  plateau_min_epochs: 2, // ... spanning >= 2 epochs where the epoch's length is known
  loss_plateau_rel: 0.01, // ... improved by less than 1% of the current level
  plateau_progress_frac: 0.8, // only after the loss fell to <= 80% of its start
  // a plateau at the start (a saddle): the smoothed loss within 3% of its first level for >= 20% of the run's steps
  plateau_start_rel: 0.03,
  plateau_start_share: 0.2,
  // a flat start the run recovered from: its recent loss <= 10% of the plateau's level. A tenth, not
  // fit_loss_frac's fifth of the start: the plateau is judged from what came after it, and a loss that only
  // halved since (a slow saddle escape that cost half the run) still says the flat start cost something
  plateau_recovered_frac: 0.1,
  plateau_descent_rel: 1, // live: still descending steeply (the window before the recent one > 2 x the latest loss)
  saddle_grad_factor: 3, // a saddle's gradients: per-layer grad norms (or update ratios) grow >= 3x once the loss leaves it
  saddle_noise_rel: 0.015, // without them: its minibatch losses within 1.5% of their level (robust cv), or the stretch >= 2 x plateau_start_share
  plateau_min_level_frac: 0.05, // and not when it is already ~0 (<= 5% of its start)
  plateau_noise_rel: 0.1, // and only when the window's medians are precise to ~10% of the level (per-point noise
  // cv: 1.25 cv sqrt(2 / points per third); a noisy loss over a short window looks flat by chance)
  plateau_best_factor: 2, // and not when the flat level is > 2x the lowest level reached (the loss went up)
  plateau_val_gap: 1.05, // and not when the validation loss is >= 1.05x the training loss (the fit is the data's limit)
  // (nor when the model fits its data: fit_err_frac / fit_loss_frac)

  // noisy_loss
  noisy_loss_cv: 0.5, // robust step-to-step noise > 50% of the current level ...
  noisy_loss_scale: 0.15, // ... and > 15% of the starting loss (a converged loss wiggles a lot relatively)
  noisy_min_points: 30,
  noisy_small_batch: 4, // config batch_size <= 4: each point is the loss of a few samples, per-sample
  // losses: their relative noise alone is the finding, whatever the scale

  // gradients
  grad_vanish_ratio: 1e-3, // first-layer / last-layer gradient size
  // a steady shrink of the forward signal: over at least vanish_geo_layers layers' activation stds, a fitted
  // per-layer scale factor at most vanish_geo_factor, with the loss still at its start. 0.7 over 6 layers
  // leaves the deepest one <= 0.7^6 = 12% of the first's scale (>= 8x down, the order of a 1e-3 gradient
  // ratio over ~20 such layers); He/Xavier inits and normalized stacks keep a factor near 1 (0.9-1.1), so
  // fewer layers or a milder factor cannot tell a shrink from layer-to-layer scatter
  vanish_geo_layers: 6,
  vanish_geo_factor: 0.7,
  grad_explode_ratio: 1e3,
  grad_explode_growth: 100, // recent gradient size / early gradient size
  // the forward signal blowing up with depth (an init too large for the activation): at one of the
  // first act_explode_points logged points, hidden activation std grows layer over layer to >=
  // act_explode_depth_growth x the first layer's
  act_explode_depth_growth: 10,
  act_explode_points: 3,
  act_explode_min_layers: 3, // over at least 3 hidden layers (a compounding growth needs depth: 10x over 3 layers is >= 3.2x a layer) ...
  act_explode_step_share: 0.75, // ... with at least 75% of the layer-to-layer steps growing by > 10%

  // no_learning: loss near ln C and accuracy near chance for most of the run, updates healthy
  no_learning_loss_frac: 0.85, // smoothed train loss >= 0.85 ln C ...
  no_learning_acc_rel: 1.5, // ... accuracy <= 1.5 / C ...
  no_learning_acc_abs: 0.03, // ... (or 1/C + 0.03 when that is larger; never above 1/C + 0.1)
  no_learning_share: 0.75, // ... for at least 75% of the loss points and of the evaluations
  // ... and not while the validation loss fell at each of its latest 4 evaluations to > 2% below ln C
  // (or below the prior's entropy): a held-out loss a model without information cannot reach
  no_learning_val_falls: 4,
  no_learning_val_margin: 0.02,
  // ... or, two imbalanced classes: accuracy pinned (within max(majority_tol_frac x (1 - a), 0.02)) at a
  // level 0.5 < a <= no_learning_prior_max, the loss at the entropy h(a) of such a prior: >=
  // no_learning_prior_loss_frac x h(a) (as above, for the share of points and now), now <= no_learning_prior_loss_max x h(a)
  no_learning_prior_max: 0.9,
  no_learning_prior_loss_frac: 0.92,
  no_learning_prior_loss_max: 1.1,

  // loss_output_mismatch: loss floors at the bounded-logit minimum ln(1 + (C-1)/e) while accurate
  output_floor_frac: 0.9, // plateaued loss >= 0.9 x that floor ...
  output_fano_frac: 0.5, // ... while train accuracy is so high that a logits model's loss (the Fano
  // bound h(err) + err ln(C-1)) would be below half the floor ...
  output_accurate_share: 0.4, // ... and either levelled off, or that accurate at >= 40% of the evaluations (and >= min_evals)
  output_zero_share: 0.2, // regression with a ReLU-type activation after its last layer: >= 20% of outputs exactly 0 ...
  output_clip_loss_frac: 0.2, // ... while the loss is still >= 20% of its start (a fit that reached its targets is not hurt)
  output_squash_share: 0.2, // regression with a sigmoid/tanh after its last layer: >= 20% of outputs pinned at a bound
  output_band_fano_frac: 0.8, // every (accuracy, loss) evaluation inside the band probabilities-as-logits allow, >= 3 of them
  output_band_min_accurate: 3, // accurate enough that a calibrated model's loss (Fano) is < 0.8 x the band's bottom ...
  output_band_slack: 0.02, // ... and none more than 2% outside it (the floor is a hard bound; its slack is measurement noise)
  output_negative_min: 0.02, // NLLLoss on probabilities: the loss in [-1, 0], recently below -0.02
  output_constant_rel: 1e-9, // every logged loss equal to within 1e-9 of its level: the output cannot move

  // train_val_mismatch
  tv_loss_factor: 10, // val loss >= 10x an untrained model's loss (max(ln C, first train loss)) and
  // >= 10x the train loss at the same evaluation ...
  tv_share: 0.5, // ... at >= 50% of the evaluations, the first ones included (not a gradual drift)
  tv_acc_gap: 0.1, // "similar accuracy": |train acc - val acc| < 0.1
  tv_first_evals: 2, // the first 2 evaluations must already show it
  // ... or, from the losses and accuracies at 2 of the first 3 evaluations and the latest:
  tv_early_acc_gap: 0.05, // validation accuracy >= 5 points below training ...
  tv_early_loss_ratio: 4, // ... with a validation loss >= 4x the training loss
  // ... or from input_stats of both splits: a feature is off by its std ratio (either way) or its mean
  // shift in training stds
  tv_input_factor: 5, // >= 25% of the features off by >= 5x ...
  tv_input_share: 0.25,
  tv_input_extreme: 100, // ... or one feature off by >= 100x (orders of magnitude: a blown-up feature)

  // unshuffled_data: the training loss repeats its shape every epoch (data sorted by label or time)
  unshuffled_explained: 0.2, // the position within the epoch explains >= 20% of the detrended variance (beyond chance) ...
  unshuffled_consistency: 0.5, // ... odd and even epochs have the same shape (correlation >= 0.5) ...
  unshuffled_swing: 0.25, // ... and that shape swings by >= 25% of the loss's level ...
  unshuffled_swing_lnc: 0.2, // ... and by >= 20% of ln C (classification): a converged loss's relative swing is noise
  unshuffled_strong_explained: 0.5, // or, accuracy at chance (a net stuck at one answer): a shape explaining >= 50% ...
  unshuffled_strong_consistency: 0.9, // ... the same in odd and even epochs (correlation >= 0.9) ...
  unshuffled_strong_swing: 0.05, // ... swinging by >= 5% of the level
  unshuffled_acf_contrast: 0.5, // the latest 4.5 epochs alone: explaining >= strong_explained, autocorrelation at one epoch >= 0.5 above a quarter epoch off
  unshuffled_wait_epochs: 6, // config.shuffle false: dead_relu waits this many epochs for the order test; live, a loose shape is read over >= this many

  // overfit_sanity_failed
  sanity_train_acc: 0.99,
  sanity_loss_frac: 0.1, // without accuracy: final loss must reach <= 10% of its start
} as const;

export type ThresholdName = keyof typeof DEFAULT_THRESHOLDS;
export type Thresholds = { [K in ThresholdName]: number };

/** Counts of points, evaluations or steps: whole numbers from 1 (from 0 for a step). */
const COUNTS: ReadonlyMap<string, number> = new Map([
  ["min_points", 1],
  ["min_evals", 1],
  ["flat_loss_min_points", 1],
  ["overfit_patience_evals", 1],
  ["plateau_min_points", 1],
  ["noisy_min_points", 1],
  ["noisy_small_batch", 1],
  ["loss_pool_samples", 1],
  ["initial_loss_max_step", 0],
  ["lr_jump_min_points", 1],
  ["lr_jump_after_points", 1],
  ["tv_first_evals", 1],
  ["lr_collapse_fast_evals", 1],
  ["unshuffled_wait_epochs", 1],
  ["lr_cut_evals", 1],
  ["majority_inferred_min_evals", 1],
  ["act_explode_points", 1],
  ["act_explode_min_layers", 2],
  ["output_band_min_accurate", 1],
  ["no_learning_val_falls", 1],
  ["vanish_geo_layers", 3],
]);

/** Shares of a series, of units or of accuracy: above 0 and at most 1. */
const SHARES: ReadonlySet<string> = new Set([
  "saddle_noise_rel",
  "no_learning_val_margin",
  "lr_jump_undone_frac",
  "recent_frac",
  "collapse_best_frac",
  "collapse_return_frac",
  "overfit_patience_frac",
  "plateau_window_frac",
  "saturated_frac",
  "dead_frac",
  "dead_frac_critical",
  "dead_zero_frac",
  "dead_low_quantile",
  "dead_recover_frac",
  "dead_poor_frac",
  "fit_err_frac",
  "fit_loss_frac",
  "fit_progress_rel",
  "dead_flicker",
  "underfit_acc_max",
  "underfit_err_frac",
  "underfit_gap_share",
  "underfit_slowdown",
  "majority_tol_frac",
  "majority_share",
  "majority_inferred_max",
  "majority_inferred_loss_frac",
  "overreg_shrink_frac",
  "overreg_shrink_wd_frac",
  "overreg_loss_frac",
  "overreg_held_err",
  "sanity_train_acc",
  "lr_collapse_frac",
  "lr_collapse_fast_frac",
  "lr_cut_factor",
  "lr_high_sustained_shrink_frac",
  "lr_high_settled_frac",
  "no_learning_share",
  "no_learning_prior_max",
  "output_accurate_share",
  "output_zero_share",
  "output_clip_loss_frac",
  "output_squash_share",
  "output_band_fano_frac",
  "output_band_slack",
  "plateau_start_rel",
  "plateau_start_share",
  "plateau_recovered_frac",
  "plateau_descent_rel",
  "vanish_geo_factor",
  "act_explode_step_share",
  "tv_share",
  "tv_early_acc_gap",
  "tv_input_share",
  "unshuffled_explained",
  "unshuffled_consistency",
  "unshuffled_strong_explained",
  "unshuffled_strong_consistency",
]);

/** Whether `value` is a usable setting for threshold `name`: every threshold is a positive finite
 * number; counts are whole numbers, shares at most 1. */
export function thresholdInRange(name: ThresholdName, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const least = COUNTS.get(name);
  if (least !== undefined) return Number.isInteger(value) && value >= least;
  if (value <= 0) return false;
  return !SHARES.has(name) || value <= 1;
}

/**
 * Defaults overridden by `config.babysit.thresholds`. Unknown names, non-numbers and values out of
 * a threshold's range (thresholdInRange) are ignored, so a typo can never silence a rule.
 */
export function resolveThresholds(config: Record<string, any> | null | undefined): Thresholds {
  const out: Thresholds = { ...DEFAULT_THRESHOLDS };
  const overrides = config?.babysit?.thresholds;
  if (overrides && typeof overrides === "object" && !Array.isArray(overrides)) {
    for (const [name, value] of Object.entries(overrides)) {
      // the names are the user's: only the defaults' own keys count, never a prototype member
      if (!Object.hasOwn(DEFAULT_THRESHOLDS, name) || typeof value !== "number") continue;
      if (thresholdInRange(name as ThresholdName, value)) out[name as ThresholdName] = value;
    }
  }
  return out;
}
