import { BYTES_PER_NUMBER } from "./diagnostics/thin";

// The memory live runs may hold (BABYSIT_MEMORY_MB, default 512 MiB) and how it is shared out:
// a quarter for storage (lib/series/series-meta.ts): half of it for the per-run caches of series of
// runs other than the one being written (totals and points not yet compacted; least recently used
// runs leave first and are reloaded from the database), half for the points not yet compacted of
// the run being written (past it they are sealed into chunks at once); three quarters for the diagnostics' copies (lib/alerts/watch-runs.ts): of those, three quarters for
// scalar series, the rest for histograms and events. Only series a rule can read are held
// (lib/diagnostics/keys.ts seriesReader); each gets the same point cap, the scalar share over the
// number of such series, down to MIN_SERIES_POINTS; a long series beyond it keeps its start and
// recent half at full resolution and its middle as bucket extremes (lib/diagnostics/thin.ts). Where
// even the floor does not fit, runs other than the one logging leave memory, least recently
// logged first; what is left over the budget is at most that one run at the floor.

const MIB = 1024 * 1024;
/**
 * No series is thinned below this many points, whatever the number of series: small, so that the
 * floor times the series one run may hold (LIMITS' per-run key limit) stays a few MiB. A run with a
 * usual number of keys is far above it (100 series at BABYSIT_MEMORY_MB=16 keep ~3,900 points each).
 */
export const MIN_SERIES_POINTS = 64;
/** A series needs no more than this for any rule. */
export const MAX_SERIES_POINTS = 2_000_000;
export const MIN_HISTOGRAMS = 24;
export const MAX_HISTOGRAMS = 2000;
export const MAX_EVENTS = 10_000;

export function memoryBudgetBytes(env: Record<string, string | undefined> = process.env): number {
  const mb = Number(env.BABYSIT_MEMORY_MB);
  return (Number.isFinite(mb) && mb >= 16 ? mb : 512) * MIB;
}

/** What storage's series caches of runs other than the one being written may hold. */
export function storageCacheBudget(budget: number): number {
  return budget / 8;
}

/** What the points not yet compacted of the run being written may hold (past it they are sealed). */
export function pendingBudget(budget: number): number {
  return budget / 8;
}

/** What the diagnostics' copies of live runs may hold. */
export function diagnosticsBudget(budget: number): number {
  return (budget * 3) / 4;
}

/** Points each series may keep when `series` series are live. */
export function seriesCap(budget: number, series: number): number {
  const points = Math.floor((0.75 * budget) / (2 * BYTES_PER_NUMBER) / Math.max(1, series));
  return Math.min(MAX_SERIES_POINTS, Math.max(MIN_SERIES_POINTS, points));
}

/** Histogram records each histogram key may keep, given the live keys and their average size in numbers. */
export function histogramCap(budget: number, keys: number, numbersPerRecord: number): number {
  const n = Math.floor((0.2 * budget) / (Math.max(1, numbersPerRecord) * BYTES_PER_NUMBER) / Math.max(1, keys));
  return Math.min(MAX_HISTOGRAMS, Math.max(MIN_HISTOGRAMS, n));
}
