// The training and validation loss by the shape of their names, when no built-in name matched:
// people name a loss by its family ("train/nll", "val/bce", "train/mse", "nll/val") or put it under a
// namespace ("metrics/val_loss", "Loss/train_step"). A key qualifies when its words are a split word,
// a loss word and nothing else but bookkeeping ("step", "epoch", "metrics", ...): "recon_loss",
// "kl_loss", "loss_scale" or "val/mae" are not the objective and never qualify.

import type { NamedSeries } from "./keys";
import type { SeriesPoints } from "./types";

const LOSS_WORDS = new Set(["loss", "nll", "bce", "xent", "ce", "crossentropy", "logloss", "mse", "objective"]);
const TRAIN_WORDS = new Set(["train", "training", "trn"]);
const VAL_WORDS = new Set(["val", "valid", "validation", "eval", "dev", "test", "holdout"]);
const BOOKKEEPING = new Set(["step", "epoch", "avg", "mean", "total", "batch", "metrics", "running", "per", "char", "token"]);

interface Shape {
  split: "train" | "val";
  loss: string;
}

/** The split and loss word of a key whose name is only those (and bookkeeping), else null. */
export function lossKeyShape(key: string): Shape | null {
  const words = key
    .toLowerCase()
    .replace(/cross[\s_\-.]?entropy/g, "crossentropy")
    .replace(/log[\s_\-.]?loss/g, "logloss")
    .split(/[\s/_.\-:]+/)
    .filter(Boolean);
  let split: Shape["split"] | null = null;
  let loss: string | null = null;
  for (const w of words) {
    if (LOSS_WORDS.has(w)) {
      if (loss !== null && loss !== w) return null;
      loss = w;
    } else if (TRAIN_WORDS.has(w) || VAL_WORDS.has(w)) {
      const s = TRAIN_WORDS.has(w) ? "train" : "val";
      if (split !== null && split !== s) return null;
      split = s;
    } else if (!BOOKKEEPING.has(w)) return null;
  }
  if (loss === null) return null;
  // a bare loss word ("nll", "bce_step") is the training loss, as a bare "loss" is
  return { split: split ?? "train", loss };
}

/**
 * Fills train_loss / val_loss from keys shaped as a loss of that split when no built-in name matched.
 * Both sides must name the same loss word (a "train/loss" beside a "val/mse" is not one objective on two
 * splits); of several candidates the one with the most points is read.
 */
export function lossesByShape(series: ReadonlyMap<string, SeriesPoints>, scalars: Partial<Record<"train_loss" | "val_loss", NamedSeries>>): void {
  if (scalars.train_loss && scalars.val_loss) return;
  const found: { key: string; s: SeriesPoints; shape: Shape }[] = [];
  for (const [key, s] of series) {
    const shape = s.values.length > 0 ? lossKeyShape(key) : null;
    if (shape) found.push({ key, s, shape });
  }
  const wordOf = (n: NamedSeries | undefined) => (n ? lossKeyShape(n.key)?.loss : undefined);
  const pick = (split: Shape["split"], word: string | undefined) => {
    const c = found.filter((f) => f.shape.split === split && (word === undefined || f.shape.loss === word));
    if (c.length === 0) return undefined;
    // one loss word only: two families on one split ("train/nll" and "train/mse") leave it unsaid
    if (word === undefined && new Set(c.map((f) => f.shape.loss)).size > 1) return undefined;
    c.sort((a, b) => b.s.values.length - a.s.values.length);
    return { key: c[0].key, s: c[0].s };
  };
  if (!scalars.train_loss) {
    const t = pick("train", wordOf(scalars.val_loss) ?? (scalars.val_loss ? "\0" : undefined));
    if (t) scalars.train_loss = t;
  }
  if (!scalars.val_loss) {
    const v = pick("val", wordOf(scalars.train_loss) ?? (scalars.train_loss ? "\0" : undefined));
    if (v) scalars.val_loss = v;
  }
}
