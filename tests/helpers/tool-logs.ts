import { resolveKeys } from "@/lib/diagnostics/keys";
import type { SeriesPoints } from "@/lib/diagnostics/types";
import { eventBytes, eventFile, tb } from "./tb-writer";
import { type Corpus, corpusRequests } from "./fixtures";

// A recorded corpus run's curves (what its SDK sent: the training loss, the evaluations, the
// learning rate) written again the way other tools print or store them, so that an import of each
// can be diagnosed against the run's labels. Only what each tool writes: a Keras epoch line has no
// per-batch losses, Lightning's bar rounds to 3 significant digits, the Trainer averages the loss
// over its logging interval, timm prints accuracies in percent.

export interface Curves {
  /** the training loss the SDK logged, per step */
  loss: SeriesPoints;
  valLoss?: SeriesPoints;
  trainAcc?: SeriesPoints;
  valAcc?: SeriesPoints;
  lr?: SeriesPoints;
  /** the steps at which the run evaluated (epoch ends), ascending */
  evals: number[];
  batchSize?: number;
  numClasses?: number;
  /** the run's config as the SDK sent it, and the keys it logged each curve under */
  config: Record<string, unknown>;
  keys: { loss: string; valLoss?: string; trainAcc?: string; valAcc?: string; lr?: string };
}

/** The curves of one recorded run (its scalar roles as babysit reads them from the SDK's keys). */
export function curvesOf(corpus: Corpus, run: string): Curves {
  const series = new Map<string, Map<number, number>>();
  let config: Record<string, any> = {};
  for (const r of corpusRequests(corpus, run)) {
    const body = r.body as Record<string, any>;
    if (r.path === "/api/v1/runs") config = body.config ?? {};
    for (const row of body?.rows ?? []) {
      for (const [k, v] of Object.entries(row.metrics as Record<string, unknown>)) {
        const value = typeof v === "number" ? v : Number(v);
        let m = series.get(k);
        if (!m) series.set(k, (m = new Map()));
        m.set(row.step, value);
      }
    }
  }
  const points = new Map<string, SeriesPoints>();
  for (const [k, m] of series) {
    const steps = [...m.keys()].sort((a, b) => a - b);
    points.set(k, { steps, values: steps.map((s) => m.get(s)!) });
  }
  const { scalars } = resolveKeys({ config, series: points, histograms: new Map(), events: [], finished: true });
  if (!scalars.train_loss) throw new Error(`${run}: no training loss`);
  const evalSeries = scalars.val_loss?.s ?? scalars.val_acc?.s ?? scalars.train_acc?.s;
  if (!evalSeries) throw new Error(`${run}: no evaluations`);
  // an accuracy in percent (acc_pct) as a share: each tool below writes its own unit
  const share = (s?: SeriesPoints) => (s?.values.some((v) => v > 1.5) ? { steps: s.steps, values: s.values.map((v) => v / 100) } : s);
  return {
    loss: scalars.train_loss.s,
    valLoss: scalars.val_loss?.s,
    trainAcc: share(scalars.train_acc?.s),
    valAcc: share(scalars.val_acc?.s),
    lr: scalars.lr?.s,
    evals: evalSeries.steps,
    batchSize: typeof config.batch_size === "number" ? config.batch_size : undefined,
    numClasses: typeof config.num_classes === "number" ? config.num_classes : undefined,
    config,
    keys: {
      loss: scalars.train_loss.key,
      valLoss: scalars.val_loss?.key,
      trainAcc: scalars.train_acc?.key,
      valAcc: scalars.val_acc?.key,
      lr: scalars.lr?.key,
    },
  };
}

/**
 * babysit's own JSON Lines run format (what `babysit import` reads back from metrics.jsonl): the
 * config, then each curve under the key the SDK logged it as, at its steps. The reference the tools'
 * forms are held against: the same curves, nothing lost.
 */
export function babysitJsonl(c: Curves): string {
  const lines = [JSON.stringify({ kind: "config", ...c.config })];
  const add = (key: string | undefined, s: SeriesPoints | undefined) =>
    s?.steps.forEach((step, i) => lines.push(`{"kind": "scalar", "step": ${step}, "key": ${JSON.stringify(key)}, "value": ${pyJson(s.values[i])}}`));
  add(c.keys.loss, c.loss);
  add(c.keys.valLoss, c.valLoss);
  add(c.keys.trainAcc, c.trainAcc);
  add(c.keys.valAcc, c.valAcc);
  add(c.keys.lr, c.lr);
  return `${lines.join("\n")}\n`;
}

/** A number as Python's json.dumps writes it (NaN, Infinity and -Infinity bare). */
function pyJson(v: number): string {
  return Number.isNaN(v) ? "NaN" : Number.isFinite(v) ? String(v) : v > 0 ? "Infinity" : "-Infinity";
}

/** The value of `s` at step `step` or the last before it. */
function at(s: SeriesPoints | undefined, step: number): number | undefined {
  if (!s) return undefined;
  let v: number | undefined;
  for (let i = 0; i < s.steps.length && s.steps[i] <= step; i++) v = s.values[i];
  return v;
}

/** Exactly at `step`. */
function exact(s: SeriesPoints | undefined, step: number): number | undefined {
  if (!s) return undefined;
  const i = s.steps.indexOf(step);
  return i < 0 ? undefined : s.values[i];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * A tool's logging interval as a user sets it: every 5 steps, or every step when an epoch is shorter
 * than that (mmengine leaves out an epoch's last iterations short of an interval; a Trainer logging
 * less often than it evaluates is misconfigured).
 */
export function logInterval(c: Curves): number {
  const shortest = Math.min(...epochs(c).map((e) => e.losses.length));
  return shortest < 10 ? 1 : 5;
}

interface Epoch {
  /** the evaluation's step (the epoch's last) */
  step: number;
  /** the training losses logged in the epoch, in step order */
  losses: { step: number; value: number }[];
}

/** The run cut at its evaluations: each epoch the training steps after the previous evaluation. */
function epochs(c: Curves): Epoch[] {
  const out: Epoch[] = [];
  let from = Number.NEGATIVE_INFINITY;
  for (const e of c.evals) {
    const losses: Epoch["losses"] = [];
    for (let i = 0; i < c.loss.steps.length; i++) {
      const s = c.loss.steps[i];
      if (s > from && s <= e) losses.push({ step: s, value: c.loss.values[i] });
    }
    out.push({ step: e, losses });
    from = e;
  }
  return out.filter((e) => e.losses.length > 0);
}

/** Python's repr of a float, near enough (what print() and str(dict) show). */
function py(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
  const s = String(v);
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

/** tqdm's format_num: '{:.3g}' when shorter than str(). */
function g3(v: number): string {
  if (!Number.isFinite(v)) return py(v);
  let f = v.toPrecision(3);
  if (/e/.test(f)) f = f.replace(/\.?0+e/, "e").replace(/e([+-])(\d)$/, "e$10$2");
  else if (f.includes(".")) f = f.replace(/\.?0+$/, "");
  const n = py(v);
  return f.length < n.length ? f : n;
}

const fix = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : py(v));
const exp4 = (v: number) => (Number.isFinite(v) ? v.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2") : py(v));

/** Keras 3 `fit(verbose=2)`: one line per epoch, the epoch's mean loss, keys in alphabetical order. */
export function kerasFit(c: Curves): string {
  const eps = epochs(c);
  const lines: string[] = [];
  const batches = Math.max(...eps.map((e) => e.losses.length));
  eps.forEach((e, i) => {
    const logs: [string, number | undefined][] = [
      ["accuracy", exact(c.trainAcc, e.step)],
      ["learning_rate", at(c.lr, e.step)],
      ["loss", mean(e.losses.map((l) => l.value))],
      ["val_accuracy", exact(c.valAcc, e.step)],
      ["val_loss", exact(c.valLoss, e.step)],
    ];
    lines.push(`Epoch ${i + 1}/${eps.length}`);
    const parts = logs.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${fix(v!, 4)}`);
    lines.push(`${batches}/${batches} - 1s - 12ms/step - ${parts.join(" - ")}`);
  });
  return `${lines.join("\n")}\n`;
}

/** A script's own `print(f"epoch {e} loss {l:.4f} val_loss {v:.4f} val_acc {a:.4f}")` once an epoch. */
export function plainPrint(c: Curves): string {
  return `${epochs(c)
    .map((e, i) => {
      const parts = [`epoch ${i + 1}`, `loss ${fix(mean(e.losses.map((l) => l.value)), 4)}`];
      const vl = exact(c.valLoss, e.step);
      const va = exact(c.valAcc, e.step);
      if (vl !== undefined) parts.push(`val_loss ${fix(vl, 4)}`);
      if (va !== undefined) parts.push(`val_acc ${fix(va, 4)}`);
      return parts.join(" ");
    })
    .join("\n")}\n`;
}

/**
 * Lightning's progress bar as a terminal log holds it (`2>&1 | tee`): every step's drawing (\r), its
 * postfix the logged `prog_bar` metrics at 3 significant digits: `train_loss_step`, and after the
 * first validation `val_loss`, `val_acc`, `train_loss_epoch`. The validation bar is drawn in between.
 */
export function lightningBar(c: Curves): string {
  const eps = epochs(c);
  let out = "";
  let post: [string, number][] = [];
  eps.forEach((e, i) => {
    const n = e.losses.length;
    e.losses.forEach((l, j) => {
      const pct = Math.floor((100 * (j + 1)) / n);
      const fields = [["v_num", 0] as [string, number], ["train_loss_step", l.value] as [string, number], ...post];
      const postfix = fields.map(([k, v]) => `${k}=${k === "v_num" ? "0" : g3(v)}`).join(", ");
      out += `\rEpoch ${i}: ${String(pct).padStart(3)}%|${"█".repeat(Math.floor(pct / 10)).padEnd(10)}| ${j + 1}/${n} [00:0${j % 10}<00:00, 40.00it/s, ${postfix}]`;
    });
    out += "\n\rValidation: |          | 0/? [00:00<?, ?it/s]\rValidation DataLoader 0: 100%|██████████| 4/4 [00:00<00:00, 200.00it/s]";
    post = [];
    const vl = exact(c.valLoss, e.step);
    const va = exact(c.valAcc, e.step);
    if (vl !== undefined) post.push(["val_loss", vl]);
    if (va !== undefined) post.push(["val_acc", va]);
    post.push(["train_loss_epoch", mean(e.losses.map((l) => l.value))]);
    const postfix = [["v_num", 0] as [string, number], ["train_loss_step", e.losses[n - 1].value] as [string, number], ...post]
      .map(([k, v]) => `${k}=${k === "v_num" ? "0" : g3(v)}`)
      .join(", ");
    out += `\rEpoch ${i}: 100%|██████████| ${n}/${n} [00:01<00:00, 40.00it/s, ${postfix}]\n`;
  });
  return `${out}\`Trainer.fit\` stopped: \`max_epochs=${eps.length}\` reached.\n`;
}

interface HfEntry {
  [k: string]: number;
}

/**
 * What Hugging Face's Trainer logs (logging_steps = `every`): the training loss averaged over each
 * logging interval (rounded to 4 digits), the learning rate, the epoch; an `eval_*` dict at each
 * evaluation; the end-of-training summary. Steps count from 1.
 */
export function hfHistory(c: Curves, every = logInterval(c)): HfEntry[] {
  const eps = epochs(c);
  const all = eps.flatMap((e, i) =>
    e.losses.map((l, j) => ({ ...l, epoch: i + (j + 1) / e.losses.length, evalAfter: j === e.losses.length - 1 ? e.step : null })),
  );
  const out: HfEntry[] = [];
  let acc: number[] = [];
  all.forEach((p, k) => {
    const step = k + 1;
    acc.push(p.value);
    if (step % every === 0) {
      const e: HfEntry = { loss: Math.round(mean(acc) * 1e4) / 1e4 };
      const lr = at(c.lr, p.step);
      if (lr !== undefined) e.learning_rate = lr;
      e.epoch = Math.round(p.epoch * 100) / 100;
      e.step = step;
      out.push(e);
      acc = [];
    }
    if (p.evalAfter !== null) {
      const e: HfEntry = {};
      const vl = exact(c.valLoss, p.evalAfter);
      const va = exact(c.valAcc, p.evalAfter);
      if (vl !== undefined) e.eval_loss = vl;
      if (va !== undefined) e.eval_accuracy = va;
      Object.assign(e, {
        eval_runtime: 0.1234,
        eval_samples_per_second: 1620.5,
        eval_steps_per_second: 16.2,
        epoch: Math.round(p.epoch * 100) / 100,
        step,
      });
      out.push(e);
    }
  });
  const losses = all.map((p) => p.value);
  out.push({
    train_runtime: 12.3456,
    train_samples_per_second: 812.3,
    train_steps_per_second: 25.4,
    total_flos: 12345678,
    train_loss: mean(losses),
    epoch: eps.length,
    step: all.length,
  });
  return out;
}

function pyDict(e: HfEntry): string {
  return `{${Object.entries(e)
    .filter(([k]) => k !== "step")
    .map(([k, v]) => `'${k}': ${k === "epoch" ? py(v) : Number.isInteger(v) && k === "total_flos" ? String(v) : py(v)}`)
    .join(", ")}}`;
}

/** The Trainer's console: its bar's drawings (stderr, \r) with each logged dict printed after one. */
export function hfConsole(c: Curves, every = logInterval(c)): string {
  const hist = hfHistory(c, every);
  const total = hist[hist.length - 1].step;
  let out = "";
  let k = 0;
  for (let step = 0; step <= total; step++) {
    const pct = Math.floor((100 * step) / total);
    out += `\r${String(pct).padStart(3)}%|${"█".repeat(Math.floor(pct / 10)).padEnd(10)}| ${step}/${total} [00:01<00:10, 25.00it/s]`;
    while (k < hist.length && hist[k].step === step) {
      if (hist[k].eval_loss !== undefined || hist[k].eval_accuracy !== undefined)
        out += `\n\r  0%|          | 0/4 [00:00<?, ?it/s]\r100%|██████████| 4/4 [00:00<00:00, 90.00it/s]\x1b[A`;
      out += `${pyDict(hist[k])}\n`;
      k++;
    }
  }
  return out;
}

/** trainer_state.json as the Trainer saves it at the end of training. */
export function hfTrainerState(c: Curves, every = logInterval(c)): string {
  const hist = hfHistory(c, every);
  const last = hist[hist.length - 1];
  // Python's json.dump writes nan and inf as the bare tokens NaN, Infinity, -Infinity
  const text = JSON.stringify(
    {
      best_metric: null,
      best_model_checkpoint: null,
      epoch: last.epoch,
      eval_steps: 500,
      global_step: last.step,
      is_hyper_param_search: false,
      is_local_process_zero: true,
      is_world_process_zero: true,
      log_history: hist,
      logging_steps: every,
      max_steps: last.step,
      num_input_tokens_seen: 0,
      num_train_epochs: last.epoch,
      save_steps: 500,
      total_flos: 12345678,
      train_batch_size: c.batchSize ?? 8,
      trial_name: null,
      trial_params: null,
    },
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? `\u0000${py(v)}` : v),
    2,
  );
  return text.replace(/"\\u0000(nan|inf|-inf)"/g, (_m, t: string) => ({ nan: "NaN", inf: "Infinity", "-inf": "-Infinity" })[t]!);
}

/**
 * mmengine's runner log: `Epoch(train) [e][i/N]` lines every `interval` iterations (the loss averaged
 * over the window, as its LogProcessor does), `Epoch(val) [e][n/n]` with `accuracy/top1` in percent.
 */
export function mmengineLog(c: Curves, interval = logInterval(c)): string {
  const lines: string[] = [];
  const ts = "2026/11/30 08:00:00 - mmengine - INFO - ";
  epochs(c).forEach((e, i) => {
    const n = e.losses.length;
    for (let j = interval; j <= n; j += interval) {
      const win = e.losses.slice(j - interval, j);
      const lr = at(c.lr, win[win.length - 1].step);
      const lrs = lr === undefined ? "" : `base_lr: ${exp4(lr)} lr: ${exp4(lr)}  `;
      lines.push(
        `${ts}Epoch(train)  [${i + 1}][${String(j).padStart(String(n).length)}/${n}]  ${lrs}eta: 0:00:41  time: 0.0123  data_time: 0.0021  memory: 312  loss: ${fix(mean(win.map((l) => l.value)), 4)}`,
      );
    }
    lines.push(`${ts}Exp name: run_20261130_080000`);
    lines.push(`${ts}Saving checkpoint at ${i + 1} epochs`);
    const va = exact(c.valAcc, e.step);
    const vl = exact(c.valLoss, e.step);
    const parts = [];
    if (va !== undefined) parts.push(`accuracy/top1: ${fix(100 * va, 4)}`);
    if (vl !== undefined) parts.push(`loss: ${fix(vl, 4)}`);
    lines.push(`${ts}Epoch(val) [${i + 1}][4/4]    ${parts.join("  ")}  data_time: 0.0020  time: 0.0061`);
  });
  return `${lines.join("\n")}\n`;
}

/**
 * timm's train.py: `Train: e [i/N (p%)]  Loss: x (avg)` every `interval` batches and at the last,
 * `Test: [n/n]  Loss: x (avg)  Acc@1: a (avg)` (percent) after each epoch.
 */
export function timmLog(c: Curves, interval = logInterval(c)): string {
  const lines: string[] = [];
  epochs(c).forEach((e, i) => {
    const n = e.losses.length;
    let sum = 0;
    e.losses.forEach((l, j) => {
      sum += l.value;
      if (j % interval === 0 || j === n - 1) {
        const lr = at(c.lr, l.step);
        const w = String(n).length;
        lines.push(
          `Train: ${i} [${String(j).padStart(w)}/${n} (${String(Math.round((100 * j) / n)).padStart(3)}%)]  Loss: ${fix(l.value, 3)} (${fix(sum / (j + 1), 3)})  Time: 0.051s, 627.45/s  (0.060s, 533.33/s)${lr === undefined ? "" : `  LR: ${exp4(lr).replace(/\.(\d{3})\d/, ".$1")}`}  Data: 0.004 (0.005)`,
        );
      }
    });
    const va = exact(c.valAcc, e.step);
    const vl = exact(c.valLoss, e.step);
    const parts = [`Test: [   3/3]  Time: 0.012 (0.020)`];
    if (vl !== undefined) parts.push(`Loss:  ${fix(vl, 4)} (${fix(vl, 4)})`);
    if (va !== undefined) parts.push(`Acc@1: ${fix(100 * va, 4)} (${fix(100 * va, 4)})`);
    lines.push(parts.join("  "));
  });
  return `${lines.join("\n")}\n`;
}

/** The tags torch's SummaryWriter is usually given in tutorials: the loss every step, the rest per epoch. */
function tbTags(c: Curves): { tag: string; s: SeriesPoints }[] {
  const tags = [{ tag: "Loss/train", s: c.loss }];
  if (c.valLoss) tags.push({ tag: "Loss/val", s: c.valLoss });
  if (c.trainAcc) tags.push({ tag: "Accuracy/train", s: c.trainAcc });
  if (c.valAcc) tags.push({ tag: "Accuracy/val", s: c.valAcc });
  if (c.lr) tags.push({ tag: "Learning rate", s: c.lr });
  return tags;
}

/** One event file of torch's SummaryWriter (`simple_value` scalars), one event per add_scalar. */
export function tbEventFile(c: Curves): Buffer {
  const events: { step: number; tag: string; v: number }[] = [];
  for (const { tag, s } of tbTags(c)) s.steps.forEach((step, i) => events.push({ step, tag, v: s.values[i] }));
  events.sort((a, b) => a.step - b.step);
  return eventFile(events.map((e, i) => eventBytes(e.step, 1_790_000_000 + i * 0.01, [tb.simple(e.tag, e.v)])));
}

/** TensorBoard's "download CSV" of each tag: `run-<run>-tag-<tag>.csv` (slashes written as _). */
export function tbCsvDownloads(c: Curves, run = "."): { name: string; text: string }[] {
  return tbTags(c).map(({ tag, s }) => ({
    name: `run-${run}-tag-${tag.replace(/\//g, "_")}.csv`,
    text: `Wall time,Step,Value\n${s.steps.map((step, i) => `${1_790_000_000 + step * 0.05},${step},${Math.fround(s.values[i])}`).join("\n")}\n`,
  }));
}

/**
 * Keras's TensorBoard callback: `train/` and `validation/` event files (TF2 tensor summaries), each
 * with `epoch_loss` and `epoch_accuracy` at the epoch (from 0), `epoch_learning_rate` in train/.
 */
export function kerasTensorBoard(c: Curves): { path: string; bytes: Uint8Array }[] {
  const eps = epochs(c);
  const train = eps.map((e, i) => {
    const values = [tb.scalar("epoch_loss", mean(e.losses.map((l) => l.value)), i === 0)];
    const ta = exact(c.trainAcc, e.step);
    if (ta !== undefined) values.push(tb.scalar("epoch_accuracy", ta, i === 0));
    const lr = at(c.lr, e.step);
    if (lr !== undefined) values.push(tb.scalar("epoch_learning_rate", lr, i === 0));
    return eventBytes(i, 1_790_000_000 + i, values);
  });
  const validation = eps.flatMap((e, i) => {
    const values = [];
    const vl = exact(c.valLoss, e.step);
    const va = exact(c.valAcc, e.step);
    if (vl !== undefined) values.push(tb.scalar("epoch_loss", vl, i === 0));
    if (va !== undefined) values.push(tb.scalar("epoch_accuracy", va, i === 0));
    return values.length ? [eventBytes(i, 1_790_000_000 + i + 0.5, values)] : [];
  });
  return [
    { path: "train/events.out.tfevents.1790000000.host.1.0.v2", bytes: eventFile(train) },
    { path: "validation/events.out.tfevents.1790000000.host.1.1.v2", bytes: eventFile(validation) },
  ];
}

/**
 * nanoGPT's train.py: `iter i: loss x, time t ms, mfu m%` every `interval` iterations, and at each
 * evaluation `step i: train loss x, val loss y` (its train loss an estimate over eval batches: here
 * the mean of the epoch's losses). No accuracy, no learning rate.
 */
export function nanoGptLog(c: Curves, interval = logInterval(c)): string {
  const lines: string[] = [];
  let iter = 0;
  for (const e of epochs(c)) {
    for (const l of e.losses) {
      if (iter % interval === 0)
        lines.push(`iter ${iter}: loss ${fix(l.value, 4)}, time ${(40 + (iter % 7)).toFixed(2)}ms, mfu ${iter < 5 ? "-100.00" : "1.23"}%`);
      iter++;
    }
    const vl = exact(c.valLoss, e.step);
    if (vl !== undefined) lines.push(`step ${iter}: train loss ${fix(mean(e.losses.map((l) => l.value)), 4)}, val loss ${fix(vl, 4)}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * detectron2's metrics.json (JSONWriter): every `interval` iterations the losses as the median of the
 * last 20 (its smoothing hint), `total_loss` their sum, with lr, time and data_time; a validation loss
 * put by a hook (`validation_loss`, the common LossEvalHook recipe) at each evaluation.
 */
export function detectron2Metrics(c: Curves, interval = logInterval(c)): string {
  const lines: string[] = [];
  const window: number[] = [];
  let iter = 0;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  for (const e of epochs(c)) {
    for (const l of e.losses) {
      window.push(l.value);
      if (window.length > 20) window.shift();
      if ((iter + 1) % interval === 0) {
        const total = window.some((v) => !Number.isFinite(v)) ? window[window.length - 1] : median(window);
        const lr = at(c.lr, l.step);
        lines.push(
          `{"data_time": 0.0021, "eta_seconds": 41.2, "iteration": ${iter}, ${lr === undefined ? "" : `"lr": ${pyJson(lr)}, `}"loss_cls": ${pyJson(0.7 * total)}, "loss_reg": ${pyJson(0.3 * total)}, "time": 0.0312, "total_loss": ${pyJson(total)}}`,
        );
      }
      iter++;
    }
    const vl = exact(c.valLoss, e.step);
    if (vl !== undefined) lines.push(`{"iteration": ${iter - 1}, "validation_loss": ${pyJson(vl)}}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Lightning's CSVLogger metrics.csv: sparse rows, `epoch,step,...` then the logged names sorted;
 * `train_loss_step` every `interval` steps (log_every_n_steps), at each epoch's end a row of the
 * validation metrics and one of `train_loss_epoch`. Steps count from 0.
 */
export function lightningCsv(c: Curves, interval = logInterval(c)): string {
  const cols = ["epoch", "step", "train_loss_epoch", "train_loss_step"];
  if (c.valAcc) cols.push("val_acc");
  if (c.valLoss) cols.push("val_loss");
  const rows: string[] = [cols.join(",")];
  const row = (v: Record<string, number>) => rows.push(cols.map((k) => (v[k] === undefined ? "" : py(v[k]))).join(","));
  let step = 0;
  epochs(c).forEach((e, i) => {
    for (const l of e.losses) {
      if ((step + 1) % interval === 0) row({ epoch: i, step, train_loss_step: l.value });
      step++;
    }
    const v: Record<string, number> = { epoch: i, step: step - 1 };
    const va = exact(c.valAcc, e.step);
    const vl = exact(c.valLoss, e.step);
    if (va !== undefined) v.val_acc = va;
    if (vl !== undefined) v.val_loss = vl;
    row(v);
    row({ epoch: i, step: step - 1, train_loss_epoch: mean(e.losses.map((l) => l.value)) });
  });
  return `${rows.join("\n")}\n`;
}

/** timm's summary.csv: one row an epoch, `eval_top1` in percent. */
export function timmSummaryCsv(c: Curves): string {
  const rows = ["epoch,train_loss,eval_loss,eval_top1,eval_top5,lr"];
  epochs(c).forEach((e, i) => {
    const vl = exact(c.valLoss, e.step);
    const va = exact(c.valAcc, e.step);
    const lr = at(c.lr, e.step);
    rows.push(
      [
        i,
        py(mean(e.losses.map((l) => l.value))),
        vl === undefined ? "" : py(vl),
        va === undefined ? "" : py(100 * va),
        va === undefined ? "" : "100.0",
        lr === undefined ? "" : py(lr),
      ].join(","),
    );
  });
  return `${rows.join("\n")}\n`;
}
