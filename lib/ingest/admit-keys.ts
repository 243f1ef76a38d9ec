import { LIMITS, type LimitName } from "../contract/limits";
import type { LogBatch } from "../schemas/log-batch";
import type { Points } from "../series/codec";
import { histogramKeySet, imageKeySet } from "../series/key-sets";
import { runSeries } from "../series/series-meta";

// The per-run key limits (LIMITS.keysPerRun, histogramKeysPerRun, imageKeysPerRun) applied to one
// batch. A batch is never refused whole for them: a training loop that adds one key too many must
// not lose its loss. Everything of keys the run already has is stored, and new keys are taken in
// the batch's order (metric keys in the order they first appear in its rows) while the run has
// room; only the points, histograms and image events of new keys beyond a limit are refused, and
// the log answer says so in `refused`. Each check is a Map/Set lookup per key of the batch: the
// run's metric keys are its cached series, its histogram and image keys the sets in key-sets.ts.

/** How many refused key names a `refused` answer lists at most. */
export const REFUSED_KEYS_LISTED = 20;

export interface Refused {
  code: "too_many_keys";
  message: string;
  points: number;
  histograms: number;
  events: number;
  keys: string[];
}

export interface Admitted {
  /** The batch's series without those of refused keys (the same Map, pruned). */
  series: Map<string, Points>;
  histograms: LogBatch["histograms"];
  events: LogBatch["events"];
  /** Metric points refused (the epoch that rides along with a row is not a point). */
  refusedPoints: number;
  refused: Refused | null;
}

interface Kind {
  limit: LimitName;
  /** The kind of key, in the singular. */
  what: string;
  /** What a refused item is called, in the singular. */
  unit: string;
  had: number;
  taken: number;
  refusedKeys: Set<string>;
  refusedItems: number;
}

/**
 * Prunes what a batch may not add to the run. `replay` (a seq already stored) takes no new key:
 * what the run does not hold now is what was refused when the batch was first stored, and the
 * answer says so again. The run's key sets learn the new histogram and image keys taken; a
 * transaction rolled back after this forgets them (forgetRunSeries).
 */
export function admitKeys(runId: string, batch: LogBatch, series: Map<string, Points>, epochPoints: number, replay: boolean): Admitted {
  const metrics = runSeries(runId);
  const m: Kind = { limit: "keysPerRun", what: "metric key", unit: "point", had: metrics.size, taken: 0, refusedKeys: new Set(), refusedItems: 0 };
  let room = replay ? 0 : LIMITS.keysPerRun.value - metrics.size;
  for (const [key, p] of series) {
    if (metrics.has(key)) continue;
    if (room > 0) {
      room--;
      m.taken++;
      continue;
    }
    m.refusedKeys.add(key);
    m.refusedItems += key === "epoch" ? p.steps.length - epochPoints : p.steps.length;
    series.delete(key); // deleting the entry being visited is safe in a Map's iteration
  }

  let histograms = batch.histograms;
  const h: Kind = {
    limit: "histogramKeysPerRun",
    what: "histogram key",
    unit: "histogram",
    had: 0,
    taken: 0,
    refusedKeys: new Set(),
    refusedItems: 0,
  };
  if (histograms.length) {
    const known = histogramKeySet(runId);
    h.had = known.size;
    histograms = histograms.filter((x) => admit(known, x.key, h, replay));
  }

  let events = batch.events;
  const i: Kind = { limit: "imageKeysPerRun", what: "image key", unit: "image event", had: 0, taken: 0, refusedKeys: new Set(), refusedItems: 0 };
  if (events.some((e) => e.type === "image")) {
    const known = imageKeySet(runId);
    i.had = known.size;
    events = events.filter((e) => e.type !== "image" || admit(known, e.data.key as string, i, replay));
  }

  const over = [m, h, i].filter((k) => k.refusedKeys.size > 0);
  if (!over.length) return { series, histograms, events, refusedPoints: 0, refused: null };
  const names = new Set<string>();
  for (const k of over) for (const key of k.refusedKeys) if (names.size < REFUSED_KEYS_LISTED) names.add(key);
  return {
    series,
    histograms,
    events,
    refusedPoints: m.refusedItems,
    refused: {
      code: "too_many_keys",
      message: message(runId, batch.seq, over, replay),
      points: m.refusedItems,
      histograms: h.refusedItems,
      events: i.refusedItems,
      keys: [...names],
    },
  };
}

/** Whether an item of key `key` is stored: a key the run has, or a new one while there is room. */
function admit(known: Set<string>, key: string, k: Kind, replay: boolean): boolean {
  if (known.has(key)) return true;
  if (k.refusedKeys.has(key)) {
    k.refusedItems++;
    return false;
  }
  if (!replay && known.size < LIMITS[k.limit].value) {
    known.add(key); // later items of the same key in this batch are then the run's own
    k.taken++;
    return true;
  }
  k.refusedKeys.add(key);
  k.refusedItems++;
  return false;
}

function message(runId: string, seq: number, over: Kind[], replay: boolean): string {
  const parts = over.map((k) => {
    const max = LIMITS[k.limit].value;
    const n = k.refusedKeys.size;
    return (
      `run ${runId} has ${k.had + k.taken} ${k.what}s, at most ${max} per run (${k.limit}): ` +
      `${n} new ${k.what}${n === 1 ? "" : "s"} and ${n === 1 ? "its" : "their"} ${k.refusedItems} ${k.unit}${k.refusedItems === 1 ? "" : "s"} were not stored`
    );
  });
  const head = replay ? `batch seq ${seq} was already stored, without these keys; ` : "";
  return (
    `${head}${parts.join("; ")}. Everything logged under keys the run already has was stored. ` +
    "Log fewer distinct keys (e.g. summarise per-layer values, or log them as a histogram), or start a new run for the new keys."
  );
}
