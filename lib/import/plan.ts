import fs from "node:fs";
import path from "node:path";
import { LIMITS } from "../contract/limits";
import { type FileEntry, groupFiles, ownEventFiles, runNameOf } from "./group-files";
import { isEventFileName, parseFile } from "./parse-file";
import { eventRunSource, logFileSource } from "./run-source";

// Which runs a list of paths holds, and which files make each run: what the CLI (`babysit import`)
// uses, and `babysit watch` is to use. No server involved. The grouping itself is
// lib/import/group-files.ts (no file system: a browser's folder drop can use it too); this walks the
// disk and peeks into small event-file directories for hparams records.
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
//   So is a metrics.json or trainer_state.json (group-files.ts JSON_LOG_NAMES), not one in checkpoint-N.
// - A file given by name is a run (an event file: its directory's run).
// The source that names a run (its id is a hash of project and source) is run-source.ts's: its first
// event file's name (TensorBoard), or a log file's path from the directory given, that directory's
// name first; the same logs dropped on the dashboard make the same runs. `formerSource` is what
// named the run before that (the absolute path of its directory or file): a run imported so keeps
// getting its logs (the server takes it when the project has no run for the new source).

export interface PlannedFile {
  abs: string;
  /** Path relative to the run's directory (TensorBoard) or the file's own name. */
  rel: string;
  size: number;
}

export interface PlannedRun {
  source: string;
  /** The source earlier versions named the run by (its absolute path), for runs they imported. */
  formerSource: string;
  name: string;
  kind: "tensorboard" | "file";
  files: PlannedFile[];
}

export interface Plan {
  runs: PlannedRun[];
  skipped: { path: string; reason: string }[];
  /** Paths given that are not there (a typo): the import fails (exit 1), as cp or tar would. */
  failed: { path: string; reason: string }[];
}

// an hparams sub-run is a few records; a larger directory of event files is a run of its own
const HPARAMS_PEEK_BYTES = LIMITS.importHparamsPeekBytes.value;

export function planImport(paths: readonly string[]): Plan {
  const plan: Plan = { runs: [], skipped: [], failed: [] };
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
      plan.failed.push({ path: given, reason: "no such file or directory" });
      continue;
    }
    if (st.isFile()) {
      if (isEventFileName(path.basename(abs))) {
        const dir = path.dirname(abs);
        const files = [{ abs, rel: path.basename(abs), size: st.size }];
        addRun({ source: eventRunSource([path.basename(abs)]), formerSource: dir, name: runNameOf(ownName(dir)), kind: "tensorboard", files });
      } else {
        const files = [{ abs, rel: path.basename(abs), size: st.size }];
        addRun({ source: logFileSource(path.basename(abs)), formerSource: abs, name: runNameOf(path.basename(abs)), kind: "file", files });
      }
      continue;
    }
    if (!st.isDirectory()) {
      plan.failed.push({ path: given, reason: "not a file or directory" });
      continue;
    }
    walkDirectory(abs, plan, addRun);
  }
  for (const r of plan.runs) r.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return plan;
}

function walkDirectory(root: string, plan: Plan, addRun: (r: PlannedRun) => void): void {
  const entries: FileEntry<string>[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      plan.skipped.push({ path: path.relative(root, dir) || ".", reason: `cannot be read: ${(e as Error).message}` });
      continue;
    }
    for (const e of dirents) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(abs);
      else if (e.isFile()) {
        let size: number;
        try {
          size = fs.statSync(abs).size;
        } catch {
          continue; // removed since the directory was read (a directory being written: `babysit watch`)
        }
        entries.push({ rel: path.relative(root, abs).split(path.sep).join("/"), size, ref: abs });
      }
    }
  }
  const rootName = path.basename(root) || root;
  for (const g of groupFiles(ownName(root), entries, isHparamsRun)) {
    addRun({
      source: g.kind === "tensorboard" ? eventRunSource(ownEventFiles(g.files)) : logFileSource(`${rootName}/${g.path}`),
      formerSource: g.kind === "tensorboard" ? path.join(root, g.path) : g.files[0].ref,
      name: g.name,
      kind: g.kind,
      files: g.files.map((f) => ({ abs: f.ref, rel: f.rel, size: f.size })),
    });
  }
}

/** A run directory named by itself: its parent's name and its own. */
function ownName(dir: string): string {
  const parent = path.basename(path.dirname(dir));
  return parent ? `${parent}/${path.basename(dir)}` : path.basename(dir) || dir;
}

function isHparamsRun(files: FileEntry<string>[]): boolean {
  if (files.reduce((n, f) => n + f.size, 0) > HPARAMS_PEEK_BYTES) return false;
  try {
    return files.some((f) => parseFile(f.ref, fs.readFileSync(f.ref), { format: "tensorboard" }).data.config.size > 0);
  } catch {
    return false;
  }
}
