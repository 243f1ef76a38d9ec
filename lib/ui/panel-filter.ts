import { plural } from "./format";
import type { MetricGroup } from "./group-metrics";
import { naturalSort } from "./natural-sort";

// The run page's "filter charts by key" box: one plain-text, case-insensitive match (no pattern)
// over every kind of panel, metric charts (by title or any of their keys), histograms and images
// (by key); histogram and image keys in natural order, like the charts.

export interface ShownPanels {
  charts: MetricGroup[];
  histograms: string[];
  images: string[];
}

export function filterPanels(
  query: string,
  groups: readonly MetricGroup[],
  histogramKeys: readonly string[],
  imageKeys: readonly string[],
): ShownPanels {
  const q = query.trim().toLowerCase();
  const hit = (s: string) => !q || s.toLowerCase().includes(q);
  return {
    charts: groups.filter((g) => hit(g.title) || g.lines.some((l) => hit(l.key))),
    histograms: naturalSort([...new Set(histogramKeys)]).filter(hit),
    images: naturalSort([...new Set(imageKeys)]).filter(hit),
  };
}

/** "3 charts of 10 · 1 histogram of 4", naming only the kinds the run has. */
export function shownSummary(shown: ShownPanels, totals: { charts: number; histograms: number; images: number }): string {
  const parts: string[] = [];
  if (totals.charts) parts.push(`${plural(shown.charts.length, "chart")} of ${totals.charts}`);
  if (totals.histograms) parts.push(`${plural(shown.histograms.length, "histogram")} of ${totals.histograms}`);
  if (totals.images) parts.push(`${plural(shown.images.length, "image")} of ${totals.images}`);
  return parts.join(" · ");
}
