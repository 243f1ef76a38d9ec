import { LIMITS } from "../contract/limits";
import { encodeValue } from "../values";
import { type ImportData, isStep } from "./model";

// Metric lines in text logs (a training script's console output). Each line is tried against these
// rules in order; the first that matches takes it, and a line no rule matches is ignored (most
// lines of a console log are not metrics):
// 1. cs231n Solver: `(Iteration i / N) loss: x` -> `loss` at step i;
//    `(Epoch e / E) train acc: a; val_acc: b` -> `train_acc`, `val_acc` and `epoch` e at the iteration
//    the Solver checks them: e * N / E (N from the iteration lines), and 1 for epoch 0 (the check
//    after the first iteration); before any iteration line, the last iteration seen (0).
// 2. Keras `fit` (verbose 1 or 2): `Epoch e/E` starts an epoch; its summary line
//    `15/15 - 1s - loss: 0.77 - accuracy: 0.86 - val_loss: ...` (a progress line only when it is
//    complete, i/N with i = N) gives each `name: value` at step e-1 (Keras counts epochs from 0, as its
//    CSVLogger writes them), with epoch e-1.
// 3. Hugging Face Trainer's logged dicts `{'loss': 0.5, 'learning_rate': 5e-05, 'epoch': 0.1}`: every
//    numeric entry; the step is the dict's `step` or `global_step` when it has one, else the count of
//    dicts before it (0, 1, ...); `epoch` is the row's epoch. The end-of-training dict (it holds
//    `train_runtime`; its `train_loss` is the average over the whole run) is the run's `summary`
//    event, not a step: as points, that one `train_loss` would stand for the run's loss curve.
// 4. User templates (`--pattern`): literal text with `{name}` placeholders, each matching one
//    number; `{step}` (or `{epoch}` when there is no `{step}`) is the step. Not regular expressions:
//    matched left to right with plain string search, so no input can make them slow.
// 5. Generic: a line with two or more `name: value` / `name=value` pairs of which one is named
//    step, global_step, iter, iteration or it (or else epoch, when its value is an integer): every
//    other numeric pair is a metric at that step.
// Numbers are decimals or exponents; nan, inf, -inf, infinity (any case) are values too: they are
// how a divergence shows. A line longer than MAX_LINE characters is skipped (and said so).

export const MAX_LINE = 64 * 1024;

const STEP_NAMES = new Set(["step", "global_step", "iter", "iteration", "it"]);

/** Parses a number as logs print them, or returns undefined. */
export function logNumber(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  if (t === "nan" || t === "-nan" || t === "+nan") return Number.NaN;
  if (t === "inf" || t === "+inf" || t === "infinity" || t === "+infinity") return Number.POSITIVE_INFINITY;
  if (t === "-inf" || t === "-infinity") return Number.NEGATIVE_INFINITY;
  // one way to match any text: a long run of digits fails in linear time
  if (!/^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?%?$/.test(t)) return undefined;
  return Number(t.endsWith("%") ? t.slice(0, -1) : t);
}

// name: value / name=value pairs; names as metric keys are written; values as logNumber reads them.
// Linear time on any line: a name starts only where no name character precedes it (so a long word
// is tried once, not from each of its characters), is at most keyMaxLength long, and every part
// has one way to match (a run of digits is never split between two quantifiers).
const PAIR =
  /(?<![\w./-])([A-Za-z_][\w./-]{0,199})[ \t]{0,8}[:=][ \t]{0,8}([-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf(?:inity)?))(?![\w.])/gi;

function pairs(line: string): [string, number][] {
  const out: [string, number][] = [];
  for (const m of line.matchAll(PAIR)) {
    const v = logNumber(m[2]);
    if (v !== undefined) out.push([m[1], v]);
  }
  return out;
}

const CS231N_ITER = /^\(Iteration (\d+) \/ (\d+)\) loss: (\S+)\s*$/;
const CS231N_EPOCH = /^\(Epoch (\d+) \/ (\d+)\) train acc: (\S+); val_acc: (\S+)\s*$/;
const KERAS_EPOCH = /^Epoch (\d+)\/\d+\s*$/;
const KERAS_LINE = /^\s*(\d+)\/(\d+)\b/;

export interface TextState {
  lastIteration: number;
  /** N of `(Iteration i / N)`: the Solver's num_iterations. */
  iterations: number;
  kerasEpoch: number | null;
  dicts: number;
}

export function newTextState(): TextState {
  return { lastIteration: 0, iterations: 0, kerasEpoch: null, dicts: 0 };
}

/** Reads a whole text log; `patterns` are user templates (rule 4). */
export function readTextLog(text: string, out: ImportData, patterns: readonly string[] = []): void {
  for (const _ of textLogParts(text, out, patterns));
}

/** Lines read between two pauses of textLogParts (the server's event loop runs in them). */
export const LINES_PER_PART = 8192;

/** readTextLog in parts: yields every LINES_PER_PART lines, so that a caller may let others run. */
export function* textLogParts(text: string, out: ImportData, patterns: readonly string[] = []): Generator<void> {
  const at = { start: 0, lineNo: 0, state: newTextState(), templates: patterns.map(compileTemplate) };
  for (;;) {
    readLines(text, out, at, LINES_PER_PART);
    if (at.start > text.length) return;
    yield;
  }
}

// (a plain function, not the generator's body: V8 runs the hot loop faster outside a generator)
function readLines(
  text: string,
  out: ImportData,
  at: { start: number; lineNo: number; state: TextState; templates: Template[] },
  lines: number,
): void {
  const { state, templates } = at;
  let { start, lineNo } = at;
  for (let n = 0; n < lines && start <= text.length; n++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    lineNo++;
    // Keras verbose=1 redraws its progress line with \r or \b: the last drawing is what was shown
    let line = text.slice(start, end);
    start = end + 1;
    if (line.length > MAX_LINE) {
      out.skip(`line ${lineNo} is longer than ${MAX_LINE} characters`);
      continue;
    }
    const cr = Math.max(line.lastIndexOf("\r", line.length - 2), line.lastIndexOf("\b"));
    if (cr >= 0) line = line.slice(cr + 1);
    readLine(line.replace(/\r$/, ""), out, state, templates);
  }
  at.start = start;
  at.lineNo = lineNo;
}

export function readLine(line: string, out: ImportData, state: TextState, templates: Template[] = []): void {
  let m = CS231N_ITER.exec(line);
  if (m) {
    const step = Number(m[1]);
    const v = logNumber(m[3]);
    if (isStep(step) && v !== undefined) {
      state.lastIteration = step;
      state.iterations = Number(m[2]);
      out.point("loss", step, v);
    }
    return;
  }
  m = CS231N_EPOCH.exec(line);
  if (m) {
    const e = Number(m[1]);
    const epochs = Number(m[2]);
    const at = e === 0 ? 1 : Math.round((e * state.iterations) / epochs);
    const step = state.iterations > 0 && epochs > 0 && isStep(at) ? at : state.lastIteration;
    const train = logNumber(m[3]);
    const val = logNumber(m[4]);
    if (train !== undefined) out.point("train_acc", step, train);
    if (val !== undefined) out.point("val_acc", step, val);
    out.epochs.set(step, e);
    return;
  }
  m = KERAS_EPOCH.exec(line);
  if (m) {
    state.kerasEpoch = Number(m[1]) - 1;
    return;
  }
  m = KERAS_LINE.exec(line);
  if (m && state.kerasEpoch !== null && line.includes(" - ")) {
    if (m[1] !== m[2]) return; // a progress line of an unfinished epoch
    const step = state.kerasEpoch;
    if (!isStep(step)) return;
    let any = false;
    for (const part of line.split(" - ")) {
      const colon = part.indexOf(":");
      if (colon <= 0) continue;
      const v = logNumber(part.slice(colon + 1));
      if (v === undefined) continue;
      out.point(part.slice(0, colon).trim(), step, v);
      any = true;
    }
    if (any) out.epochs.set(step, step);
    return;
  }
  const brace = line.indexOf("{'");
  if (brace >= 0 && line.trimEnd().endsWith("}")) {
    if (readDict(line.slice(brace, line.trimEnd().length), out, state)) return;
  }
  for (const t of templates) if (matchTemplate(t, line, out)) return;
  generic(line, out);
}

/** A Python dict of str -> number as print() writes it; false when the text is not one. */
function readDict(text: string, out: ImportData, state: TextState): boolean {
  const entries = new Map<string, number>();
  let i = 1;
  while (i < text.length - 1) {
    while (text[i] === " " || text[i] === ",") i++;
    if (text[i] === "}") break;
    if (text[i] !== "'") return false;
    const close = text.indexOf("'", i + 1);
    if (close < 0) return false;
    const key = text.slice(i + 1, close);
    i = close + 1;
    if (text[i] !== ":") return false;
    let j = i + 1;
    while (j < text.length && text[j] !== "," && text[j] !== "}") j++;
    const raw = text.slice(i + 1, j).trim();
    const v = logNumber(raw.startsWith("np.float64(") || raw.startsWith("tensor(") ? raw.slice(raw.indexOf("(") + 1, -1) : raw);
    if (v !== undefined) entries.set(key, v);
    i = j;
  }
  if (!entries.size) return false;
  if (entries.has("train_runtime")) {
    const data: Record<string, unknown> = Object.create(null);
    for (const [k, v] of entries) data[k] = encodeValue(v);
    out.events.push({ type: "summary", step: null, time: Number.NaN, data });
    return true;
  }
  const named = entries.get("step") ?? entries.get("global_step");
  const step = named !== undefined && isStep(named) ? named : state.dicts;
  state.dicts++;
  const epoch = entries.get("epoch");
  for (const [k, v] of entries) if (k !== "step" && k !== "global_step" && k !== "epoch") out.point(k, step, v);
  if (epoch !== undefined && Number.isFinite(epoch)) out.epochs.set(step, epoch);
  return true;
}

function generic(line: string, out: ImportData): void {
  const found = pairs(line);
  if (found.length < 2) return;
  let step: number | undefined;
  let epoch: number | undefined;
  for (const [k, v] of found) {
    const name = k.toLowerCase();
    if (STEP_NAMES.has(name) && step === undefined) step = v;
    else if (name === "epoch" && epoch === undefined) epoch = v;
  }
  const at = step !== undefined && isStep(step) ? step : epoch !== undefined && isStep(epoch) ? epoch : undefined;
  if (at === undefined) return;
  for (const [k, v] of found) {
    const name = k.toLowerCase();
    if (STEP_NAMES.has(name) || name === "epoch") continue;
    out.point(k, at, v);
  }
  if (epoch !== undefined && Number.isFinite(epoch) && Math.abs(epoch) <= LIMITS.epochAbsMax.value) out.epochs.set(at, epoch);
}

export interface Template {
  /** Literal parts; between parts[i] and parts[i+1] comes the number named names[i]. */
  parts: string[];
  names: string[];
}

/** A user template, e.g. `epoch {epoch} it {step}: loss={loss}`; a `{name}` matches one number. */
export function compileTemplate(src: string): Template {
  const parts: string[] = [];
  const names: string[] = [];
  let rest = src;
  for (;;) {
    const open = rest.indexOf("{");
    const close = open < 0 ? -1 : rest.indexOf("}", open);
    if (close < 0) {
      parts.push(rest);
      break;
    }
    parts.push(rest.slice(0, open));
    names.push(rest.slice(open + 1, close));
    rest = rest.slice(close + 1);
  }
  return { parts, names };
}

const NUMBER_CHARS = /^[-+]?(?:nan|inf(?:inity)?|[\d.]+(?:[eE][-+]?\d+)?)/i;

function matchTemplate(t: Template, line: string, out: ImportData): boolean {
  if (!t.names.length) return false;
  let at = line.indexOf(t.parts[0]);
  if (at < 0) return false;
  at += t.parts[0].length;
  const values = new Map<string, number>();
  for (let i = 0; i < t.names.length; i++) {
    const m = NUMBER_CHARS.exec(line.slice(at, at + 64));
    const v = m ? logNumber(m[0]) : undefined;
    if (!m || v === undefined) return false;
    values.set(t.names[i], v);
    at += m[0].length;
    const lit = t.parts[i + 1];
    if (!line.startsWith(lit, at)) return false;
    at += lit.length;
  }
  const step = values.get("step") ?? values.get("epoch");
  if (step === undefined || !isStep(step)) return false;
  for (const [k, v] of values) if (k !== "step" && !(k === "epoch" && !values.has("step"))) out.point(k, step, v);
  const epoch = values.get("epoch");
  if (epoch !== undefined && Number.isFinite(epoch)) out.epochs.set(step, epoch);
  return true;
}
