import { prisma, sqlite } from "../db";
import type { PageRunDetail, RunDetail } from "../ui/api-types";
import { AppError } from "../errors";
import { runSeries } from "../series/series-meta";
import { lightenStats } from "../ui/data-stats";
import { encodeNullable, encodeValue } from "../values";
import { runView } from "./run-view";
import { tagsOf } from "./update-run";

// a page lists a run's first events, plus the latest data statistics logged after them
const EVENTS_SHOWN = 1000;
const LATEST_STATS = 100;
const STATS_TYPES = ["input_stats", "input_statistics", "data_stats", "label_stats", "output_stats"];

/**
 * A run with every key it logged (count, range, last value), its histogram keys and events; with
 * `owner`, its owner's name and its sweep too (the dashboard's; a shared link's page never shows them).
 * Statistics events but the latest of each split come without their per-feature lists (lightenStats)
 * unless `fullEvents`.
 */
export async function getRun(id: string, opts: { owner?: boolean; fullEvents?: boolean } = {}) {
  const run = await prisma().run.findUnique({
    where: { id },
    include: { project: true, owner: { select: { name: true } }, sweep: { select: { id: true, name: true } } },
  });
  if (!run) throw new AppError("not_found", `run ${id} does not exist`);
  const keys = [...runSeries(id).values()]
    .filter((m) => m.count > 0)
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((m) => ({
      key: m.key,
      count: m.count,
      firstStep: m.firstStep,
      lastStep: m.lastStep,
      lastValue: encodeValue(m.lastValue),
      min: encodeNullable(m.min),
      max: encodeNullable(m.max),
      nonFinite: m.nan + m.posInf + m.negInf,
    }));
  const db = sqlite();
  const histogramKeys = db
    .prepare("SELECT key, COUNT(*) AS count, MAX(step) AS lastStep FROM histograms WHERE run_id = ? GROUP BY key ORDER BY key")
    .all(id) as { key: string; count: number; lastStep: number }[];
  type EventRow = { id: number; type: string; step: number | null; time: number; data: string };
  const rows = db
    .prepare(`SELECT id, type, step, time, data FROM events WHERE run_id = ? AND type != 'image' ORDER BY id LIMIT ${EVENTS_SHOWN}`)
    .all(id) as EventRow[];
  // past the first events, the latest data statistics still come: the page's Data section shows the
  // latest of each split, the ones the diagnostics read (a long watch()ed run logs two an epoch)
  if (rows.length === EVENTS_SHOWN) {
    const later = db
      .prepare(
        `SELECT id, type, step, time, data FROM events WHERE run_id = ? AND id > ? AND type IN (${STATS_TYPES.map(() => "?").join(", ")})
         ORDER BY id DESC LIMIT ${LATEST_STATS}`,
      )
      .all(id, rows[rows.length - 1].id, ...STATS_TYPES) as EventRow[];
    rows.push(...later.reverse());
  }
  const whole = rows.map(({ id: _, ...e }) => ({ ...e, data: JSON.parse(e.data) as unknown }));
  // a watch()ed run logs a 784-feature input_stats (~30 KB) twice an epoch: the page needs the latest
  const events = opts.fullEvents ? whole : lightenStats(whole);
  // each part from events_image_key_idx alone: a GROUP BY would read every image's data (its PNG)
  const images = db
    .prepare(
      `SELECT k.key,
         (SELECT COUNT(*) FROM events WHERE run_id = @id AND type = 'image' AND json_extract(data, '$.key') = k.key) AS count,
         (SELECT MAX(step) FROM events WHERE run_id = @id AND type = 'image' AND json_extract(data, '$.key') = k.key) AS lastStep
       FROM (SELECT DISTINCT json_extract(data, '$.key') AS key FROM events WHERE run_id = @id AND type = 'image') AS k ORDER BY 1`,
    )
    .all({ id }) as { key: string; count: number; lastStep: number }[];
  const { owner, sweep, ...record } = run;
  const view = runView({ ...record, tags: tagsOf([id]).get(id) ?? [] });
  // the dashboard's view names the run's owner and sweep; a shared link's never does
  return { run: opts.owner ? { ...view, owner: owner?.name ?? null, sweep: sweep ?? null } : view, keys, histogramKeys, events, images };
}

/** A run as a page embeds it: every key, with only the fields the page reads. */
export function pageDetail(d: RunDetail): PageRunDetail {
  return { ...d, keys: d.keys.map((k) => ({ key: k.key, count: k.count, firstStep: k.firstStep, lastStep: k.lastStep })) };
}
