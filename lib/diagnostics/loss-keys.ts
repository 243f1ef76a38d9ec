// The training and validation loss by the shape of their names, when no built-in name matched:
// people name a loss by its family ("train/nll", "val/bce", "train/mse", "nll/val") or put it under a
// namespace ("metrics/val_loss", "Loss/train_step"). A key qualifies when its words are a split word,
// a loss word and nothing else but bookkeeping ("step", "epoch", "metrics", ...): "recon_loss",
// "kl_loss", "loss_scale" or "val/mae" are not the objective and never qualify.

import type { NamedSeries } from "./keys";
import type { SeriesPoints } from "./types";

const LOSS_WORDS = new Set(["loss", "nll", "bce", "xent", "ce", "crossentropy", "logloss", "mse"]);
const ACC_WORDS = new Set(["acc", "accuracy", "top1", "acc1"]);
const TRAIN_WORDS = new Set(["train", "training", "trn"]);
const VAL_WORDS = new Set(["val", "valid", "validation", "eval", "dev", "test", "holdout"]);
const BOOKKEEPING = new Set(["step", "epoch", "avg", "mean", "total", "batch", "metrics", "running", "per", "char", "token"]);

interface Shape {
  split: "train" | "val";
  /** whether a split word was in the name (a bare "nll" is the training loss only by habit) */
  named: boolean;
  kind: "loss" | "acc";
  /** the loss or accuracy word */
  word: string;
}

/** The split and loss (or accuracy) word of a key whose name is only those (and bookkeeping), else null. */
export function lossKeyShape(key: string): Shape | null {
  const words = key
    .toLowerCase()
    .replace(/cross[\s_\-.]?entropy/g, "crossentropy")
    .replace(/log[\s_\-.]?loss/g, "logloss")
    .split(/[\s/_.\-:]+/)
    .filter(Boolean);
  let split: Shape["split"] | null = null;
  let word: string | null = null;
  for (const w of words) {
    if (LOSS_WORDS.has(w) || ACC_WORDS.has(w)) {
      if (word !== null && word !== w) return null;
      word = w;
    } else if (TRAIN_WORDS.has(w) || VAL_WORDS.has(w)) {
      const s = TRAIN_WORDS.has(w) ? "train" : "val";
      if (split !== null && split !== s) return null;
      split = s;
    } else if (!BOOKKEEPING.has(w)) return null;
  }
  if (word === null) return null;
  // a bare loss word ("nll", "bce_step") is the training loss, as a bare "loss" is
  return { split: split ?? "train", named: split !== null, kind: LOSS_WORDS.has(word) ? "loss" : "acc", word };
}

type Role = "train_loss" | "val_loss" | "train_acc" | "val_acc";

/**
 * Fills the loss and accuracy roles from keys shaped as one of that split when no built-in name
 * matched. Both splits' losses must name the same loss word (a "train/loss" beside a "val/mse" is not one
 * objective on two splits); a name with its split word beats a bare one ("metrics/train_accuracy" over
 * "metrics/accuracy", which Keras-style logs use for either); of several the one with the most points.
 */
export function lossesByShape(series: ReadonlyMap<string, SeriesPoints>, scalars: Partial<Record<Role, NamedSeries>>): void {
  if (scalars.train_loss && scalars.val_loss && scalars.train_acc && scalars.val_acc) return;
  const found: { key: string; s: SeriesPoints; shape: Shape }[] = [];
  const taken = new Set(Object.values(scalars).map((n) => n!.key));
  for (const [key, s] of series) {
    const shape = s.values.length > 0 && !taken.has(key) ? lossKeyShape(key) : null;
    if (shape) found.push({ key, s, shape });
  }
  const wordOf = (n: NamedSeries | undefined) => (n ? lossKeyShape(n.key)?.word : undefined);
  const pick = (kind: Shape["kind"], split: Shape["split"], word: string | undefined) => {
    let c = found.filter((f) => f.shape.kind === kind && f.shape.split === split && (word === undefined || f.shape.word === word));
    if (c.some((f) => f.shape.named)) c = c.filter((f) => f.shape.named);
    else if (split === "train" && found.some((f) => f.shape.kind === kind && f.shape.named && f.shape.split === "train")) return undefined;
    if (c.length === 0) return undefined;
    // one word only: two families on one split ("train/nll" and "train/mse") leave it unsaid
    if (word === undefined && new Set(c.map((f) => f.shape.word)).size > 1) return undefined;
    c.sort((a, b) => b.s.values.length - a.s.values.length);
    taken.add(c[0].key);
    return { key: c[0].key, s: c[0].s };
  };
  const other = (n: NamedSeries | undefined) => wordOf(n) ?? (n ? "\0" : undefined);
  if (!scalars.train_loss) {
    const t = pick("loss", "train", other(scalars.val_loss));
    if (t) scalars.train_loss = t;
  }
  if (!scalars.val_loss) {
    const v = pick("loss", "val", other(scalars.train_loss));
    if (v) scalars.val_loss = v;
  }
  if (!scalars.train_acc) {
    const t = pick("acc", "train", undefined);
    if (t) scalars.train_acc = t;
  }
  if (!scalars.val_acc) {
    const v = pick("acc", "val", undefined);
    if (v) scalars.val_acc = v;
  }
}
