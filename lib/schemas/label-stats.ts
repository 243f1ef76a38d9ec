import { LIMITS, nameProblem } from "../contract/limits";

// A label_stats event carries the class distribution of a split's labels (log_label_stats(y) /
// logLabelStats(y)): `counts[k]` is how many labels are class k. The majority_class diagnosis reads
// the shares, so a batch carrying a malformed one is refused like any other bad field.

/** Why a label_stats event's data breaks the contract, as [path within data, reason], or null. */
export function labelStatsProblem(d: Record<string, unknown>): [(string | number)[], string] | null {
  const counts = d.counts;
  const max = LIMITS.labelStatsClasses.value;
  if (!Array.isArray(counts) || counts.length < 2 || counts.length > max) {
    return [["counts"], `must be an array of 2 to ${max} counts, one per class`];
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!(typeof c === "number" && Number.isSafeInteger(c) && c >= 0)) return [["counts", i], "must be a non-negative integer"];
    total += c;
  }
  if (total === 0) return [["counts"], "must count at least one label"];
  if (d.split !== undefined) {
    if (typeof d.split !== "string") return [["split"], "must be a string"];
    const problem = nameProblem(d.split, LIMITS.labelStatsSplitMaxLength, "label_stats split names");
    if (problem) return [["split"], problem];
  }
  return null;
}
