import { KERAS_SPLIT_DIRS, isEventFileName } from "./group-files";
import { ImportData, ImportTooLargeError } from "./model";
import { csvParts } from "./csv";
import { jsonlParts, readJsonDocument } from "./jsonl";
import { EventFileError, type TagPlugins, eventFileParts } from "./tensorboard/events";
import { textLogParts } from "./text-log";

// One source file -> ImportData, by its name first and its bytes second. Nothing here touches the
// database: the CLI, the API and (later) `babysit watch` and the dashboard share it.

export const FORMATS = ["tensorboard", "csv", "jsonl", "text"] as const;
export type Format = (typeof FORMATS)[number];

export interface ParseOptions {
  format?: Format;
  /** CSV: the column that holds the step. */
  stepColumn?: string;
  /** Text logs: user templates (text-log.ts rule 4). */
  patterns?: readonly string[];
  /** TensorBoard: the plugins of tags seen in the run's earlier files. */
  plugins?: TagPlugins;
}

/** A file whose bytes cannot be imported at all (a bad checksum): the message names the offset. */
export class ImportFileError extends Error {}

export { isEventFileName };

/** The format a file is read as: by its name, else by its first bytes; null when it is binary. */
export function formatOf(path: string, bytes: Uint8Array): Format | null {
  const name = (path.split("/").pop() ?? path).toLowerCase();
  if (isEventFileName(name)) return "tensorboard";
  if (name.endsWith(".csv") || name.endsWith(".tsv")) return "csv";
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return null;
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  // a .json file: a JSON document or JSON Lines (jsonl reads both); any other name starting `{"`: JSON Lines
  if (name.endsWith(".json") && (head[i] === 0x7b /* { */ || head[i] === 0x5b) /* [ */) return "jsonl";
  if (head[i] === 0x7b /* { */ && /^\{"/.test(Buffer.from(head.subarray(i, i + 2)).toString("latin1"))) return "jsonl";
  return "text";
}

/** Every point, histogram, image and text key of `data` read under `prefix`. */
function prefixKeys(data: ImportData, prefix: string): void {
  const points = [...data.points];
  data.points.clear();
  for (const [k, v] of points) data.points.set(`${prefix}${k}`, v);
  for (const h of data.histograms) h.key = `${prefix}${h.key}`;
  for (const i of data.images) i.key = `${prefix}${i.key}`;
  for (const t of data.texts) t.key = `${prefix}${t.key}`;
}

const utf8 = new TextDecoder("utf-8"); // lenient: a stray byte in a console log becomes U+FFFD, the line still reads

export function parseFile(path: string, bytes: Uint8Array, opts: ParseOptions = {}): { format: Format | null; data: ImportData } {
  const parts = parseParts(path, bytes, opts);
  for (;;) {
    const r = parts.next();
    if (r.done) return r.value;
  }
}

/**
 * parseFile that lets the server's other requests run between parts of a long text or JSON Lines
 * file: 64 MiB of one-character lines takes tens of seconds to read, which must not freeze the
 * server for everyone else.
 */
export async function parseFileAsync(path: string, bytes: Uint8Array, opts: ParseOptions = {}): Promise<{ format: Format | null; data: ImportData }> {
  const parts = parseParts(path, bytes, opts);
  for (;;) {
    const r = parts.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* parseParts(path: string, bytes: Uint8Array, opts: ParseOptions): Generator<void, { format: Format | null; data: ImportData }> {
  try {
    return yield* parseWhole(path, bytes, opts);
  } catch (e) {
    if (e instanceof ImportTooLargeError)
      throw new ImportFileError(`${path}: ${e.message}; nothing of this file was imported`, { cause: "too_large" });
    throw e;
  }
}

/** Whether a text has a non-blank line after its first one (a CSV's rows under its header). */
function hasRows(text: string): boolean {
  const start = text.search(/\S/);
  const nl = start < 0 ? -1 : text.indexOf("\n", start);
  if (nl < 0) return false;
  const rest = /\S/g;
  rest.lastIndex = nl;
  return rest.test(text);
}

/**
 * Values of one metric that lines put on a step that already held one (a log whose lines name no
 * step a rule can tell apart): the run keeps the last of each, so the others are said in skipped
 * rather than lost in silence, with what would place them.
 */
function noteSameSteps(d: ImportData): void {
  let n = 0;
  let nKeys = 0;
  const keys: string[] = [];
  for (const [key, p] of d.points) {
    const seen = new Set<number>();
    let here = 0;
    for (const s of p.steps) {
      if (seen.has(s)) here++;
      else seen.add(s);
    }
    if (here && ++nKeys <= 3) keys.push(JSON.stringify(key.slice(0, 100)));
    n += here;
  }
  if (n)
    d.skip(
      `${n} value${n === 1 ? "" : "s"} of ${keys.join(", ")}${nKeys > 3 ? ` and ${nKeys - 3} more` : ""} fell on a step that already held one (the last of each is kept): a line template with {step} (\`--pattern\`) places such lines`,
    );
}

/** Nothing of the file kept and nothing said about it. */
function readNothing(d: ImportData): boolean {
  return d.kept === 0 && d.config.size === 0 && d.events.length === 0 && d.skipped.length === 0;
}

function* parseWhole(path: string, bytes: Uint8Array, opts: ParseOptions): Generator<void, { format: Format | null; data: ImportData }> {
  const data = new ImportData();
  const format = opts.format ?? formatOf(path, bytes);
  switch (format) {
    case "tensorboard":
      try {
        yield* eventFileParts(bytes, data, opts.plugins);
      } catch (e) {
        if (e instanceof EventFileError) throw new ImportFileError(`${path}: ${e.message}; nothing of this file was imported`);
        throw e;
      }
      {
        // a Keras run's train/ and validation/ event files (group-files.ts): the same tags in both
        const dir = path.includes("/") ? path.slice(0, path.indexOf("/")) : "";
        if (KERAS_SPLIT_DIRS.includes(dir) && path.indexOf("/") === path.lastIndexOf("/")) prefixKeys(data, `${dir}/`);
      }
      break;
    case "csv": {
      const text = utf8.decode(bytes);
      yield* csvParts(text, data, opts.stepColumn, path.split("/").pop());
      data.end = bytes.length;
      // rows under the header and not one number read: say so (a header alone is a log still to be written)
      if (readNothing(data) && hasRows(text)) data.skip("no metrics in this CSV file: no column of its rows holds numbers");
      break;
    }
    case "jsonl": {
      const text = utf8.decode(bytes);
      // a .json file may be one document (trainer_state.json, a Keras history dump) or JSON Lines
      if (path.toLowerCase().endsWith(".json") && readJsonDocument(text, data)) {
        data.end = bytes.length;
        // (a trainer_state.json whose log_history is empty, or holds no numbers: it showed as 0 points and nothing more)
        if (readNothing(data)) data.skip("no metrics in this JSON file: its log_history or lists hold no numbers");
        break;
      }
      yield* jsonlParts(text, data);
      data.end = bytes.lastIndexOf(0x0a) + 1;
      if (readNothing(data) && !data.truncated && /\S/.test(text))
        data.skip(
          "no metrics in this JSON file: babysit reads rows of numbers with a step (JSON Lines), trainer_state.json's log_history and Keras history dumps",
        );
      break;
    }
    case "text": {
      const text = utf8.decode(bytes);
      yield* textLogParts(text, data, opts.patterns);
      data.end = bytes.lastIndexOf(0x0a) + 1;
      noteSameSteps(data);
      // a log read whole with nothing in it a rule knows: say so, and what would read it (it showed as
      // "0 points" and nothing more)
      if (data.pointCount === 0 && data.skipped.length === 0 && /\S/.test(text))
        data.skip(
          "no metric lines recognised in this text log: a line template reads lines of your own format (`--pattern 'epoch {epoch} loss {loss}'`, `patterns` in the API)",
        );
      break;
    }
    default:
      data.skip("a binary file that is not a TensorBoard event file");
      data.end = bytes.length;
  }
  return { format, data };
}
