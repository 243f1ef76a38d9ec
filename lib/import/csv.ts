import { LIMITS } from "../contract/limits";
import { type ImportData, isStep, tooMany } from "./model";
import { logNumber } from "./text-log";

// CSV logs. The first row names the columns; the step is, in this order: the column the user names
// (`stepColumn`), then the first of step, _step, global_step, Step, iteration, iter, epoch (any case);
// with none, rows are numbered from 0. Other columns:
// - epoch (when it is not the step: Lightning's metrics.csv) -> the row's epoch
// - timestamp, _timestamp, wall_time, time, Wall time -> the row's time (milliseconds are divided)
// - MLflow's long form (columns key and value, or metric and value): one metric per row
// - W&B panel exports: `<run> - <metric>` columns lose the shared `<run> - ` part; their __MIN and
//   __MAX companion columns are left out
// - every other column is a metric; an empty cell (Lightning writes sparse rows) or a cell that is
//   not a number is no point. nan, inf and -inf are values.

const STEP_COLUMNS = ["step", "_step", "global_step", "iteration", "iter", "epoch"];
const TIME_COLUMNS = new Set(["timestamp", "_timestamp", "wall_time", "time", "wall time", "_runtime_timestamp"]);

export function readCsv(text: string, out: ImportData, stepColumn?: string): void {
  let rows: string[][];
  try {
    // rows past importPointsMax are never built (a 64 MiB file of "1\n" is 32 million arrays)
    rows = splitCsv(text, LIMITS.importPointsMax.value + 2, MAX_FIELD);
  } catch (e) {
    out.skip(`not CSV: ${(e as Error).message.slice(0, 200)}`);
    return;
  }
  if (rows.length === 0) return;
  tooMany(rows.length - 1);
  const header = rows[0].map((h) => h.trim());
  const lower = header.map((h) => h.toLowerCase());
  let stepAt = stepColumn !== undefined ? header.indexOf(stepColumn) : -1;
  if (stepColumn !== undefined && stepAt < 0) {
    out.skip(`no column named ${JSON.stringify(stepColumn.slice(0, 200))}`);
    return;
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

  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    let step = r - 1;
    if (stepAt >= 0) {
      const s = logNumber(row[stepAt] ?? "");
      if (s === undefined || !isStep(s)) continue; // a repeated header, a note line: not a data row
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
      continue;
    }
    for (const [i, key] of metricCols) {
      const cell = row[i];
      if (cell === undefined || cell.trim() === "") continue;
      const v = logNumber(cell);
      if (v !== undefined) out.point(key, step, v, time);
    }
  }
}

const MAX_FIELD = 1024 * 1024;

/**
 * CSV text -> rows of cells: RFC 4180 quoting ("a ""b""" is a "b"), rows of any length, empty lines
 * left out, a leading BOM dropped, a quote inside an unquoted cell kept as it is; at most `maxRows`
 * rows. Throws on a row longer than `maxField` characters or a quote never closed. One pass, no error object
 * per row (csv-parse builds and deep-copies one for each row whose length differs from the first
 * row's: a minute for 64 MiB of such rows, with the server frozen).
 */
export function splitCsv(text: string, maxRows: number, maxField: number): string[][] {
  const rows: string[][] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let row: string[] = [];
  let rowStart = i;
  while (i <= n && rows.length < maxRows) {
    let cell: string;
    if (text[i] === '"') {
      // quoted: up to the quote not doubled; what follows it up to the separator is kept too
      let out = "";
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw new Error(`Quote Not Closed: the quoted field at character ${i} never ends`);
        out += text.slice(from, q);
        if (text[q + 1] === '"') {
          out += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      let end = i;
      while (end < n && text[end] !== "," && text[end] !== "\n") end++;
      cell = out + text.slice(i, end).replace(/\r$/, "");
      i = end;
    } else {
      let end = i;
      while (end < n && text[end] !== "," && text[end] !== "\n") end++;
      cell = text.slice(i, end);
      if (text[end] !== ",") cell = cell.replace(/\r$/, "");
      i = end;
    }
    if (i - rowStart > maxField) throw new Error(`Max Record Size: a row exceeds ${maxField} characters`);
    row.push(cell);
    if (text[i] === ",") {
      i++;
      continue;
    }
    // end of line or of text: an empty line (one empty cell) is no row
    if (!(row.length === 1 && row[0] === "")) rows.push(row);
    row = [];
    i++;
    rowStart = i;
  }
  return rows;
}
