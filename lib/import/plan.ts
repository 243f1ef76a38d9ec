import fs from "node:fs";
import path from "node:path";
import { isEventFileName, parseFile } from "./parse-file";

// Which runs a list of paths holds, and which files make each run: the one definition the CLI
// (`babysit import`) uses, and `babysit watch` is to use. No server involved.
// - A directory is walked recursively (hidden entries and node_modules left out, symbolic links
//   not followed). Every directory holding TensorBoard event files is one run, named by its path
//   relative to the directory given, as TensorBoard names runs (the directory given and its parent,
//   `healthy/tb`, when it is the run itself: its own name is often just `tb` or `logs`).
// - A directory of event files that record hparams (torch's `SummaryWriter.add_hparams` writes them
//   into a sub-directory of the run) belongs to the nearest directory above it that is a run: its
//   hyperparameters become that run's config and its metrics that run's metrics, as TensorBoard's
//   HParams tab shows them together.
// - Any other .csv, .tsv, .jsonl, .ndjson, .log or .txt file is a run of its own, named by its path
//   (with its extension: log.txt and keras_log.txt beside each other are two runs).
// - A file given by name is a run (an event file: its directory's run).
// The source that names a run (its id is a hash of project and source) is the absolute path of its
// directory (TensorBoard) or file: importing a parent directory later finds the same runs.

export interface PlannedFile {
  abs: string;
  /** Path relative to the run's directory (TensorBoard) or the file's own name. */
  rel: string;
  size: number;
}

export interface PlannedRun {
  source: string;
  name: string;
  kind: "tensorboard" | "file";
  files: PlannedFile[];
}

export interface Plan {
  runs: PlannedRun[];
  skipped: { path: string; reason: string }[];
}

const LOG_EXTENSIONS = [".csv", ".tsv", ".jsonl", ".ndjson", ".log", ".txt"];
// an hparams sub-run is a few records; a larger directory of event files is a run of its own
const HPARAMS_PEEK_BYTES = 1024 * 1024;

export function planImport(paths: readonly string[]): Plan {
  const plan: Plan = { runs: [], skipped: [] };
  const bySource = new Map<string, PlannedRun>();
  const addRun = (r: PlannedRun) => {
    const had = bySource.get(r.source);
    if (had) {
      for (const f of r.files) if (!had.files.some((g) => g.abs === f.abs)) had.files.push(f);
      return;
    }
    bySource.set(r.source, r);
    plan.runs.push(r);
  };
  for (const given of paths) {
    const abs = path.resolve(given);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      plan.skipped.push({ path: given, reason: "no such file or directory" });
      continue;
    }
    if (st.isFile()) {
      if (isEventFileName(path.basename(abs))) {
        const dir = path.dirname(abs);
        addRun({ source: dir, name: ownName(dir), kind: "tensorboard", files: [{ abs, rel: path.basename(abs), size: st.size }] });
      } else addRun({ source: abs, name: path.basename(abs), kind: "file", files: [{ abs, rel: path.basename(abs), size: st.size }] });
      continue;
    }
    if (!st.isDirectory()) {
      plan.skipped.push({ path: given, reason: "not a file or directory" });
      continue;
    }
    walkDirectory(abs, plan, addRun);
  }
  for (const r of plan.runs) r.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return plan;
}

function walkDirectory(root: string, plan: Plan, addRun: (r: PlannedRun) => void): void {
  const eventDirs = new Map<string, PlannedFile[]>();
  const logs: PlannedFile[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      plan.skipped.push({ path: path.relative(root, dir) || ".", reason: `cannot be read: ${(e as Error).message}` });
      continue;
    }
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(abs);
      else if (e.isFile()) {
        const size = fs.statSync(abs).size;
        if (isEventFileName(e.name)) {
          let list = eventDirs.get(dir);
          if (!list) eventDirs.set(dir, (list = []));
          list.push({ abs, rel: e.name, size });
        } else if (LOG_EXTENSIONS.some((x) => e.name.toLowerCase().endsWith(x))) logs.push({ abs, rel: e.name, size });
      }
    }
  }
  const runName = (dir: string) => path.relative(root, dir).split(path.sep).join("/") || ownName(root);
  // deepest first, so that a sub-run finds its parent still unmerged; parents are shallower
  const dirs = [...eventDirs.keys()].sort((a, b) => b.length - a.length);
  const merged = new Set<string>();
  for (const dir of dirs) {
    const parent = nearestRun(dir, root, eventDirs);
    if (parent && isHparamsRun(eventDirs.get(dir)!)) {
      const prefix = path.relative(parent, dir).split(path.sep).join("/");
      for (const f of eventDirs.get(dir)!) eventDirs.get(parent)!.push({ ...f, rel: `${prefix}/${f.rel}` });
      merged.add(dir);
    }
  }
  for (const dir of [...eventDirs.keys()].sort()) {
    if (merged.has(dir)) continue;
    addRun({ source: dir, name: runName(dir), kind: "tensorboard", files: eventDirs.get(dir)! });
  }
  for (const f of logs.sort((a, b) => (a.abs < b.abs ? -1 : 1))) {
    addRun({ source: f.abs, name: path.relative(root, f.abs).split(path.sep).join("/"), kind: "file", files: [{ ...f }] });
  }
}

/** A run directory named by itself: its parent's name and its own. */
function ownName(dir: string): string {
  const parent = path.basename(path.dirname(dir));
  return parent ? `${parent}/${path.basename(dir)}` : path.basename(dir) || dir;
}

function nearestRun(dir: string, root: string, eventDirs: Map<string, PlannedFile[]>): string | null {
  let d = dir;
  while (d !== root && d.startsWith(root)) {
    d = path.dirname(d);
    if (eventDirs.has(d)) return d;
  }
  return null;
}

function isHparamsRun(files: PlannedFile[]): boolean {
  if (files.reduce((n, f) => n + f.size, 0) > HPARAMS_PEEK_BYTES) return false;
  try {
    return files.some((f) => parseFile(f.abs, fs.readFileSync(f.abs), { format: "tensorboard" }).data.config.size > 0);
  } catch {
    return false;
  }
}
