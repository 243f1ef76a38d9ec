// Which runs a tree of files holds, from their relative paths alone (no file system): the rules of
// lib/import/plan.ts, kept here so that a client with only a list of files (the dashboard's folder
// drop) groups them the same way.
// - Every directory holding TensorBoard event files is one run, named by its path ("" is the root,
//   named `rootName`).
// - A directory of event files that `isHparamsDir` says records hparams (torch's add_hparams writes
//   one under the run) belongs to the nearest directory above it that is a run.
// - Every other .csv, .tsv, .jsonl, .ndjson, .log or .txt file is a run of its own, named by its path,
//   and so is a metrics.json or trainer_state.json (JSON_LOG_NAMES; not one in a checkpoint-N directory).
// Other files are left out.

import { LIMITS } from "../contract/limits";

/**
 * A run's name made from a path, as the API takes names: control characters (a tab or newline in a
 * directory's name) shown as U+FFFD, and a path longer than runNameMaxLength cut to its end (the
 * run directory itself, the part that tells runs apart) after "…". A path is not the user's choice
 * of name: refusing it refused every file of the run.
 */
export function runNameOf(p: string): string {
  const shown = p.replace(/[\u0000-\u001f\u007f]/g, "\ufffd");
  const cps = [...shown];
  const max = LIMITS.runNameMaxLength.value;
  return cps.length > max ? `…${cps.slice(cps.length - max + 1).join("")}` : shown;
}

/** Whether a file name is a TensorBoard event file (what TensorFlow and torch name them). */
export function isEventFileName(name: string): boolean {
  return name.includes("tfevents");
}

export interface FileEntry<T> {
  /** Path relative to the root, with "/" separators. */
  rel: string;
  size: number;
  ref: T;
}

export interface FileGroup<T> {
  kind: "tensorboard" | "file";
  /** TensorBoard: the run directory's path ("" the root); a log file: the file's path. */
  path: string;
  name: string;
  /** Each file with its path relative to the run's directory (a log file: its own name). */
  files: { rel: string; size: number; ref: T }[];
}

export const LOG_EXTENSIONS = [".csv", ".tsv", ".jsonl", ".ndjson", ".log", ".txt"];

/**
 * .json files a walk takes by name: what training tools write their logs as (detectron2's
 * metrics.json, Hugging Face's trainer_state.json). Any other .json (a model's config.json, a
 * tokenizer) is left to be named. A trainer_state.json in a `checkpoint-N` directory is a copy of the
 * log as it was at that checkpoint: the run's is the one beside the checkpoints.
 */
export const JSON_LOG_NAMES = ["metrics.json", "trainer_state.json"];

const CHECKPOINT_DIR = /^checkpoint-\d+$/;

/** The sub-directories of a Keras TensorBoard run (groupFiles): their files' tags are read under these names. */
export const KERAS_SPLIT_DIRS = ["train", "validation"];

/**
 * The names of a TensorBoard run's own event files (not a sub-run's), which name its source
 * (run-source.ts): those in its directory, or, for a Keras run (groupFiles), those in its train/.
 */
export function ownEventFiles(files: readonly { rel: string }[]): string[] {
  const own = files.filter((f) => !f.rel.includes("/")).map((f) => f.rel);
  return own.length > 0 ? own : files.filter((f) => f.rel.startsWith("train/") && f.rel.indexOf("/") === 5).map((f) => f.rel.slice(6));
}

/** Whether a walk takes the file at `rel` as a log file of its own. */
export function isLogFileName(rel: string): boolean {
  const base = baseOf(rel).toLowerCase();
  if (LOG_EXTENSIONS.some((x) => base.endsWith(x))) return true;
  return JSON_LOG_NAMES.includes(base) && !CHECKPOINT_DIR.test(baseOf(dirOf(rel)));
}

const dirOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");
const baseOf = (rel: string) => rel.slice(rel.lastIndexOf("/") + 1);

export function groupFiles<T>(rootName: string, entries: FileEntry<T>[], isHparamsDir: (files: FileEntry<T>[]) => boolean): FileGroup<T>[] {
  const eventDirs = new Map<string, FileEntry<T>[]>();
  const logs: FileEntry<T>[] = [];
  for (const e of entries) {
    const base = baseOf(e.rel);
    if (isEventFileName(base)) {
      const dir = dirOf(e.rel);
      let list = eventDirs.get(dir);
      if (!list) eventDirs.set(dir, (list = []));
      list.push(e);
    } else if (isLogFileName(e.rel)) logs.push(e);
  }
  const runFiles = new Map<string, FileGroup<T>["files"]>();
  for (const [dir, files] of eventDirs)
    runFiles.set(
      dir,
      files.map((f) => ({ rel: baseOf(f.rel), size: f.size, ref: f.ref })),
    );
  // deepest first: a sub-run joins its parent before the parent is looked at
  for (const dir of [...eventDirs.keys()].sort((a, b) => b.length - a.length)) {
    const parent = nearestRun(dir, eventDirs);
    if (parent === null || !isHparamsDir(eventDirs.get(dir)!)) continue;
    const prefix = parent === "" ? dir : dir.slice(parent.length + 1);
    for (const f of runFiles.get(dir)!) runFiles.get(parent)!.push({ ...f, rel: `${prefix}/${f.rel}` });
    runFiles.delete(dir);
  }
  // Keras's TensorBoard callback writes <log_dir>/train and <log_dir>/validation, the same tags in
  // both (epoch_loss, epoch_accuracy): one run at <log_dir>, each file's tags read under its
  // directory's name (KERAS_SPLIT_DIRS; parse-file.ts). As two runs, validation's epoch_loss was
  // the training loss of a run of its own.
  for (const dir of [...runFiles.keys()]) {
    if (baseOf(dir) !== "validation") continue;
    const parent = dirOf(dir);
    const train = parent === "" ? "train" : `${parent}/train`;
    if (runFiles.has(parent) || !runFiles.has(train) || dir === parent) continue;
    runFiles.set(parent, [
      ...runFiles.get(train)!.map((f) => ({ ...f, rel: `train/${f.rel}` })),
      ...runFiles.get(dir)!.map((f) => ({ ...f, rel: `validation/${f.rel}` })),
    ]);
    runFiles.delete(train);
    runFiles.delete(dir);
  }
  const out: FileGroup<T>[] = [];
  const byName = (a: { rel: string }, b: { rel: string }) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
  for (const dir of [...runFiles.keys()].sort()) {
    out.push({ kind: "tensorboard", path: dir, name: runNameOf(dir || rootName), files: runFiles.get(dir)!.sort(byName) });
  }
  for (const f of logs.sort(byName))
    out.push({ kind: "file", path: f.rel, name: runNameOf(f.rel), files: [{ rel: baseOf(f.rel), size: f.size, ref: f.ref }] });
  return out;
}

function nearestRun(dir: string, eventDirs: Map<string, unknown>): string | null {
  let d = dir;
  while (d !== "") {
    d = dirOf(d);
    if (eventDirs.has(d)) return d;
  }
  return null;
}
