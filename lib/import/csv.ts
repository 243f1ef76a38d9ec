import Papa from "papaparse";
import { type ImportData, isStep, tooMany } from "./model";
import { logNumber } from "./text-log";

// CSV logs. The first row names the columns; the step is, in this order: the column the user names
// (`stepColumn`), then the first of step, _step, global_step, Step, iteration, iter, epoch (any case);
// with none, rows are numbered from 0. Other columns:
// - epoch (when it is not the step: Lightning's metrics.csv) -> the row's epoch
// - timestamp, _timestamp, wall_time, time, Wall time -> the row's time (milliseconds are divided)
// - MLflow's long form (columns key and value, or metric and value): one metric per row
// - TensorBoard's CSV download (Wall time, Step, Value): the metric is named by the file's tag
//   (`run-<run>-tag-<tag>.csv`), or the file's name
// - W&B panel exports: `<run> - <metric>` columns lose the shared `<run> - ` part; their __MIN and
//   __MAX companion columns are left out
// - every other column is a metric; an empty cell (Lightning writes sparse rows) or a cell that is
//   not a number is no point. nan, inf and -inf are values.

const STEP_COLUMNS = ["step", "_step", "global_step", "iteration", "iter", "epoch"];
const TIME_COLUMNS = new Set(["timestamp", "_timestamp", "wall_time", "time", "wall time", "_runtime_timestamp"]);

/** readCsv in one go (the sync parseFile path). */
export function readCsv(text: string, out: ImportData, stepColumn?: string, fileName?: string): void {
  for (const _ of csvParts(text, out, stepColumn, fileName));
}

/**
 * CSV -> points, yielding between parts of CHUNK characters so that the server's other requests run
 * while a large file is read. Split by Papa Parse: csv-parse, the library used before, builds and
 * deep-copies an error object (about 50 µs) for every row whose length differs from the first
 * row's, whatever its options say (relax_column_count, skip_records_with_error): 64 MiB of such
 * rows froze the server for about a minute. Papa Parse checks no row lengths.
 */
export function* csvParts(text: string, out: ImportData, stepColumn?: string, fileName?: string): Generator<void, void> {
  let parser: Papa.Parser | undefined;
  let batch: string[][] = [];
  let errors: Papa.ParseError[] = [];
  const take = (r: Papa.ParseResult<string[]>, p: Papa.Parser) => {
    batch = r.data;
    errors = r.errors;
    parser = p;
    p.pause();
  };
  // a BOM is dropped; rows may be of any length; a quote inside an unquoted cell is kept as it is
  // chunks of a string are parsed synchronously: each pauses the parser, resumed after a yield
  // a .tsv file's cells are split at tabs (read at commas, its every row was one cell: nothing was imported)
  const delimiter = fileName?.toLowerCase().endsWith(".tsv") ? "\t" : ",";
  Papa.parse<string[]>(text, { delimiter, skipEmptyLines: true, chunkSize: CHUNK, chunk: take, complete: () => {} });
  let read: ((row: string[]) => void) | null | undefined;
  let rows = 0;
  let tooLong = false;
  while (parser) {
    const p = parser;
    parser = undefined;
    const broken = new Set(errors.filter((e) => e.code === "MissingQuotes").map((e) => e.row));
    for (const e of errors.filter((e) => e.code === "MissingQuotes"))
      out.skip(`not CSV: Quote Not Closed: the quoted field of row ${rows + (e.row ?? 0) + 1} never ends; the rows from there on were not read`);
    for (let i = 0; i < batch.length; i++) {
      const row = batch[i];
      if (broken.has(i)) break;
      let size = row.length;
      for (const cell of row) size += cell.length;
      if (size > MAX_FIELD) {
        if (!tooLong) out.skip(`not CSV: Max Record Size: a row exceeds ${MAX_FIELD} characters; such rows were left out`);
        tooLong = true;
        continue;
      }
      if (read === undefined) {
        read = rowReader(row, out, stepColumn, fileName);
        if (read === null) {
          p.abort();
          return;
        }
        continue;
      }
      // rows past importPointsMax are never read (a 64 MiB file of "1\n" is 32 million rows)
      tooMany(++rows);
      read?.(row);
    }
    batch = [];
    yield;
    p.resume();
  }
}

const CHUNK = 1 << 18;

/** The header row -> what reads each data row into `out`; null when nothing can be read. */
function rowReader(headerRow: string[], out: ImportData, stepColumn?: string, fileName?: string): ((row: string[]) => void) | null {
  const header = headerRow.map((h) => h.trim());
  const lower = header.map((h) => h.toLowerCase());
  let stepAt = stepColumn !== undefined ? header.indexOf(stepColumn) : -1;
  if (stepColumn !== undefined && stepAt < 0) {
    out.skip(`no column named ${JSON.stringify(stepColumn.slice(0, 200))}`);
    return null;
  }
  if (stepAt < 0) {
    for (const name of STEP_COLUMNS) {
      stepAt = lower.indexOf(name);
      if (stepAt >= 0) break;
    }
  }
  const epochAt = lower.indexOf("epoch") !== stepAt ? lower.indexOf("epoch") : -1;
  const timeAt = lower.findIndex((h) => TIME_COLUMNS.has(h));
  const keyAt = lower.indexOf("key") >= 0 ? lower.indexOf("key") : lower.indexOf("metric");
  const valueAt = lower.indexOf("value");
  const long = keyAt >= 0 && valueAt >= 0;

  // W&B: "<run> - <metric>" columns, each with "__MIN" and "__MAX" companions
  const metricCols: [number, string][] = [];
  for (let i = 0; i < header.length; i++) {
    if (i === stepAt || i === epochAt || i === timeAt || header[i] === "") continue;
    if (header[i].endsWith("__MIN") || header[i].endsWith("__MAX")) continue;
    metricCols.push([i, header[i]]);
  }
  const dash = metricCols.map(([, h]) => h.indexOf(" - "));
  if (metricCols.length && dash.every((d) => d > 0)) {
    const prefixes = new Set(metricCols.map(([, h], j) => h.slice(0, dash[j])));
    if (prefixes.size === 1) for (let j = 0; j < metricCols.length; j++) metricCols[j][1] = metricCols[j][1].slice(dash[j] + 3);
  }
  // TensorBoard's "download CSV" (Wall time, Step, Value): one tag per file, named by the file
  // (`run-<run>-tag-<tag>.csv`, the tag's slashes written as _), not by its one column
  if (!long && stepAt >= 0 && metricCols.length === 1 && metricCols[0][1].toLowerCase() === "value" && fileName) {
    const stem = fileName.replace(/\.[ct]sv$/i, "");
    const tag = stem.lastIndexOf("-tag-");
    const name = tag >= 0 ? stem.slice(tag + 5) : stem;
    if (name) metricCols[0][1] = name;
  }
  // a name given to two columns: the second's values would replace the first's at every step,
  // unsaid; the first is kept and the others are left out, said so
  const seen = new Set<string>();
  for (let j = 0; !long && j < metricCols.length; j++) {
    const [i, key] = metricCols[j];
    if (!seen.has(key)) {
      seen.add(key);
      continue;
    }
    out.skip(`column ${i + 1} repeats the name ${JSON.stringify(key.slice(0, 200))} of an earlier column: left out`);
    metricCols.splice(j--, 1);
  }

  let r = 0;
  return (row: string[]) => {
    let step = r++;
    if (stepAt >= 0) {
      const s = logNumber(row[stepAt] ?? "");
      if (s === undefined || !isStep(s)) return; // a repeated header, a note line: not a data row
      step = s;
    }
    let time = Number.NaN;
    if (timeAt >= 0) {
      const t = logNumber(row[timeAt] ?? "");
      if (t !== undefined && Number.isFinite(t)) time = t > 1e11 ? t / 1000 : t;
    }
    if (epochAt >= 0) {
      const e = logNumber(row[epochAt] ?? "");
      if (e !== undefined && Number.isFinite(e)) out.epochs.set(step, e);
    } else if (lower[stepAt] === "epoch") out.epochs.set(step, step);
    if (long) {
      const key = (row[keyAt] ?? "").trim();
      const v = logNumber(row[valueAt] ?? "");
      if (key && v !== undefined) out.point(key, step, v, time);
      return;
    }
    for (const [i, key] of metricCols) {
      const cell = row[i];
      if (cell === undefined || cell.trim() === "") continue;
      const v = logNumber(cell);
      if (v !== undefined) out.point(key, step, v, time);
    }
  };
}

const MAX_FIELD = 1024 * 1024;
