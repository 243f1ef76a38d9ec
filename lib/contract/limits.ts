// The wire contract's limits, each with its unit: the one definition the server enforces,
// docs/api.md describes and both SDKs' own checks are tested against. docs/contract.json is
// generated from this file (`npm run contract`); a test fails when the two differ.

/** How a string's length is counted everywhere on the wire: Unicode code points (what Python's
 * `len()` counts; `[...s].length` in JavaScript), never UTF-16 code units or UTF-8 bytes. */
export const STRING_UNIT = "code points";

export interface Limit {
  value: number;
  unit: string;
  /** What the limit applies to, in words for docs and error messages. */
  what: string;
}

const limit = (value: number, unit: string, what: string): Limit => ({ value, unit, what });

export const LIMITS = {
  keyMaxLength: limit(200, STRING_UNIT, "metric, histogram and image keys (at least 1)"),
  eventTypeMaxLength: limit(64, STRING_UNIT, "event types (at least 1)"),
  projectMaxLength: limit(100, STRING_UNIT, "project names after trimming (at least 1)"),
  runNameMaxLength: limit(200, STRING_UNIT, "run names after trimming (at least 1)"),
  runIdMaxLength: limit(64, "ASCII characters A-Z a-z 0-9 _ -", "run ids (at least 1)"),
  // sweeps (hyperparameter search, lib/sweeps/store.ts)
  sweepNameMaxLength: limit(200, STRING_UNIT, "sweep names after trimming (at least 1); a run's config.sweep.id names its sweep"),
  sweepBudgetMax: limit(100_000, "trials", "a sweep's budget (trials handed out over all workers) and a trial index"),
  sweepTrialsMax: limit(1_000, "runs", "trials of one sweep that its detail, alerts and should-stop read (the newest ones)"),
  sweepListMax: limit(500, "sweeps", "sweeps in one answer of GET /api/v1/sweeps (limit, default 100; nextCursor pages on)"),
  rowsPerBatch: limit(10_000, "rows", "rows in one log batch"),
  histogramsPerBatch: limit(1_000, "histograms", "histograms in one log batch"),
  eventsPerBatch: limit(1_000, "events", "events in one log batch"),
  histogramBins: limit(1_000, "bins", "bins of one histogram (edges: bins + 1)"),
  // request bodies, by route: a body past its route's limit is answered 413 payload_too_large as
  // soon as its Content-Length (or the bytes streamed so far) says so, before the rest is read
  bodyBytes: limit(8 * 1024 * 1024, "bytes", "one log batch's request body (POST /api/v1/runs/{id}/log)"),
  runCreateBodyBytes: limit(
    4 * 1024 * 1024,
    "bytes",
    "the body of POST /api/v1/runs (room for a config of configBytes with every non-ASCII character written as \\uXXXX, as Python's json.dumps does)",
  ),
  editBodyBytes: limit(256 * 1024, "bytes", "the body of PATCH /api/v1/runs/{id}, POST /api/v1/runs/bulk, POST /api/v1/keys and POST /api/v1/sweeps"),
  smallBodyBytes: limit(
    16 * 1024,
    "bytes",
    "any other request body (login, password, users, shares, finish) and any request to a page or a route that reads none",
  ),
  importFileBytes: limit(64 * 1024 * 1024, "bytes", "one file sent to POST /api/v1/import (a larger file is skipped by the CLI and said so)"),
  importHparamsPeekBytes: limit(
    1024 * 1024,
    "bytes",
    "event files of a directory under a run that an importer reads to see whether they are its hparams sub-run (torch's add_hparams); a larger directory is a run of its own",
  ),
  runLogBodyBytes: limit(1024 * 1024, "bytes", "one batch of console lines (POST /api/v1/runs/{id}/logs)"),
  runLogLinesPerBatch: limit(2_000, "lines", "console lines in one POST /api/v1/runs/{id}/logs"),
  runLogLineMaxLength: limit(4_096, STRING_UNIT, "one console line (`babysit run` splits a longer line into pieces of this length)"),
  runLogLinesPerRun: limit(2_000_000, "lines", "console lines one run keeps (later lines are refused, and the answer says how many)"),
  runLogPageMax: limit(5_000, "lines", "console lines in one answer of GET /api/v1/runs/{id}/logs"),
  importSourceMaxLength: limit(1_000, STRING_UNIT, "an import's source (the path that names the run) and a file's path in it"),
  importPointsMax: limit(
    1_000_000,
    "points",
    "metric points, CSV rows, histograms, images, texts and events read from one file sent to POST /api/v1/import (more -> 413: split the file, or send a TensorBoard or text file in parts with offset); bounds the server's memory",
  ),
  importRecordFieldsMax: limit(
    100_000,
    "fields",
    "protobuf fields, at any depth, of one record of an imported TensorBoard event file (more -> the file is refused)",
  ),
  importPatternsMax: limit(20, "patterns", "text-log templates in one POST /api/v1/import"),
  importPatternMaxLength: limit(256, STRING_UNIT, "one text-log template of an import"),
  jsonDepth: limit(64, "levels of nesting", "any JSON request body"),
  configBytes: limit(1024 * 1024, "bytes of UTF-8 JSON", "a run's config"),
  configDepth: limit(32, "levels of nesting", "a run's config (the config object itself is level 1)"),
  stepMax: limit(Number.MAX_SAFE_INTEGER, "steps", "step and seq, integers from 0 (2^53-1)"),
  timeMax: limit(1e10, "Unix seconds", "row, histogram and event times, from 0 (milliseconds are refused)"),
  // a run's startedAt / finishedAt as an SDK sends them (a run replayed from a spool keeps its real
  // times); outside these the server uses its own clock instead (not an error: the data is kept)
  runTimeFutureSkew: limit(300, "seconds", "how far past the server's clock a run's startedAt or finishedAt may be"),
  runTimeMaxAge: limit(365 * 86_400, "seconds", "how far before the server's clock a run's startedAt or finishedAt may be"),
  epochAbsMax: limit(1e12, "epochs", "the absolute value of a row's epoch"),
  imageSideMax: limit(8192, "pixels", "an image's width and height (at least 1)"),
  imageBytesMax: limit(4 * 1024 * 1024, "bytes of decoded PNG", "one image"),
  urlBytesMax: limit(8 * 1024, "bytes", "a request's URL (path and query)"),
  keyPatternMaxLength: limit(256, STRING_UNIT, "a {layer} pattern in config.babysit.keys (longer ones are ignored)"),
  keyPatternsMax: limit(100, "patterns", "{layer} patterns in config.babysit.keys of one run (later ones are ignored)"),
  // label_stats events (log_label_stats / logLabelStats): a count per class, as sent
  labelStatsClasses: limit(100_000, "classes", "entries of a label_stats event's counts (at least 2)"),
  labelStatsSplitMaxLength: limit(64, STRING_UNIT, "a label_stats event's split name (at least 1)"),
  seriesKeysPerRequest: limit(100, "keys", "keys in one GET .../series?keys= request"),
  // per run, so that what a run holds in memory while it logs and what its page and GET answer carry
  // stay bounded whatever is logged: a batch's new keys beyond these are refused, the rest stored
  keysPerRun: limit(10_000, "keys", "distinct metric keys of one run"),
  histogramKeysPerRun: limit(2_000, "keys", "distinct histogram keys of one run"),
  imageKeysPerRun: limit(1_000, "keys", "distinct image keys of one run"),
  // the statistics events the diagnostics read (input_stats, output_stats)
  statsFeaturesMax: limit(100_000, "features", "entries of an input_stats event's mean and std (at least 1)"),
  statsSplitMaxLength: limit(64, STRING_UNIT, "the split an input_stats or output_stats event names, e.g. val (at least 1)"),
  // run management (PATCH /api/v1/runs/{id}, POST /api/v1/runs/bulk, GET /api/v1/runs filters)
  tagMaxLength: limit(64, STRING_UNIT, "a run's tag after trimming (at least 1)"),
  tagsPerRun: limit(32, "tags", "tags of one run"),
  notesMaxLength: limit(10_000, STRING_UNIT, "a run's notes (plain text)"),
  bulkRunsMax: limit(1_000, "runs", "run ids in one POST /api/v1/runs/bulk request"),
  runFilterMaxLength: limit(200, STRING_UNIT, "a runs-list search text, config key or config value in the query"),
  runConfigFiltersMax: limit(20, "filters", "config.<key> filters in one runs-list query"),
  runMetricFiltersMax: limit(20, "filters", "metric.<key> filters in one runs-list query"),
  runListColumnsMax: limit(20, "keys", "keys in one runs-list configColumns or metricColumns"),
  shareListMax: limit(1_000, "links", "shared links GET /api/v1/shares answers (the newest; total counts them all)"),
  runListKeysRuns: limit(1_000, "runs", "newest runs (of the project, or of all) whose keys a runs list's keys=true answer reads"),
  runListKeysMax: limit(1_000, "keys", "config keys, and metric keys, a runs list's keys=true answer names (the first in code unit order)"),
  runListConfigKeys: limit(
    1_000,
    "keys",
    "top-level keys of a run's config that runs-list config filters, sorts and columns see (the first ones; keys longer than runFilterMaxLength are never seen)",
  ),
  // hyperparameter search spaces (sweeps): checked by the server and by both SDKs before a sweep starts
  sweepParamsMax: limit(100, "parameters", "parameters of one sweep's search space (at least 1)"),
  sweepParamNameMaxLength: limit(200, STRING_UNIT, "a search space's parameter name (at least 1)"),
  sweepChoiceValuesMax: limit(1_000, "values", "values of one choice parameter (at least 1)"),
  // the portable ln and exp of the sampler (lib/sweeps/sampler.ts) are exact only for normal numbers
  sweepLogUniformMin: limit(1e-300, "value", "the smallest low of a log_uniform parameter"),
  sweepLogUniformMax: limit(1e300, "value", "the largest high of a log_uniform parameter"),
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;

/** Characters refused in keys, event types, project and run names: C0 controls and DEL. */
export const FORBIDDEN_CHARACTERS = "U+0000-U+001F and U+007F (control characters)";

/** The strings a metric value may be besides a JSON number. */
export const NON_FINITE_STRINGS = ["NaN", "Infinity", "-Infinity"] as const;

/** Length of a string in code points (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** True when the string holds no lone surrogate, so it survives UTF-8 storage unchanged. */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** True for a character refused in user-named strings (keys, event types, names). */
export function hasForbiddenCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return true;
  }
  return false;
}

/**
 * Why a user-named string (key, event type, project, name) breaks the contract, or null when it is
 * fine. `what` names it in the message, e.g. "metric keys".
 */
export function nameProblem(s: string, max: Limit, what: string): string | null {
  if (s.length === 0) return `${what} must not be empty`;
  if (!isWellFormed(s)) return `${what} must be well-formed Unicode (no lone surrogates)`;
  if (hasForbiddenCharacter(s)) return `${what} must not contain control characters`;
  if (codePointLength(s) > max.value) return `${what} must be at most ${max.value} ${max.unit}`;
  return null;
}

/** The contract as JSON, for docs/contract.json and the SDKs' tests. */
export function contractJson() {
  return {
    $comment: "Generated from lib/contract/limits.ts by `npm run contract`; do not edit.",
    version: 1,
    stringUnit: STRING_UNIT,
    wellFormedUnicode: "every string must be well-formed Unicode: no lone surrogates, and request bodies must be valid UTF-8",
    forbiddenCharacters: FORBIDDEN_CHARACTERS,
    nonFiniteStrings: [...NON_FINITE_STRINGS],
    runIdPattern: "^[A-Za-z0-9_-]{1,64}$",
    limits: LIMITS,
  };
}
