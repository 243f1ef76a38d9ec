// Class distribution of a split's labels, counted on the client (only the counts travel): the
// `label_stats` event that lets the server tell a model answering the majority class.

import { LIMITS, nameProblem } from "./encode.js";

/** What logLabelStats() sends: `counts[k]` labels of class k, `n` labels in all, the split's name. */
export interface LabelStats {
  counts: number[];
  n: number;
  split: string;
}

/** Labels: class indices 0..C-1, or one row per example (one-hot or probabilities; its largest entry counts). */
export type LabelsInput = ArrayLike<number> | Iterable<number> | ArrayLike<ArrayLike<number>>;

function argmax(row: ArrayLike<number>): number {
  if (row.length === 1) return row[0] as number;
  let best = 0;
  for (let k = 1; k < row.length; k++) if ((row[k] as number) > (row[best] as number)) best = k;
  return best;
}

/**
 * Counts each class of `labels`. Throws a RangeError naming the first label that is not a class
 * index (a whole number from 0, below labelStatsClasses) — logLabelStats() turns it into a warning.
 *
 * @example
 * labelCounts([0, 0, 1, 2, 0]); // { counts: [3, 1, 1], n: 5 }
 */
export function labelCounts(labels: LabelsInput, numClasses?: number): { counts: number[]; n: number } {
  const max = LIMITS.labelStatsClasses;
  const counts: number[] = [];
  let n = 0;
  const list = labels as unknown as { [Symbol.iterator]?: unknown; length?: number };
  const items: Iterable<unknown> =
    typeof list?.[Symbol.iterator] === "function" ? (labels as Iterable<unknown>) : Array.from(labels as ArrayLike<unknown>);
  for (const item of items) {
    const v = typeof item === "object" && item !== null && "length" in item ? argmax(item as ArrayLike<number>) : item;
    // booleans are binary targets (false = class 0, true = class 1)
    const c = typeof v === "boolean" ? Number(v) : v;
    if (!(typeof c === "number" && Number.isInteger(c) && c >= 0)) {
      throw new RangeError(`label ${n} is ${String(v)}: labels must be class indices (whole numbers from 0)`);
    }
    if (c >= max) throw new RangeError(`label ${n} is ${c}: at most ${max} classes are sent`);
    while (counts.length <= c) counts.push(0);
    counts[c] = (counts[c] as number) + 1;
    n++;
  }
  if (n === 0) throw new RangeError("labels must hold at least one label");
  const size = Math.max(counts.length, 2, Number.isInteger(numClasses) && (numClasses as number) <= max ? (numClasses as number) : 0);
  while (counts.length < size) counts.push(0);
  return { counts, n };
}

/** Why a split name cannot be sent, or null. */
export function splitProblem(split: unknown): string | null {
  return nameProblem(split, LIMITS.labelStatsSplitMaxLength, "label_stats split");
}
