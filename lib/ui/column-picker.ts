// What the runs list's column picker shows: the project's keys in natural order (m/5 before m/41),
// narrowed by a search text (a plain, case-insensitive substring: the text is data, never a
// pattern), metrics grouped by their prefix (train/, val/, act/, ...). Layer-level families can hold
// hundreds of keys per model (one per layer and statistic), so they start collapsed.

import { naturalCompare } from "./natural-sort";

export interface PickerGroup {
  /** The prefix with its slash ("val/"), or "" for keys without one. */
  prefix: string;
  keys: string[];
  /** A per-layer family (act/, grad/, weight/, update_ratio/): collapsed unless searched. */
  layer: boolean;
}

export const LAYER_PREFIXES: ReadonlySet<string> = new Set(["act/", "grad/", "weight/", "update_ratio/", "update_ratios/"]);

const prefixOf = (key: string) => {
  const slash = key.indexOf("/");
  return slash > 0 && slash < key.length - 1 ? key.slice(0, slash + 1) : "";
};

/** Does the key contain the search text (ASCII letters case-insensitive; empty: every key)? */
export function keyMatches(key: string, search: string): boolean {
  const s = search.trim().toLowerCase();
  return s === "" || key.toLowerCase().includes(s);
}

export function pickerConfigKeys(keys: readonly string[], search: string): string[] {
  return keys.filter((k) => keyMatches(k, search)).sort(naturalCompare);
}

/** Metric keys matching the search, in groups by prefix: plain groups first, then layer families, each in natural order. */
export function pickerMetricGroups(keys: readonly string[], search: string): PickerGroup[] {
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    if (!keyMatches(k, search)) continue;
    const p = prefixOf(k);
    const g = groups.get(p);
    if (g) g.push(k);
    else groups.set(p, [k]);
  }
  return [...groups]
    .map(([prefix, ks]) => ({ prefix, keys: ks.sort(naturalCompare), layer: LAYER_PREFIXES.has(prefix.toLowerCase()) }))
    .sort((a, b) => Number(a.layer) - Number(b.layer) || (a.prefix === "" ? 1 : 0) - (b.prefix === "" ? 1 : 0) || naturalCompare(a.prefix, b.prefix));
}
