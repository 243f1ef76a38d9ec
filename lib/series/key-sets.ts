import { sqlite, stmt } from "../db";
import { singleton } from "../singleton";

// The distinct histogram and image keys of each run, for the per-run key limits
// (LIMITS.histogramKeysPerRun, imageKeysPerRun): read from the database once, the first time a
// batch of the run brings histograms or images, then kept current by ingest, so that checking a
// batch against the limits costs a Set lookup per key, never a scan of the run's rows. Metric keys
// need no set of their own: they are the run's series (series-meta.ts). The sets live and go with
// the run's cached series (evictRunSeries, forgetRunSeries).

interface RunKeySets {
  histograms?: Set<string>;
  images?: Set<string>;
}

const cache = () => singleton("babysit.runKeySets", () => new Map<string, RunKeySets>());

function entry(runId: string): RunKeySets {
  const all = cache();
  let e = all.get(runId);
  if (!e) all.set(runId, (e = {}));
  return e;
}

/** The run's distinct histogram keys (loaded on first use). */
export function histogramKeySet(runId: string): Set<string> {
  const e = entry(runId);
  e.histograms ??= new Set(
    (stmt(sqlite(), "SELECT DISTINCT key FROM histograms WHERE run_id = ?").all(runId) as { key: string }[]).map((r) => r.key),
  );
  return e.histograms;
}

/** The run's distinct image keys (loaded on first use; reads its image events once). */
export function imageKeySet(runId: string): Set<string> {
  const e = entry(runId);
  e.images ??= new Set(
    (
      stmt(sqlite(), "SELECT DISTINCT json_extract(data, '$.key') AS key FROM events WHERE run_id = ? AND type = 'image'").all(runId) as {
        key: unknown;
      }[]
    )
      .map((r) => r.key)
      .filter((k): k is string => typeof k === "string"),
  );
  return e.images;
}

/** Rough bytes a run's key sets cost (a Set entry and its string). */
export function keySetBytes(runId: string): number {
  const e = cache().get(runId);
  return e ? 200 * ((e.histograms?.size ?? 0) + (e.images?.size ?? 0)) : 0;
}

/** Forgets a run's key sets (reloaded from the database when next needed). */
export function forgetKeySets(runId: string): void {
  cache().delete(runId);
}

/** Forgets the key sets of every run for which `keep` answers false. */
export function retainKeySets(keep: (runId: string) => boolean): void {
  for (const id of [...cache().keys()]) if (!keep(id)) cache().delete(id);
}
