import crypto from "node:crypto";
import { LIMITS, codePointLength, isWellFormed, nameProblem } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { appendBatch } from "../ingest/append-batch";
import { createRun } from "../runs/create-run";
import { isDeletedRun } from "../runs/delete-run";
import { holdingRun } from "../runs/run-lock";
import { configProblem, exceedsDepth } from "../schemas/config";
import { sweepLinkOf } from "../schemas/sweeps";
import { checkLinkSpace } from "../sweeps/store";
import { type LogBatch, event as eventSchema, histogram as histogramSchema, isEpoch, isTime, metricKeyProblem } from "../schemas/log-batch";
import { runSeries } from "../series/series-meta";
import type { ImportData } from "./model";
import { type Format, ImportFileError, type ParseOptions, parseFileAsync } from "./parse-file";
import type { TagPlugins } from "./tensorboard/events";

// Stores one source file in the run it belongs to, through the log route's own path (appendBatch),
// so that an imported run is stored, shown live and diagnosed like a streamed one.
//
// Identity and idempotence: the run's id is a hash of (project, source), where source is what names
// the run on the importer's side (lib/import/run-source.ts: the same for the CLI, the dashboard and
// the Python SDK), so importing the same logs again resumes the same run. A run an earlier version
// imported under another source (`formerSource`: the CLI's absolute path, the dashboard's `upload:`
// path) keeps being the one its logs go to. Nothing is stored twice: a metric point whose step is at
// or before the last step its key already holds is not sent again (TensorBoard, CSV and text logs
// only ever append), and a histogram, image or text already stored under its key and step, or an
// event equal to a stored one, is left out. A directory that grew therefore adds only what is new.
// A file that does not parse (a bad checksum) is refused whole before anything is written.

export interface ImportFileInput {
  project: string;
  /** Names the run on the importer's side (lib/import/run-source.ts). */
  source: string;
  /** What earlier versions named the run by: its run is used when the project has one and none for `source`. */
  formerSource?: string;
  /** The file's path, relative to the run (shown in skipped reasons). */
  path: string;
  name?: string;
  bytes: Uint8Array;
  /**
   * The file's bytes before `bytes`, already sent (a growing file sent in parts): `bytes` starts at a
   * record (TensorBoard) or line boundary. Not for CSV, whose header is in the first part.
   */
  offset?: number;
  options?: ParseOptions;
}

export interface ImportFileResult {
  runId: string;
  url: string;
  name: string;
  /** Whether the run existed before this file (an earlier file or import). */
  resumed: boolean;
  format: Format | null;
  points: number;
  histograms: number;
  images: number;
  events: number;
  /** Points, histograms, images and events the run already held: not stored again. */
  unchanged: number;
  /** The file ends in a partial record (still being written): the rest comes with the next import. */
  truncated: boolean;
  /** The earliest and latest time the file records (Unix seconds), or null: the run's real span. */
  times: { first: number; last: number } | null;
  /**
   * The file's bytes read whole (offset + what of the body was read up to its last complete record
   * or line): a client following a growing file (`babysit watch`) sends the rest from here next.
   */
  end: number;
  skipped: { path: string; reason: string }[];
}

/** The run id an import of `source` into `project` resumes (before any run of it was deleted). */
export function importRunId(project: string, source: string, generation = 0): string {
  const key = generation === 0 ? `${project}\u0000${source}` : `${project}\u0000${source}\u0000${generation}`;
  return `imp-${crypto.createHash("sha256").update(key).digest("hex").slice(0, 32)}`;
}

/**
 * The run an import of `source` into `project` stores into now: a deleted run's id is never used
 * again (410 for a script still logging to it), so once the imported run is deleted, importing the
 * same logs again makes a new run under the next id of the same sequence, which later imports then
 * resume. (The fixed id was refused for BABYSIT_DELETED_RUN_RETENTION_DAYS, with a message naming
 * no way out: deleting a botched import and importing again was impossible.)
 */
export function currentImportRunId(project: string, source: string): string {
  for (let generation = 0; ; generation++) {
    const id = importRunId(project, source, generation);
    if (!isDeletedRun(id)) return id;
  }
}

/**
 * Why a source or file path cannot be taken: they are a file's path on the sender's disk (hashed
 * into the run's id, quoted in messages), not names shown as labels, so the control characters a
 * directory's name may hold (a tab, a newline) are theirs to have; a lone surrogate or an empty or
 * over-long string is not.
 */
function pathProblem(s: string, what: string): string | null {
  if (s.length === 0) return `${what} must not be empty`;
  if (!isWellFormed(s)) return `${what} must be well-formed Unicode (no lone surrogates)`;
  if (codePointLength(s) > LIMITS.importSourceMaxLength.value) return `${what} must be at most ${LIMITS.importSourceMaxLength.value} code points`;
  return null;
}

/**
 * The run an import goes to: `source`'s, unless only `formerSource`'s exists in the project (a run an
 * earlier version imported, named by the CLI's absolute path or the dashboard's `upload:` path). A
 * former source longer than any source could be names no run.
 */
export function importRunIdFor(project: string, source: string, formerSource?: string): string {
  const id = currentImportRunId(project, source);
  if (formerSource === undefined || formerSource === source || codePointLength(formerSource) > LIMITS.importSourceMaxLength.value) return id;
  const former = importRunId(project, formerSource);
  const exists = (runId: string) => stmt(sqlite(), "SELECT 1 FROM runs WHERE id = ?").get(runId) !== undefined;
  return !exists(id) && exists(former) ? former : id;
}

export function importInputProblem(input: { project: string; source: string; path: string; name?: string }): string | null {
  return (
    nameProblem(input.project.trim(), LIMITS.projectMaxLength, "project") ??
    pathProblem(input.source, "source") ??
    pathProblem(input.path, "path") ??
    (input.name === undefined ? null : nameProblem(input.name.trim(), LIMITS.runNameMaxLength, "name"))
  );
}

// One import at a time per process: each holds up to importPointsMax points in memory while it
// parses and stores, so N requests at once would hold N times that (and two imports of the same
// file at once would both find nothing stored yet).
let queue: Promise<unknown> = Promise.resolve();

export function importFile(input: ImportFileInput, opts: { ownerId?: number | null } = {}): Promise<ImportFileResult> {
  const done = queue.then(() => importFileNow(input, opts));
  queue = done.catch(() => undefined);
  return done;
}

async function importFileNow(input: ImportFileInput, opts: { ownerId?: number | null }): Promise<ImportFileResult> {
  const problem = importInputProblem(input);
  if (problem) throw new AppError("invalid_import", problem);
  const id = importRunIdFor(input.project.trim(), input.source, input.formerSource);
  let parsed: Awaited<ReturnType<typeof parseFileAsync>>;
  try {
    parsed = await parseFileAsync(input.path, input.bytes, { ...input.options, plugins: storedTagPlugins(id) });
  } catch (e) {
    if (e instanceof ImportFileError) throw new AppError(e.cause === "too_large" ? "payload_too_large" : "invalid_import", e.message);
    throw e;
  }
  const { data, format } = parsed;
  if (input.offset && format === "csv") throw new AppError("invalid_import", "offset: a CSV file is sent whole (its header names the columns)");
  const skipped = data.skipped.map((reason) => ({ path: input.path, reason }));
  if (data.moreSkipped) skipped.push({ path: input.path, reason: `and ${data.moreSkipped} more parts skipped` });

  const config: Record<string, unknown> = Object.create(null);
  for (const [k, v] of data.config) config[k] = v;
  let runConfig: Record<string, unknown> | undefined = data.config.size ? { ...config } : undefined;
  if (runConfig && configProblem(runConfig)) {
    skipped.push({ path: input.path, reason: `the recorded hyperparameters were not kept: ${configProblem(runConfig)!.message}` });
    runConfig = undefined;
  }
  // a logged hyperparameter named "sweep" (a W&B sweep's name, say) is not babysit's config.sweep:
  // it is left out rather than refusing the whole file
  if (runConfig && Object.hasOwn(runConfig, "sweep")) {
    try {
      const link = sweepLinkOf(runConfig);
      if (link) checkLinkSpace(link);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      skipped.push({ path: input.path, reason: `the recorded hyperparameter "sweep" was not kept: ${e.message}` });
      delete runConfig.sweep;
    }
  }
  const times = timesOf(data);
  // the run is held from here to the last transaction: what it holds is read once (the steps and seq
  // numbers to go on from), and no log batch, finish or delete slips between two of this file's
  // transactions (lib/runs/run-lock.ts); requests about other runs are answered in between
  return holdingRun(id, () => storeFile(input, id, data, format, runConfig, times, skipped, opts));
}

/** Rows of metric points per transaction: small enough that the server answers others in between (bench/import-stall.ts). */
const STORE_POINTS = 5_000;
/** Histogram bins, or events, per transaction, for the same reason. */
const STORE_BINS = 20_000;
const STORE_EVENTS = 100;

/** Lets other requests be answered: between two of an import's transactions, and every so often while it prepares them. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

async function storeFile(
  input: ImportFileInput,
  id: string,
  data: ImportData,
  format: Format | null,
  runConfig: Record<string, unknown> | undefined,
  times: { first: number; last: number } | null,
  skipped: { path: string; reason: string }[],
  opts: { ownerId?: number | null },
): Promise<ImportFileResult> {
  // a new run starts when its log does (createRun keeps a sane startedAt only)
  // deleted while the file was parsed (parsing yields): the next run of the sequence
  const runId = isDeletedRun(id) ? currentImportRunId(input.project.trim(), input.source) : id;
  const run = await createRun(
    { project: input.project.trim(), name: input.name?.trim(), id: runId, config: runConfig, startedAt: times?.first },
    opts,
  );

  const out: ImportFileResult = {
    runId: run.id,
    url: run.url,
    name: run.name,
    resumed: run.resumed,
    format,
    points: 0,
    histograms: 0,
    images: 0,
    events: 0,
    unchanged: 0,
    truncated: data.truncated,
    times,
    end: (input.offset ?? 0) + data.end,
    skipped,
  };
  for await (const batch of batchesOf(run.id, data, out, input.path)) {
    const r = appendBatch(run.id, batch);
    out.points += r.accepted.points;
    out.histograms += r.accepted.histograms;
    if (r.refused) skipped.push({ path: input.path, reason: r.refused.message });
    await breathe();
  }
  return out;
}

/**
 * A TensorBoard tag's plugin for this import: named earlier in the file, else known from what the
 * run already stored under the tag. TF2 names a tag's plugin on its first value only, so a file's
 * tail (`offset`) or the run's next event file (one per writer session) carries values with no
 * plugin; the kind the run stored the tag as is that plugin, and needs no state of its own (a run
 * whose data is deleted forgets it with them). Each tag is looked up once per import.
 */
function storedTagPlugins(runId: string): TagPlugins {
  const known = new Map<string, string | null>();
  return {
    set: (tag, plugin) => void known.set(tag, plugin),
    get(tag) {
      let p = known.get(tag);
      if (p === undefined) known.set(tag, (p = storedKind(runId, tag)));
      return p ?? undefined;
    },
  };
}

function storedKind(runId: string, tag: string): string | null {
  const db = sqlite();
  const image = "SELECT 1 FROM events WHERE run_id = ? AND type = 'image' AND json_extract(data, '$.key') = ? LIMIT 1"; // the image key index
  const text = "SELECT 1 FROM events WHERE run_id = ? AND type = 'text' AND json_extract(data, '$.key') = ? LIMIT 1";
  if (stmt(db, "SELECT 1 FROM histograms WHERE run_id = ? AND key = ? LIMIT 1").get(runId, tag)) return "histograms";
  if (stmt(db, image).get(runId, tag)) return "images";
  if (stmt(db, text).get(runId, tag)) return "text";
  if (stmt(db, "SELECT 1 FROM series WHERE run_id = ? AND key = ? LIMIT 1").get(runId, tag)) return "scalars";
  // a summary of several images is stored as tag/0, tag/1, ... (checked last: "tag/0" may be a tag of its own)
  if (stmt(db, image).get(runId, `${tag}/0`)) return "images";
  return null;
}

function timesOf(data: ImportData): { first: number; last: number } | null {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const see = (t: number) => {
    if (!isTime(t)) return;
    if (t < first) first = t;
    if (t > last) last = t;
  };
  for (const p of data.points.values()) for (const t of p.times) see(t);
  for (const h of data.histograms) see(h.time);
  for (const i of data.images) see(i.time);
  for (const t of data.texts) see(t.time);
  return first <= last ? { first, last } : null;
}

/** The new part of `data` as log batches within the wire limits, numbered after the run's last seq. */
async function* batchesOf(runId: string, data: ImportData, out: ImportFileResult, path: string): AsyncGenerator<LogBatch> {
  const db = sqlite();
  const seq0 = (stmt(db, "SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM batches WHERE run_id = ?").get(runId) as { n: number }).n;
  let seq = seq0;
  const skip = (reason: string) => out.skipped.push({ path, reason });

  // metric points: by step, each step's metrics one row
  const stored = runSeries(runId);
  const rows = new Map<number, { time: number; metrics: Record<string, number> }>();
  let seen = 0;
  for (const [key, p] of data.points) {
    const problem = metricKeyProblem(key);
    if (problem) {
      skip(`metric ${JSON.stringify(key.slice(0, 100))}: ${problem}`);
      continue;
    }
    const meta = stored.get(key);
    const last = meta ? Math.max(meta.count > 0 ? meta.lastStep : -1, meta.sealed.count > 0 ? meta.sealed.lastStep : -1) : -1;
    for (let i = 0; i < p.steps.length; i++) {
      if (++seen % STORE_POINTS === 0) await breathe();
      const step = p.steps[i];
      if (step <= last) {
        out.unchanged++;
        continue;
      }
      let row = rows.get(step);
      if (!row) rows.set(step, (row = { time: p.times[i], metrics: Object.create(null) }));
      if (!Number.isFinite(row.time)) row.time = p.times[i];
      row.metrics[key] = p.values[i];
    }
  }
  const steps = [...rows.keys()].sort((a, b) => a - b);
  let batch: LogBatch = { seq, rows: [], histograms: [], events: [] };
  let inBatch = 0;
  for (const step of steps) {
    const r = rows.get(step)!;
    const epoch = data.epochs.get(step);
    batch.rows.push({
      step,
      metrics: r.metrics,
      ...(isTime(r.time) ? { time: r.time } : {}),
      ...(epoch !== undefined && isEpoch(epoch) ? { epoch } : {}),
    });
    for (const _ in r.metrics) inBatch++;
    if (inBatch >= STORE_POINTS || batch.rows.length >= LIMITS.rowsPerBatch.value) {
      yield batch;
      batch = { seq: ++seq, rows: [], histograms: [], events: [] };
      inBatch = 0;
    }
  }
  if (batch.rows.length) {
    yield batch;
    seq++;
  }

  // histograms, images, texts and other events: what the run does not hold yet, checked as the
  // log route checks them
  const hasHist = stmt(db, "SELECT 1 FROM histograms WHERE run_id = ? AND key = ? AND step = ?");
  const hists: LogBatch["histograms"] = [];
  for (const h of data.histograms) {
    if (hasHist.get(runId, h.key, h.step)) {
      out.unchanged++;
      continue;
    }
    const ok = histogramSchema.safeParse({ key: h.key, step: h.step, edges: h.edges, counts: h.counts, ...(isTime(h.time) ? { time: h.time } : {}) });
    if (!ok.success) skip(`histogram ${JSON.stringify(h.key.slice(0, 100))} at step ${h.step}: ${ok.error.issues[0]?.message}`);
    else hists.push(ok.data);
  }
  const hasKeyed = stmt(db, "SELECT 1 FROM events WHERE run_id = ? AND type = ? AND json_extract(data, '$.key') = ? AND step = ? LIMIT 1");
  const hasSame = stmt(db, "SELECT 1 FROM events WHERE run_id = ? AND type = ? AND step IS ? AND data = ? LIMIT 1");
  const events: LogBatch["events"] = [];
  const add = (e: { type: string; step: number | null; time: number; data: Record<string, unknown> }, what: string) => {
    const ok = eventSchema.safeParse({ type: e.type, step: e.step, data: e.data, ...(isTime(e.time) ? { time: e.time } : {}) });
    if (!ok.success) skip(`${what}: ${ok.error.issues[0]?.message}`);
    else events.push({ ...ok.data, data: e.data });
  };
  for (const im of data.images) {
    if (hasKeyed.get(runId, "image", im.key, im.step)) {
      out.unchanged++;
      continue;
    }
    const d = { key: im.key, width: im.width, height: im.height, png_base64: Buffer.from(im.png).toString("base64") };
    add({ type: "image", step: im.step, time: im.time, data: d }, `image ${JSON.stringify(im.key.slice(0, 100))} at step ${im.step}`);
  }
  for (const t of data.texts) {
    if (hasKeyed.get(runId, "text", t.key, t.step)) {
      out.unchanged++;
      continue;
    }
    add(
      { type: "text", step: t.step, time: t.time, data: { key: t.key, text: t.text } },
      `text ${JSON.stringify(t.key.slice(0, 100))} at step ${t.step}`,
    );
  }
  for (const e of data.events) {
    // JSON.stringify below recurses: data nested deeper than the log route takes would overflow the stack (a 500)
    if (exceedsDepth(e.data, LIMITS.jsonDepth.value)) {
      skip(`event ${JSON.stringify(e.type.slice(0, 64))}: data must be nested at most ${LIMITS.jsonDepth.value} levels deep`);
      continue;
    }
    if (hasSame.get(runId, e.type, e.step, JSON.stringify(e.data))) {
      out.unchanged++;
      continue;
    }
    add(e, `event ${JSON.stringify(e.type.slice(0, 64))}`);
  }
  out.images = events.filter((e) => e.type === "image").length;
  out.events = events.length - out.images;
  const hmax = LIMITS.histogramsPerBatch.value;
  for (let i = 0; i < hists.length; ) {
    let j = i + 1;
    for (let bins = hists[i].counts.length; j < hists.length && j - i < hmax && bins + hists[j].counts.length <= STORE_BINS; j++)
      bins += hists[j].counts.length;
    yield { seq: seq++, rows: [], histograms: hists.slice(i, j), events: [] };
    i = j;
  }
  const emax = Math.min(STORE_EVENTS, LIMITS.eventsPerBatch.value);
  for (let j = 0; j < events.length; j += emax) yield { seq: seq++, rows: [], histograms: [], events: events.slice(j, j + emax) };
}
