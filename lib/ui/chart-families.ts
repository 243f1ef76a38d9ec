// On a page with many charts, the charts of one section that share a key prefix ("probe/" in
// probe/0001 … probe/1999) form a family the page can collapse. Charts without a family come first,
// in the order given; families follow in the order of their first chart.

export interface Family<T> {
  /** The shared prefix without its slash; null for the charts that belong to no family. */
  name: string | null;
  charts: T[];
}

export const FAMILY_RULES = {
  /** Sections with at most this many charts are not split. */
  sectionMin: 24,
  /** A prefix shared by fewer charts is no family. */
  familyMin: 4,
};

export function chartFamilies<T extends { title: string }>(charts: readonly T[], rules = FAMILY_RULES): Family<T>[] {
  if (charts.length <= rules.sectionMin) return [{ name: null, charts: [...charts] }];
  const byPrefix = new Map<string, T[]>();
  for (const c of charts) {
    const i = c.title.indexOf("/");
    if (i <= 0) continue;
    const p = c.title.slice(0, i);
    const list = byPrefix.get(p);
    if (list) list.push(c);
    else byPrefix.set(p, [c]);
  }
  const loose: T[] = [];
  const families: Family<T>[] = [];
  const placed = new Map<string, Family<T>>();
  for (const c of charts) {
    const i = c.title.indexOf("/");
    const p = i > 0 ? c.title.slice(0, i) : null;
    const members = p === null ? undefined : byPrefix.get(p);
    if (p === null || !members || members.length < rules.familyMin) {
      loose.push(c);
      continue;
    }
    let f = placed.get(p);
    if (!f) {
      f = { name: p, charts: [] };
      placed.set(p, f);
      families.push(f);
    }
    f.charts.push(c);
  }
  return loose.length ? [{ name: null, charts: loose }, ...families] : families;
}
