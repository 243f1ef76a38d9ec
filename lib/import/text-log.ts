import { LIMITS, codePointLength } from "../contract/limits";
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
//    numeric entry; the step is the dict's `step` or `global_step` when it has one, else, once a dict
//    came after the Trainer's bar drawings, the bar's step (TextState.bar), else the count of dicts
//    before it (0, 1, ...); `epoch` is the row's epoch. The end-of-training dict (it holds
//    `train_runtime`; its `train_loss` is the average over the whole run) is the run's `summary`
//    event, not a step: as points, that one `train_loss` would stand for the run's loss curve.
// 4. User templates (`--pattern`): literal text with `{name}` placeholders, each matching one
//    number; `{step}` (or `{epoch}` when there is no `{step}`) is the step. Not regular expressions:
//    matched left to right with plain string search, so no input can make them slow.
// 5. Tables printed under a header row of names, one of them the step or epoch (fastai; readTable).
// 6. tqdm progress bars (readBar): the `name=value` pairs after the rate, at step e*N + i when the
//    bar's description names the epoch, else i. Every drawing of a bar redrawn with \r is read; an
//    evaluation's bar is not (it counts batches, not steps); text printed after a drawing is a line.
// 7. Generic: `name: value` / `name=value` pairs; the step is a pair named step, global_step, iter,
//    iteration, it or num_updates, else the progress the line prints (progressOf: `Epoch [3][50/200]`, `Iter
//    [500/9000]`, `Epoch 3/10`), else an integer in brackets that starts the line (`[100]`: bracketStep),
//    else an integer epoch pair; every other numeric pair is a metric at
//    that step, named by the words before its colon (`Train Loss` -> `Train_Loss`). A line with no
//    colon pairs is read as `name value` fields (`iter 100: loss 2.31, time 41ms`) when one of them is
//    the step or the epoch, and so is a line of nothing but `name value` pairs between spaces
//    (`epoch 3 loss 0.41 acc 0.9`, after a logger's prefix if any: logPrefixEnd). Counts, indexes and
//    settings (COUNT_NAMES: rank, seed, batch_size) are no metric; a step (or batch) counted within
//    each epoch is placed after the epochs before it (withinEpochs); the names after an evaluation's
//    name of words (`val loss 0.6 acc 0.8`) are the evaluation's (evalKeys). An evaluation's line with no step of its own (`Test set: Average
//    loss: ...`) is at the step of the last training line, its running averages `0.6 (0.5)` read.
// Colour and cursor escape codes are removed first. Numbers are decimals or exponents; nan, inf,
// -inf, infinity (any case) are values too: they are how a divergence shows. A line (a drawing) longer
// than MAX_LINE characters is skipped (and said so).

export const MAX_LINE = 64 * 1024;

// (fairseq counts its steps as num_updates)
const STEP_NAMES = new Set(["step", "global_step", "iter", "iteration", "it", "num_updates"]);

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
// has one way to match (a run of digits is never split between two quantifiers). A number that
// goes on with `:`, `-` or `+` and a digit is part of a time, a date or a range (`time: 12:30:45`,
// `eta: 0:01:23`, `date: 2024-01-05`, `lr: 1e-3-1e-5`), not a value.
const PAIR =
  /(?<![\w./@-])([A-Za-z_][\w./@-]{0,199})[ \t]{0,8}[:=][ \t]{0,8}([-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf(?:inity)?))(?![\w.]|[-+:]\d)/gi;

/** A `name: value` pair of a line: `key` as the metric is named, `word` the name's last word. */
interface Pair {
  key: string;
  word: string;
  value: number;
  /** Where the pair's name starts in the line (-1 for a line of `name value` words). */
  at: number;
  /** The running average printed after the value, `Loss 6.9 (6.95)` (spaced fields). */
  avg?: number;
}

// Words a console log puts before a metric's name that are not part of it (a logger's level).
const LOG_LEVELS = new Set(["info", "debug", "warning", "warn", "error", "critical", "trace", "notice"]);
/** Words a metric name may have before its last one: `Train Loss: 0.5`, `val top1 acc: 0.9`. */
const NAME_WORDS_BEFORE = 2;
const NAME_WORD = /^[A-Za-z_][\w.@-]*$/;

/**
 * The metric name ending with `word` at `at`: the words written before it with single spaces
 * (`Train Loss: 0.5 | Val Loss: 0.4` names train and validation loss apart), joined with `_` as
 * keys are written, at most NAME_WORDS_BEFORE of them, never a logger's level (`INFO Train Loss`).
 */
function nameBefore(line: string, at: number, word: string): string {
  const words = [word];
  let i = at;
  while (words.length <= NAME_WORDS_BEFORE && i >= 2 && line[i - 1] === " " && line[i - 2] !== " ") {
    let j = i - 1;
    while (j > 0 && /[\w.-]/.test(line[j - 1])) j--;
    let w = line.slice(j, i - 1);
    if (w === "s" && line[j - 1] === "'" && j >= 2) {
      // a possessive, LightGBM's `valid_0's binary_logloss: 0.3`: named by its owner (`valid_0`), not by the `s`
      let k = j - 1;
      while (k > 0 && /[\w.-]/.test(line[k - 1])) k--;
      if (k === j - 1) break;
      w = line.slice(k, j - 1);
      j = k;
    }
    // a word of a sentence ends the name (Megatron's `number of skipped iterations: 0`)
    if (!NAME_WORD.test(w) || LOG_LEVELS.has(w.toLowerCase()) || SENTENCE_WORDS.has(w.toLowerCase())) break;
    words.unshift(w);
    i = j;
  }
  return words.join("_");
}

/**
 * Whether the number that ends at `at` has a unit word after it (`eta: 1 day, 1:00:00`, `time: 0.5 s`)
 * or a total (`9837/10000`): a quantity, not a metric. Words that lead to the next pair's `:` or `=` (`loss: 0.5 val acc: 0.9`)
 * are that pair's name, not a unit.
 */
function unitAfter(line: string, at: number): boolean {
  if (line[at] === "/") return true; // `Accuracy: 9837/10000`: a count out of a total
  let i = at;
  for (let words = 0; words <= NAME_WORDS_BEFORE; words++) {
    if (line[i] !== " " || !/[A-Za-z_]/.test(line[i + 1] ?? "")) return words > 0;
    i++;
    while (i < line.length && /[\w./-]/.test(line[i])) i++; // a name as PAIR reads it (`samples/sec:`)
    let j = i;
    while (line[j] === " ") j++;
    if (line[j] === ":" || line[j] === "=") return false;
  }
  return true;
}

/** A source file's name (a logger's `%(filename)s:%(lineno)d`, `[train.py:96]`), checked on a pair's name only. */
const SOURCE_FILE = /\.(?:py|pyx|c|cc|cpp|cu|h|hpp|js|ts|rs|go|java|lua|jl|sh)$/i;

const PROGRESS_WORDS = new Set(["progress", "done", "complete", "completed", "finished", "train", "training", "epoch", "step", "iter", "iteration"]);

function pairs(line: string): Pair[] {
  const out: Pair[] = [];
  for (const m of line.matchAll(PAIR)) {
    const v = logNumber(m[2]);
    if (v === undefined || unitAfter(line, m.index + m[0].length)) continue;
    if (SOURCE_FILE.test(m[1]) && line[m.index + m[1].length] === ":") continue; // `train.py:96`: a logger's source line
    // `__main__:train:42` (loguru's name:function:line): a source line too, the function's name no metric's
    if (line[m.index - 1] === ":" && line[m.index + m[1].length] === ":" && /\d/.test(line[m.index + m[1].length + 1] ?? "")) continue;
    // `Progress: 45%`, `Training: 45%`: how far the run is, not a metric (`acc: 97%` is one)
    if (line[m.index + m[0].length] === "%" && PROGRESS_WORDS.has(m[1].toLowerCase())) continue;
    const key = nameBefore(line, m.index, m[1]);
    if (codePointLength(key) <= LIMITS.keyMaxLength.value) out.push({ key, word: m[1], value: v, at: m.index });
    else out.push({ key: m[1], word: m[1], value: v, at: m.index });
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
  /** The header of the table being printed (fastai's `epoch train_loss valid_loss ...`), if any. */
  table: { names: string[]; stepAt: number } | null;
  /** Each bar's last step, by its total (a few bars: data preparation, training, evaluation). */
  barSteps: Map<number, number>;
  /** The total of the bar drawn last. */
  barLast: number | null;
  /**
   * The training bar's total: the bar drawn last before the first Trainer dict that follows drawings
   * (HF's bar counts global steps; a data set's `Map` bar drawn before training, or an evaluation's,
   * has another total). Its step places that dict and every later one (no count going back).
   */
  trainTotal: number | null;
  /** Each bar metric's last point, to leave out the same value drawn again (see readBar). */
  barValues: Map<string, { step: number; value: number; evals: number }>;
  /** Evaluation bars drawn so far: a value drawn after one is that evaluation's, even when equal to the last. */
  evalBars: number;
  /**
   * What the first `Epoch [e][i/N]` line counts epochs from: mmcv, mmengine and PyTorch's examples
   * print the first epoch as 1, a loop of its own may print 0. Steps start at 0 either way.
   */
  epochBase: number | null;
  /** The step of the last generic training line: where an evaluation printed after it belongs. */
  lastStep: number | null;
  /** Whether lastStep came from a line counting iterations (a bar, `Epoch [1][50/100]`), not from an epoch alone. */
  lastStepFine: boolean;
  /** The epochs and steps of lines that print both: see withinEpochs. */
  epochCount: { epoch: number; last: number; gap: number; offset: number } | null;
}

export function newTextState(): TextState {
  return {
    lastIteration: 0,
    iterations: 0,
    kerasEpoch: null,
    dicts: 0,
    table: null,
    barSteps: new Map(),
    barLast: null,
    trainTotal: null,
    barValues: new Map(),
    evalBars: 0,
    epochBase: null,
    lastStep: null,
    lastStepFine: false,
    epochCount: null,
  };
}

const TABLE_STEPS = new Set(["epoch", "step", "global_step", "iter", "iteration", "it"]);
/** Columns a table has at most (a line of more words is prose, not a header). */
const TABLE_COLUMNS = 64;

/**
 * A table printed row by row under a header of names (fastai's `fit`: `epoch  train_loss  valid_loss
 * accuracy  time`, then `0  0.412  0.301  0.901  00:12`): every number of a row whose step column
 * holds an integer is a metric at that step (`00:12` and `#na#` are no numbers). The table ends at
 * the first line that is not one of its rows.
 */
function readTable(line: string, out: ImportData, state: TextState, t: TextState["table"]): boolean {
  const trimmed = line.trim();
  if (!trimmed) {
    state.table = t; // a blank line does not end the table
    return false;
  }
  const cells = trimmed.split(/[ \t]+/, TABLE_COLUMNS + 1);
  if (t && cells.length === t.names.length) {
    const step = logNumber(cells[t.stepAt]);
    if (step !== undefined && isStep(step)) {
      for (let i = 0; i < cells.length; i++) {
        if (i === t.stepAt) continue;
        const v = logNumber(cells[i]);
        if (v !== undefined) out.point(t.names[i], step, v);
      }
      if (t.names[t.stepAt].toLowerCase() === "epoch") out.epochs.set(step, step);
      state.table = t;
      return true;
    }
  }
  state.table = null;
  if (cells.length < 2 || cells.length > TABLE_COLUMNS || !cells.every((c) => NAME_WORD.test(c))) return false;
  const stepAt = cells.findIndex((c) => TABLE_STEPS.has(c.toLowerCase()));
  if (stepAt < 0 || new Set(cells).size !== cells.length) return false;
  state.table = { names: cells, stepAt };
  return true;
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
    const from = start;
    start = end + 1;
    if (text[end - 1] === "\r") end--;
    // Keras verbose=1 redraws its progress line with \r or \b: the last drawing is what was shown.
    // A tqdm bar redraws with \r too, each drawing with the metrics at its step: all are read.
    // The length limit is a drawing's: a bar redrawn all epoch long makes one long line.
    // (searched within the line only: a search from the line's end backwards through the whole text
    // would make a file of many short lines quadratic)
    const line = text.slice(from, end);
    const last = Math.max(line.lastIndexOf("\r"), line.lastIndexOf("\b")) + 1;
    for (let d = 0; d < last; ) {
      let next = line.indexOf("\r", d);
      if (next < 0 || next >= last) next = last - 1;
      if (next - d <= MAX_LINE) readDrawing(line.slice(d, next), out, state);
      d = next + 1;
    }
    if (line.length - last > MAX_LINE) {
      out.skip(`line ${lineNo} is longer than ${MAX_LINE} characters`);
      continue;
    }
    readLine(line.slice(last).replace(ANSI, ""), out, state, templates, last > 0 && line.lastIndexOf("%|", last) >= 0);
  }
  at.start = start;
  at.lineNo = lineNo;
}

export function readLine(line: string, out: ImportData, state: TextState, templates: Template[] = [], hadDrawings = false): void {
  // a table ends at the first line that is not one of its rows, whichever rule takes that line
  // (`Epoch 1/3` after a header: the numbers under it are Keras's, not the table's)
  const table = state.table;
  state.table = null;
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
    // a Trainer dict after the bar's drawing (`  3%|▎  | 10/300 [00:05<02:20, 2.06it/s]{'loss': ...}`):
    // the bar is at the dict's step (the bar is read once: the line is done whether the dict holds numbers or not)
    const before = line.slice(0, brace);
    const afterBar = before.includes("%|") && readBar(before, out, state);
    if (readDict(line.slice(brace, line.trimEnd().length), out, state, afterBar || hadDrawings) || afterBar) return;
  }
  for (const t of templates) if (matchTemplate(t, line, out)) return;
  if (readTable(line, out, state, table)) return;
  if (line.includes("%|") && readBar(line, out, state)) return;
  generic(line, out, state);
}

/** A Python dict of str -> number as print() writes it; false when the text is not one. */
function readDict(text: string, out: ImportData, state: TextState, afterBar: boolean): boolean {
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
  // no step of its own: the training bar's (HF's bar counts global steps), once a dict came after
  // its drawings; else the count of dicts before it
  if (afterBar && state.trainTotal === null && state.barLast !== null) state.trainTotal = state.barLast;
  const barStep = state.trainTotal === null ? undefined : state.barSteps.get(state.trainTotal);
  const step = named !== undefined && isStep(named) ? named : (barStep ?? state.dicts);
  state.dicts++;
  const epoch = entries.get("epoch");
  for (const [k, v] of entries) if (k !== "step" && k !== "global_step" && k !== "epoch") out.point(k, step, v);
  if (epoch !== undefined && Number.isFinite(epoch)) out.epochs.set(step, epoch);
  return true;
}

/** Colour and cursor escape sequences (CSI, OSC, two-character ESC): a terminal shows none of them. */
export const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/** A bar description that starts with an evaluation's word (checked on the text before `%|` only). */
const EVAL_BAR = /^[\s\W]{0,8}(?:val|valid|validat(?:e|ing|ion)|eval|evaluat(?:e|ing|ion)|test|testing|predict|predicting|prediction)\b/i;

/** A word before a line's pairs that says they are an evaluation's (`Epoch 3 val: loss: 0.4`). */
const EVAL_SECTION = /(?<![\w.-])(val|valid|validation|validating|eval|evaluation|evaluating|test|testing)(?![\w.-])/i;

/** A metric named as an evaluation's (`val_loss`, `valid/acc`, `test_acc`, `eval_loss`). */
const EVAL_KEY = /^(?:val|valid|validation|test|eval)(?:[_/.-]|$)/i;
/** A metric logged once an epoch (Lightning's `on_epoch=True`: `train_loss_epoch`). */
const EPOCH_KEY = /[_/.-]epoch$/i;

/** A metric's name that says it is an evaluation's and what (`val_loss`, `test/acc`; not a bare `val`). */
const EVAL_NAMED = /^(?:val|valid|validation|test|eval)[_/.-][A-Za-z]/i;

/** Metrics that are not the model's: Lightning's log version in its progress bar. */
const NOT_METRICS = new Set(["v_num"]);

/** An unsigned integer written at `at` (spaces before it skipped): its value and where it ends. */
function intAt(line: string, at: number): { value: number; end: number } | undefined {
  let i = at;
  while (line[i] === " ") i++;
  let j = i;
  while (j < line.length && j - i < 16 && line[j] >= "0" && line[j] <= "9") j++;
  return j > i ? { value: Number(line.slice(i, j)), end: j } : undefined;
}

/** `i/N` at `at` (spaces around the numbers allowed, N may be `?`): i and N (NaN when unknown). */
function progressAt(line: string, at: number): { i: number; n: number; end: number } | undefined {
  const i = intAt(line, at);
  if (!i || line[i.end] !== "/") return undefined;
  if (line[i.end + 1] === "?") return { i: i.value, n: Number.NaN, end: i.end + 2 };
  const n = intAt(line, i.end + 1);
  return n ? { i: i.value, n: n.value, end: n.end } : undefined;
}

// Words that say the number after them counts epochs (`Epoch 3`, timm's `Train: 3 [...]`), or steps.
const EPOCH_WORDS = new Set(["epoch", "train", "training"]);
const ITERATION_WORDS = new Set(["iter", "iteration", "step", "it"]);

/**
 * Where a line says it is in training, from the progress a training loop prints rather than a
 * `step: N` pair: `Epoch [3][50/200]` (mmcv), `Epoch(train) [3][ 50/200]` (mmengine), `Train Epoch: 3
 * [640/60000 (1%)]` (PyTorch's examples), `Train: 3 [ 50/200 (25%)]` (timm): step e*N + i (the count
 * within the epoch, in whatever unit it is printed); `Iter(train) [50/90000]`, `Iteration 50/1000`:
 * step i; `Epoch 3/10`, `[Epoch 3]`, `Epoch 3:`: step e. Read left to right once (linear time); the
 * first epoch or iteration word followed by its number decides.
 */
function progressOf(line: string, state?: TextState): { step: number; epoch?: number; word: number } | undefined {
  const lower = line.toLowerCase();
  // `Epoch 3` alone: the step unless an iteration count follows (`Epoch: 2, Iteration: 100/500`,
  // where every line of the epoch would be at step 2)
  let epochOnly: { step: number; epoch: number; word: number } | undefined;
  for (let w = 0; w < lower.length; ) {
    // the next word
    while (w < lower.length && !(lower[w] >= "a" && lower[w] <= "z")) w++;
    let e = w;
    while (e < lower.length && lower[e] >= "a" && lower[e] <= "z") e++;
    const word = lower.slice(w, e);
    const before = w === 0 ? "" : lower[w - 1];
    const at = w;
    w = e;
    if (/[\w.-]/.test(before) || (lower[e] !== undefined && /[\w.-]/.test(lower[e]))) continue; // part of a longer name
    const epochWord = EPOCH_WORDS.has(word);
    // (a batch counts within the epoch printed before it, `Epoch: 1, Batch: 100/500`; alone, `batch: 32`
    // is a size)
    if (!epochWord && !ITERATION_WORDS.has(word) && !(word === "batch" && epochOnly)) continue;
    // what may stand between the word and its number: `(train)`, a colon, spaces, an opening bracket
    let i = e;
    if (lower.startsWith("(train)", i)) i += 7;
    while (lower[i] === " " || lower[i] === ":" || lower[i] === "[") i++;
    if (!(lower[i] >= "0" && lower[i] <= "9")) continue;
    if (!epochWord) {
      const p = progressAt(lower, i);
      const n = p ?? intAt(lower, i);
      if (!n) continue;
      const count = p ? p.i : (n as { value: number }).value;
      if (epochOnly && p && Number.isFinite(p.n) && p.n > 0) {
        // `Epoch 2, Iteration 100/500`: the count within the epoch
        const step = epochOnly.step * p.n + p.i;
        return isStep(step) ? { step, epoch: epochOnly.step + p.i / p.n, word: epochOnly.word } : undefined;
      }
      if (epochOnly) {
        // `[Epoch 2] iter 0`: a count with no total, after the epoch; it may start again each epoch
        const step = state && isStep(count) ? withinEpochs(state, epochOnly.step, count) : count;
        return isStep(step) ? { step, epoch: epochOnly.epoch, word: epochOnly.word } : undefined;
      }
      return isStep(count) ? { step: count, word: at } : undefined;
    }
    if (epochOnly) continue;
    const ep = intAt(lower, i);
    if (!ep) continue;
    // `epoch 1.5`, `epoch 1e3`: no epoch's number (its integer part put every line of the epoch at one step)
    if ((lower[ep.end] === "." || lower[ep.end] === "e") && /[\d+-]/.test(lower[ep.end + 1] ?? "")) continue;
    // a count within the epoch: `][i/N`, ` [i/N`, `: [i/N`
    let k = ep.end;
    if (lower[k] === "/") {
      // `Epoch 3/10`: the epoch of how many, the step unless an iteration follows; `Training: 100/1000`
      // counts steps, not epochs
      if (word !== "epoch") return isStep(ep.value) ? { step: ep.value, word: at } : undefined;
      if (isStep(ep.value)) epochOnly = { step: ep.value, epoch: ep.value, word: at };
      continue;
    }
    while (lower[k] === " " || lower[k] === "]" || lower[k] === ":") k++;
    if (lower[k] === "[") {
      const p = progressAt(lower, k + 1);
      if (p && Number.isFinite(p.n) && p.n > 0) {
        // `Epoch [1][50/200]` is the 50th iteration of the first epoch (mmcv, mmengine and PyTorch's
        // examples count epochs from 1; timm's `Train: 0` from 0): step 50, epoch 0.25
        let e = ep.value;
        if (word === "epoch") {
          if (state) {
            if (state.epochBase === null) state.epochBase = e === 0 ? 0 : 1;
            e -= state.epochBase;
          } else if (e > 0) e -= 1;
        }
        const step = e * p.n + p.i;
        return isStep(step) ? { step, epoch: e + p.i / p.n, word: at } : undefined;
      }
    }
    if (word === "epoch" && isStep(ep.value)) epochOnly = { step: ep.value, epoch: ep.value, word: at };
  }
  return epochOnly;
}

/** One drawing of a progress bar (text between two \r): its metrics, if it is a tqdm bar with some. */
export function readDrawing(drawing: string, out: ImportData, state?: TextState): void {
  if (drawing.length <= MAX_LINE && drawing.includes("%|")) readBar(drawing.replace(ANSI, ""), out, state);
}

/** Bars whose last step is kept at once (a log drawing ever new totals starts over). */
const BARS_KEPT = 64;

/**
 * A tqdm progress bar (`desc: 42%|████      | 42/100 [00:05<00:07, 8.1it/s, loss=0.5, acc=0.8]`,
 * as PyTorch Lightning and most hand-written loops draw it): the `name=value` pairs after its rate
 * are metrics at step i, or e*N + i when its description names the epoch (`Epoch 3: ...`).
 */
function readBar(line: string, out: ImportData, state?: TextState): boolean {
  const pct = line.indexOf("%|");
  if (pct < 0) return false;
  const bar = line.indexOf("|", pct + 2);
  if (bar < 0) return false;
  const p = progressAt(line, bar + 1);
  if (!p) return false;
  let k = p.end;
  while (line[k] === " ") k++;
  if (line[k] !== "[") return false;
  const close = line.indexOf("]", k);
  // what a script printed after the drawing (print() in a tqdm loop, the bar on stderr): read as a line
  if (close >= 0 && line.length > close + 1 && line.slice(close + 1).trim()) generic(line.slice(close + 1), out, state);
  // an evaluation's bar (Lightning's `Validation DataLoader 0`, `Testing`, a loop's `Evaluating`)
  // counts evaluation batches, not training steps: its `loss` at batch 20 is no point of the training curve
  if (EVAL_BAR.test(line.slice(0, pct))) {
    if (state) state.evalBars++;
    return true;
  }
  const desc = progressOf(line.slice(0, pct));
  const scaled = desc?.epoch !== undefined && Number.isFinite(p.n) && p.n > 0;
  const step = scaled ? desc!.step * p.n + p.i : p.i;
  if (!isStep(step)) return true;
  if (state && Number.isFinite(p.n)) {
    if (!state.barSteps.has(p.n) && state.barSteps.size >= BARS_KEPT) state.barSteps.clear();
    state.barSteps.set(p.n, step);
    state.barLast = p.n;
  }
  const postfix = line.slice(k + 1, close < 0 ? line.length : close);
  const found = pairs(postfix).filter((x) => !NOT_METRICS.has(x.key));
  let any = false;
  for (const x of found) {
    // the same value drawn again is no new point: at the same step (tqdm's close redraws the last
    // drawing, Lightning redraws it after validation), or an evaluation's or an epoch's metric the bar
    // keeps showing at every training step after it (Lightning's val_loss: one value per validation;
    // train_loss_epoch: one per epoch). Drawn after another evaluation bar it is that evaluation's
    // value, equal or not: an accuracy pinned at the majority share is the same at every validation.
    const prev = state?.barValues.get(x.key);
    const evals = state?.evalBars ?? 0;
    const sticky = EVAL_KEY.test(x.key) || EPOCH_KEY.test(x.key);
    if (prev && Object.is(prev.value, x.value) && (prev.step === step || (sticky && prev.evals === evals))) continue;
    state?.barValues.set(x.key, { step, value: x.value, evals });
    out.point(x.key, step, x.value);
    any = true;
  }
  if (scaled && any) out.epochs.set(step, desc!.step + p.i / p.n);
  // a training bar's step (one naming its epoch or drawing metrics; a data set's `Map` bar is neither):
  // where a line printed after it with only an epoch belongs
  if (state && (scaled || any)) {
    state.lastStep = step;
    state.lastStepFine = true;
  }
  return true;
}

/**
 * `name value` fields between separators, with no colon: `iter 100: loss 2.31, time 41.2ms` (nanoGPT),
 * `epoch 2, step 300, train loss 0.41, val loss 0.52`. Fields are split at `,`, `;`, `|`, tabs and `: `;
 * a field that is a name of up to three words and one number is a pair (a number with a unit,
 * `41.2ms`, is not).
 */
function spacedPairs(line: string): Pair[] {
  const out: Pair[] = [];
  let from = 0;
  for (let i = 0; i <= line.length; i++) {
    const c = line[i];
    const cut =
      i === line.length ||
      c === "," ||
      c === ";" ||
      c === "|" ||
      c === "\t" ||
      (c === ":" && line[i + 1] === " ") ||
      (c === "-" && line[i - 1] === " " && line[i + 1] === " ");
    if (!cut) continue;
    const raw = line.slice(from, i);
    const at = from + (raw.length - raw.trimStart().length);
    // (PyTorch's ImageNet example aligns its columns: `Time  0.215 ( 0.300)`)
    let field = raw.trim().replace(/\s+/g, " ");
    from = i + 1;
    // `Loss 6.9e+00 (6.95e+00)`: the value, then its running average (PyTorch's examples' ProgressMeter)
    let avg: number | undefined;
    if (field.endsWith(")")) {
      const open = field.lastIndexOf("(");
      avg = open > 0 ? logNumber(field.slice(open + 1, -1)) : undefined;
      if (avg === undefined) continue;
      field = field.slice(0, open).trimEnd();
    }
    const space = field.lastIndexOf(" ");
    if (space <= 0) continue;
    const value = logNumber(field.slice(space + 1));
    const words = field.slice(0, space).split(" ");
    if (value === undefined || words.length > NAME_WORDS_BEFORE + 1 || !words.every((w) => NAME_WORD.test(w))) {
      // a field of several pairs, `Epoch 3: loss 0.5 acc 0.9` (no running averages among them)
      // (a line of one field is wordPairs' to read, after a logger's prefix: generic)
      // (each at its own place: the first where the field starts, as a progress's own number is found)
      if (avg === undefined && raw.length !== line.length) for (const [k, x] of wordPairs(field).entries()) out.push({ ...x, at: at + k });
      continue;
    }
    const key = words.join("_");
    if (codePointLength(key) <= LIMITS.keyMaxLength.value)
      out.push({ key, word: words[words.length - 1], value, at, ...(avg === undefined ? {} : { avg }) });
  }
  return out;
}

/**
 * A line that is nothing but `name value` pairs separated by spaces, `print(f"epoch {e} loss {l:.4f}
 * acc {a:.3f}")`: names of up to three words, each followed by one number. Any other word or number
 * (a unit, `41ms`, a total, two numbers in a row) and the line is not one.
 */
// Words of a sentence, not of a metric's name: `Epoch 3 of 10`, `step 5 out of 100`, `epoch 2 took 31`
const SENTENCE_WORDS = new Set(["of", "to", "in", "at", "from", "for", "by", "with", "and", "or", "is", "was", "took", "after", "out", "the", "a"]);

function wordPairs(line: string): Pair[] {
  const out: Pair[] = [];
  let words: string[] = [];
  for (const token of line.trim().split(/[ \t]+/)) {
    const value = words.length ? logNumber(token) : undefined;
    if (value !== undefined) {
      const key = words.join("_");
      if (codePointLength(key) > LIMITS.keyMaxLength.value) return [];
      out.push({ key, word: words[words.length - 1], value, at: -1 });
      words = [];
    } else if (NAME_WORD.test(token) && words.length <= NAME_WORDS_BEFORE && !SENTENCE_WORDS.has(token.toLowerCase())) words.push(token);
    else return [];
  }
  return words.length ? [] : out;
}

const hasStep = (found: Pair[]) => found.some((x) => isStepWord(x.word) || x.word.toLowerCase() === "epoch");

// `Loss:  6.1 (6.0)`: a value and, in brackets, its average so far (timm, mmcv's AverageMeter prints)
const RUNNING_AVERAGE = /^[ \t]{0,8}\([ \t]{0,8}([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)[ \t]{0,8}\)/;

const PAIR_AT = new RegExp(PAIR.source, "iy");

/** The running average printed after the value of the pair at `at` (`Loss: 6.1 (6.0)`), if any. */
function runningAverage(line: string, at: number): number | undefined {
  PAIR_AT.lastIndex = at;
  const m = PAIR_AT.exec(line);
  if (!m) return undefined;
  const end = at + m[0].length;
  const avg = RUNNING_AVERAGE.exec(line.slice(end, end + 64));
  return avg ? logNumber(avg[1]) : undefined;
}

/** Whether a line may hold a value as logNumber reads it (most console lines hold none: no pair to look for). */
const MAY_HOLD_VALUE = /\d|nan|inf/i;

function generic(line: string, out: ImportData, state?: TextState): void {
  let found = pairs(line);
  // the text before a plain print's pairs (a logger's prefix, `Test:`): where an evaluation says so
  let head: string | undefined;
  if (found.length < 2 && !hasStep(found)) {
    // no `name: value` pairs to speak of: `name value` fields with a step among them, or after the
    // progress the line prints (`Epoch: [0][ 10/5005]\tLoss 6.9 (6.95)`), or an evaluation's after training
    const spaced = spacedPairs(line);
    if (spaced.length >= 2 && (hasStep(spaced) || progressOf(line) !== undefined || (state?.lastStep != null && EVAL_SECTION.test(line))))
      found = spaced;
    else if (found.length === 0 && MAY_HOLD_VALUE.test(line)) {
      const seen: { index?: number } = {};
      const body = logPrefixEnd(line, seen);
      const words = wordPairs(line.slice(body));
      // an evaluation's print with no step (`val loss 0.5 acc 0.8`, `Test: loss 0.5`) after training lines
      const evalLine =
        state?.lastStep != null &&
        (EVAL_SECTION.test(line.slice(0, body)) ||
          (words.length > 0 && words[0].key !== words[0].word && EVAL_KEY.test(words[0].key)) ||
          (words.length > 0 && words.every((x) => EVAL_NAMED.test(x.key))));
      if ((words.length >= 2 && hasStep(words)) || (words.length > 0 && (evalLine || seen.index !== undefined))) {
        found = words;
        head = line.slice(0, body);
      }
    }
  }
  if (!found.length) return;
  let step: number | undefined;
  let epoch: number | undefined;
  let batch: number | undefined;
  for (const x of found) {
    const name = x.word.toLowerCase();
    if (isStepWord(name) && step === undefined) step = x.value;
    else if (name === "epoch" && epoch === undefined) epoch = x.value;
    else if (name === "batch" && batch === undefined) batch = x.value;
  }
  // `Epoch 1 Batch 100 Loss 0.5` (TensorFlow's tutorials): the batch counts within the epoch
  if (step === undefined && epoch !== undefined && batch !== undefined && isStep(batch)) step = batch;
  if (step !== undefined && epoch !== undefined && state && isStep(step) && isStep(epoch)) step = withinEpochs(state, epoch, step);
  // the step: a `step: N` pair, else the progress the line prints (`Epoch 3 [50/200]`), else an epoch pair
  const progress = step === undefined ? progressOf(line, state) : undefined;
  // the progress's own number (timm's `Train: 3 [50/200]`) is the epoch, not a metric
  const metrics = found.filter(
    (x) =>
      !isStepWord(x.word) &&
      x.word.toLowerCase() !== "epoch" &&
      !NOT_METRICS.has(x.key) &&
      !(progress && x.at === progress.word) &&
      !(Number.isInteger(x.value) && COUNT_NAMES.has(x.key.toLowerCase())),
  );
  if (!metrics.length) return;
  let at: number | undefined;
  let byEpoch = false;
  let bracket: number | undefined;
  if (step !== undefined) at = isStep(step) ? step : undefined;
  else if (progress) {
    at = progress.step;
    if (progress.epoch !== undefined) epoch = progress.epoch;
    byEpoch = progress.epoch === progress.step; // `Epoch 3`, no iteration count
  } else if ((bracket = bracketStep(line)) !== undefined) at = bracket;
  else if (epoch !== undefined && found.length >= 2) {
    at = isStep(epoch) ? epoch : undefined;
    byEpoch = true;
  }
  // a line placed by its epoch alone in a log whose lines count iterations (`epoch 1 val_loss 0.3`
  // after bars at steps 0..200, timm's `*** Best metric: 2.1 (epoch 0)` after `Train: 0 [124/125]`)
  // belongs to the last training step printed, not to step 1 of the iterations' axis
  // (after lines counting iterations only: after lines placed by their epoch, an earlier epoch is a
  // restart of the count, `epoch 0` of a second run printed to the same log, kept at its own step)
  const moved = byEpoch && at !== undefined && state?.lastStep != null && state.lastStepFine && state.lastStep > at;
  if (moved) at = state!.lastStep!;
  // `Epoch 3 val: loss: 0.4` after `Epoch 3 train: loss: 0.5`: the evaluation's loss is not the
  // training's; named as the evaluation (`val_loss`) unless its name already says so
  // (spaced fields have no place: their names, `train loss` | `val loss`, say it themselves)
  let first = metrics.some((x) => x.at < 0) ? 0 : line.length;
  for (const x of metrics) if (x.at >= 0 && x.at < first) first = x.at;
  const section = EVAL_SECTION.exec(head ?? line.slice(0, first))?.[1].toLowerCase();
  const prefix = sectionPrefix(section);
  // the names as stored: a name after an evaluation's own (`val loss 0.6 acc 0.8`, `Val Loss: 0.6 Acc:
  // 0.8`) is the evaluation's too (`val_acc`), not a second value of the training's `acc` at this step
  const keys = evalKeys(metrics, prefix);
  const evalOnly = section !== undefined || keys.every((k) => EVAL_KEY.test(k));
  // an evaluation printed without a step of its own (PyTorch's examples' `Test set: Average loss:
  // 0.0339`, timm's `Test: [19/19] Loss: 0.6 (0.5)`, mmengine's `Epoch(val) [1][100/100]`) belongs to
  // the training step printed last; its running averages, when printed, are the evaluation's figures
  // (the batch lines of one evaluation land on one step: the last one printed is kept)
  const evalAfterTraining = at === undefined && evalOnly && state?.lastStep != null;
  if (evalAfterTraining) at = state!.lastStep!;
  if (at === undefined) return;
  if (state && !evalAfterTraining && !moved && section === undefined) {
    state.lastStep = at;
    state.lastStepFine = !byEpoch;
  }
  for (const [n, x] of metrics.entries()) {
    let key = keys[n];
    let value = x.value;
    if (moved) {
      // the epoch's figure of a metric the training line at that step printed too (`epoch 2 loss 0.41`,
      // the epoch's mean, after `step 800 loss 0.39`): a second value of `loss` at step 800 would
      // replace the step's own; kept as the epoch's, as Keras's TensorBoard callback names it
      const p = out.points.get(key);
      if (p && p.steps[p.steps.length - 1] === at && codePointLength(`epoch_${key}`) <= LIMITS.keyMaxLength.value) key = `epoch_${key}`;
    }
    if (evalAfterTraining) {
      value = x.avg ?? (x.at >= 0 ? runningAverage(line, x.at) : undefined) ?? value;
      const p = out.points.get(key);
      if (p && p.steps[p.steps.length - 1] === at) {
        p.values[p.values.length - 1] = value; // a later batch line of the same evaluation
        continue;
      }
    }
    out.point(key, at, value);
  }
  // (a line moved to the last training step leaves that step's own, finer epoch)
  if (!moved && epoch !== undefined && Number.isFinite(epoch) && Math.abs(epoch) <= LIMITS.epochAbsMax.value) out.epochs.set(at, epoch);
}

function sectionPrefix(section: string | undefined): string {
  return section === undefined ? "" : section.startsWith("val") ? "val_" : section.startsWith("eval") ? "eval_" : "test_";
}

/** Names that only tell a training's time or rate, never an evaluation's figure (`val loss 0.6 lr 0.01`). */
const NOT_EVAL_NAMES = new Set(["lr", "learning_rate", "time", "eta", "epoch_time", "data_time"]);

/**
 * The keys of a line's metrics, in order: the line's section's prefix (`Epoch 3 val: loss: 0.4`), and
 * after a name of words whose first says evaluation (`val loss`, `Test Acc`), that evaluation's prefix
 * on the names after it that say no section of their own, until a name starting with `train`.
 */
function evalKeys(metrics: Pair[], prefix: string): string[] {
  let carried = prefix;
  return metrics.map((x) => {
    if (x.key !== x.word) {
      const head = x.key.slice(0, x.key.indexOf("_")).toLowerCase();
      if (head === "train" || head === "training") carried = prefix;
      else if (EVAL_SECTION.test(head) && head.length === x.key.indexOf("_")) {
        // written as the name it follows is (`Val Loss: 0.4 Acc: 0.9` -> `Val_Acc`, as `Val_Loss`)
        const p = sectionPrefix(head);
        carried = x.key[0] === x.key[0].toUpperCase() ? p[0].toUpperCase() + p.slice(1) : p;
      }
    }
    // (a line that is an evaluation's as a whole, `Test: [19/19] Time 0.2 Loss 6.1`, is so for every name)
    const own = EVAL_KEY.test(x.key) || /^train(?:ing)?(?:[_/.-]|$)/i.test(x.key) || (carried !== prefix && NOT_EVAL_NAMES.has(x.key.toLowerCase()));
    return carried && !own && codePointLength(carried + x.key) <= LIMITS.keyMaxLength.value ? carried + x.key : x.key;
  });
}

/**
 * Names whose integer value is a count, an index or a setting, not a measurement of the step: the
 * process printing (`rank 0 epoch 1 loss 0.5`), the batch within an epoch (`Epoch 1 Batch 100 Loss
 * 0.5`), a seed, the run's planned length (`epochs 90`) and sizes (`batch_size 32`, `params 11689512`).
 */
const COUNT_NAMES = new Set([
  "rank",
  "local_rank",
  "global_rank",
  "world_size",
  "node",
  "node_rank",
  "gpu",
  "gpu_id",
  "device",
  "worker",
  "workers",
  "num_workers",
  "seed",
  "random_seed",
  "batch",
  "batch_idx",
  "batch_size",
  "epochs",
  "num_epochs",
  "max_epochs",
  "total_epochs",
  "max_steps",
  "total_steps",
  "max_iters",
  "num_classes",
  "classes",
  "params",
  "num_params",
  "parameters",
]);

/**
 * Where a plain print starts after the prefix a logger writes before it (`2024-01-01 12:00:00,123 -
 * INFO - `, `INFO:root:`, `[2024-01-01 12:00:00][INFO]`, glog's `I0101 12:00:00.123 42 train.py:9]`)
 * and an evaluation's label (`Test:`); 0 when the line has none. Each character is looked at a few
 * times at most (a `[` with no `]` ends the prefix).
 */
function logPrefixEnd(line: string, seen?: { index?: number }): number {
  let i = 0;
  let body = 0;
  let dashed = false;
  let stamped = false;
  for (let tokens = 0; tokens < 16; tokens++) {
    while (line[i] === " " || line[i] === "\t") i++;
    if (line[i] === "[") {
      const close = line.indexOf("]", i);
      if (close < 0 || close - i > 200) break;
      // `[100]`: the step a loop prints first (XGBoost's `[0]\ttrain-logloss:0.6`, CLU's `[100] loss=0.5`)
      if (seen && close - i <= 16 && /^\[\d+\]$/.test(line.slice(i, close + 1))) seen.index = Number(line.slice(i + 1, close));
      i = close + 1;
      if (line[i] === ":") i++;
      body = i;
      continue;
    }
    let end = line.indexOf(" ", i);
    if (end < 0) end = line.length;
    const token = line.slice(i, end);
    const colon = token.indexOf(":");
    const word = (colon > 0 ? token.slice(0, colon) : token).toLowerCase();
    if (LOG_LEVELS.has(word) && colon > 0 && colon < token.length - 1) {
      // `INFO:root:epoch 1 ...`: Python's basicConfig format runs into the message
      return i + token.lastIndexOf(":") + 1;
    }
    const bare = token.endsWith(":") || token.endsWith(",") ? token.slice(0, -1) : token;
    if (
      LOG_LEVELS.has(bare.toLowerCase()) ||
      LOG_STAMP.test(bare) ||
      bare === "-" ||
      bare === "|" ||
      (token.endsWith("]") && body > 0) ||
      (stamped && /^\d{1,10}$/.test(token)) ||
      (dashed && line.startsWith(" - ", end)) ||
      (token.endsWith(":") && EVAL_SECTION.test(bare) && EVAL_SECTION.exec(bare)?.[0].length === bare.length)
    ) {
      dashed = bare === "-";
      stamped = LOG_STAMP.test(bare) || (stamped && /^\d/.test(bare));
      i = end;
      body = i;
      continue;
    }
    break;
  }
  return body;
}

// A date, a time of day, a date and time, or glog's `I0101` (level and date) with which a logger starts a line.
const LOG_STAMP = /^(?:\d{4}[-/]\d{2}[-/]\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[.,]\d{1,9})?Z?)?|\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,9})?|[IWEF]\d{4})$/;

/**
 * The step of a line that prints an epoch and a step (or batch) that starts again each epoch
 * (`Epoch 1 Step 900 loss 0.4`, then `Epoch 2 Step 0 loss 0.3`): the steps of the epochs before it
 * added, so that epoch 2's step 0 does not land on epoch 1's (its values replaced epoch 1's). An
 * epoch's length is its last step printed plus the distance between its last two; a global step
 * (never smaller in a later epoch) is left as printed, and so is a count that starts again at an
 * epoch that is no later (a second run printed to the same log).
 */
function withinEpochs(state: TextState, epoch: number, step: number): number {
  const c = state.epochCount;
  if (!c) {
    state.epochCount = { epoch, last: step, gap: 1, offset: 0 };
    return step;
  }
  if (epoch > c.epoch && step <= c.last) {
    if (!isStep(c.offset + c.last + c.gap)) return step;
    c.offset += c.last + c.gap;
  } else if (epoch === c.epoch && step > c.last) c.gap = step - c.last;
  else if (epoch < c.epoch) c.offset = 0;
  c.epoch = epoch;
  c.last = step;
  return isStep(c.offset + step) ? c.offset + step : step;
}

/** The step in brackets that starts a line, after a logger's prefix (`[100] train_loss=0.5`), if any. */
function bracketStep(line: string): number | undefined {
  const seen: { index?: number } = {};
  const body = logPrefixEnd(line, seen);
  // CatBoost's `0:\tlearn: 0.6\ttest: 0.61` numbers its iterations the same way, with a colon
  const colon = seen.index === undefined ? /^(\d{1,15}):[ \t]/.exec(line.slice(body, body + 20)) : null;
  const index = colon ? Number(colon[1]) : seen.index;
  return index !== undefined && isStep(index) ? index : undefined;
}

function isStepWord(word: string): boolean {
  return STEP_NAMES.has(word.toLowerCase());
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
