import { encodeValue } from "../values";
import { type ImportData, isStep } from "./model";
import { LINES_PER_PART, MAX_LINE } from "./text-log";

// JSON Lines: one object per line.
// - babysit's run format (the tests' metrics.jsonl): {"kind": "scalar", step, key, value, epoch?,
//   wall_time?}, {"kind": "hist", step, key, edges, counts}, {"kind": "config", ...} (merged into
//   the run's config), and any other kind as an event of that type (input_stats, ...).
// - Flat objects (a metrics file written by hand, W&B's history): the step is step, _step,
//   global_step, iteration or epoch (first found); time from wall_time, _timestamp, timestamp or
//   time; nested objects are flattened with "/" ({"train": {"loss": 1}} -> train/loss); every other
//   number is a metric. Lines without a step are numbered by their order.
// Bare NaN / Infinity / -Infinity (what Python's json writes) and the strings "NaN", "Infinity",
// "-Infinity" are values. A line that is not JSON is skipped; a last line without its newline is a
// file still being written.

const STEP_KEYS = ["step", "_step", "global_step", "iteration", "epoch"];
const TIME_KEYS = ["wall_time", "_timestamp", "timestamp", "time"];
/** Unix seconds of March 1973: a smaller `time` is a duration, not when the row was written. */
const WALL_TIME_MIN = 1e8;

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return JSON.parse(quoteBareNonFinite(line));
  }
}

/** Quotes NaN, Infinity and -Infinity outside strings (one pass: no regex to backtrack). */
export function quoteBareNonFinite(line: string): string {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const word = line.startsWith("NaN", i)
      ? "NaN"
      : line.startsWith("-Infinity", i)
        ? "-Infinity"
        : line.startsWith("Infinity", i)
          ? "Infinity"
          : null;
    if (word) {
      out += `${line.slice(from, i)}"${word}"`;
      i += word.length - 1;
      from = i + 1;
    }
  }
  return out + line.slice(from);
}

function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  return undefined;
}

function own(o: Record<string, unknown>, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

export function readJsonl(text: string, out: ImportData): void {
  for (const _ of jsonlParts(text, out));
}

/** readJsonl in parts: yields every LINES_PER_PART lines, so that a caller may let others run. */
export function* jsonlParts(text: string, out: ImportData): Generator<void> {
  const lines = text.split("\n");
  const at = { i: 0, order: 0 };
  for (;;) {
    readLines(lines, out, at, Math.min(lines.length, at.i + LINES_PER_PART));
    if (at.i >= lines.length) return;
    yield;
  }
}

// (a plain function, not the generator's body: V8 runs the hot loop faster outside a generator)
function readLines(lines: string[], out: ImportData, at: { i: number; order: number }, to: number): void {
  let order = at.order;
  for (let i = at.i; i < to; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    if (line.length > MAX_LINE) {
      out.skip(`line ${i + 1} is longer than ${MAX_LINE} characters`);
      continue;
    }
    let o: unknown;
    try {
      o = parseLine(line);
    } catch {
      if (i === lines.length - 1) out.truncated = true;
      else out.skip(`line ${i + 1} is not JSON`);
      continue;
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
      out.skip(`line ${i + 1} is not a JSON object`);
      continue;
    }
    const r = o as Record<string, unknown>;
    const kind = own(r, "kind");
    if (typeof kind === "string") readKind(kind, r, out, i + 1);
    else readFlat(r, out, order);
    order++;
  }
  at.i = to;
  at.order = order;
}

/**
 * A `.json` file that is one JSON document rather than JSON Lines; false when the text is not one
 * document (JSON Lines, such as detectron2's metrics.json, are read line by line instead):
 * - Hugging Face's trainer_state.json: `log_history` entries as flat objects (their `step`), the
 *   end-of-training entry (it holds `train_runtime`) as the run's `summary` event (as the text
 *   rule reads the Trainer's printed dicts), `train_batch_size`, `num_train_epochs` and `max_steps` as
 *   the config's batch_size, epochs and max_steps;
 * - a Keras `history.history` dump, `{"loss": [...], "val_loss": [...]}`: value i at step (epoch) i,
 *   as Keras's CSVLogger counts epochs;
 * - a list of flat objects: each as a JSON Lines line.
 */
export function readJsonDocument(text: string, out: ImportData): boolean {
  let doc: unknown;
  try {
    doc = parseLine(text.trim());
  } catch {
    return false;
  }
  if (Array.isArray(doc)) {
    doc.forEach((o, i) => {
      if (typeof o === "object" && o !== null && !Array.isArray(o)) readFlat(o as Record<string, unknown>, out, i);
      else out.skip(`item ${i + 1} is not a JSON object`);
    });
    return true;
  }
  if (typeof doc !== "object" || doc === null) return false;
  const o = doc as Record<string, unknown>;
  const history = own(o, "log_history");
  if (Array.isArray(history)) {
    for (const [config, key] of [
      ["batch_size", "train_batch_size"],
      ["epochs", "num_train_epochs"],
      ["max_steps", "max_steps"],
    ] as const) {
      const v = num(own(o, key));
      if (v !== undefined && Number.isFinite(v)) out.config.set(config, v);
    }
    history.forEach((e, i) => {
      if (typeof e !== "object" || e === null || Array.isArray(e)) return out.skip(`log_history item ${i + 1} is not a JSON object`);
      const entry = e as Record<string, unknown>;
      if (own(entry, "train_runtime") === undefined) {
        // the Trainer writes each entry's step: one without (or with -1, 2.5, 1e300) is no entry of its
        // log, and its place in the list is no step (it would land between, or before, real steps)
        const step = num(own(entry, "step"));
        if (step === undefined || !isStep(step)) return out.skip(`log_history item ${i + 1} has no step`);
        return readFlat(entry, out, i);
      }
      const data: Record<string, unknown> = Object.create(null);
      for (const k of Object.keys(entry)) {
        const v = num(entry[k]);
        if (v !== undefined) data[k] = encodeValue(v);
      }
      out.events.push({ type: "summary", step: null, time: Number.NaN, data });
    });
    return true;
  }
  const keys = Object.keys(o);
  if (keys.length && keys.every((k) => Array.isArray(o[k]))) {
    for (const k of keys) {
      (o[k] as unknown[]).forEach((x, step) => {
        const v = num(x);
        if (v !== undefined) out.point(k, step, v);
      });
    }
    // (a loop, not Math.max(...lengths): a spread of 300k keys overflows the stack)
    let n = 0;
    for (const k of keys) n = Math.max(n, (o[k] as unknown[]).length);
    for (let step = 0; step < n; step++) out.epochs.set(step, step);
    return true;
  }
  // one object on one line: a JSON Lines file of one line; on several lines (a config.json): no log
  if (!text.trim().includes("\n")) return false;
  out.skip("a JSON document that is not a log babysit reads (trainer_state.json's log_history, a Keras history dump, a list of rows)");
  return true;
}

function readKind(kind: string, o: Record<string, unknown>, out: ImportData, lineNo: number): void {
  const step = num(own(o, "step"));
  const time = num(own(o, "wall_time")) ?? num(own(o, "time")) ?? Number.NaN;
  const key = own(o, "key");
  switch (kind) {
    case "config":
      for (const k of Object.keys(o)) if (k !== "kind") out.config.set(k, o[k]);
      return;
    case "scalar": {
      const v = num(own(o, "value"));
      if (typeof key !== "string" || step === undefined || !isStep(step) || v === undefined) {
        out.skip(`line ${lineNo}: a scalar needs key, step and value`);
        return;
      }
      out.point(key, step, v, time);
      const epoch = num(own(o, "epoch"));
      if (epoch !== undefined && Number.isFinite(epoch)) out.epochs.set(step, epoch);
      return;
    }
    case "hist": {
      const edges = own(o, "edges");
      const counts = own(o, "counts");
      if (typeof key !== "string" || step === undefined || !isStep(step) || !Array.isArray(edges) || !Array.isArray(counts)) {
        out.skip(`line ${lineNo}: a hist needs key, step, edges and counts`);
        return;
      }
      out.count();
      out.histograms.push({ key, step, time, edges: edges.map((e) => num(e) ?? Number.NaN), counts: counts.map((c) => num(c) ?? Number.NaN) });
      return;
    }
    default: {
      const data: Record<string, unknown> = Object.create(null);
      for (const k of Object.keys(o)) if (k !== "kind" && k !== "step" && k !== "type") data[k] = o[k];
      const type = kind === "event" && typeof own(o, "type") === "string" ? (o.type as string) : kind;
      const at = step !== undefined && isStep(step) ? step : type === "input_stats" ? 0 : null;
      out.count();
      out.events.push({ type, step: at, time, data });
    }
  }
}

function readFlat(o: Record<string, unknown>, out: ImportData, order: number): void {
  let stepKey: string | undefined;
  for (const k of STEP_KEYS) {
    const v = num(own(o, k));
    if (v !== undefined && isStep(v)) {
      stepKey = k;
      break;
    }
  }
  const step = stepKey ? (o[stepKey] as number) : order;
  let time = Number.NaN;
  let timeKey: string | undefined;
  for (const k of TIME_KEYS) {
    const t = num(own(o, k));
    // `time` is also what a step took (detectron2's seconds per iteration): a wall time is after 1973
    if (t !== undefined && Number.isFinite(t) && (k !== "time" || t >= WALL_TIME_MIN)) {
      time = t > 1e11 ? t / 1000 : t;
      timeKey = k;
      break;
    }
  }
  const epoch = num(own(o, "epoch"));
  if (epoch !== undefined && Number.isFinite(epoch)) out.epochs.set(step, epoch);
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number) => {
    for (const k of Object.keys(obj)) {
      const name = prefix + k;
      if (!prefix && (k === stepKey || k === timeKey || k === "epoch" || k === "_runtime")) continue;
      const v = obj[k];
      const n = num(v);
      // a step key that holds no step (NaN, 1e300, -1: a logger's placeholder) is no series of its own
      if (!prefix && n !== undefined && STEP_KEYS.includes(k) && !isStep(n)) continue;
      if (n !== undefined) out.point(name, step, n, time);
      else if (typeof v === "object" && v !== null && !Array.isArray(v) && depth < 8) walk(v as Record<string, unknown>, `${name}/`, depth + 1);
    }
  };
  walk(o, "", 0);
}
