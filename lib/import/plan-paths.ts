import { LIMITS } from "../contract/limits";
import { type FileEntry, groupFiles, isEventFileName, ownEventFiles, runNameOf } from "./group-files";
import { eventRunSource, logFileSource } from "./run-source";

// What the dashboard makes of files and folders dropped on the runs list (or chosen with its
// pickers): the runs `babysit import` would make of them. A browser knows a dropped folder's name
// and the paths under it, never its absolute path, so this works on relative paths: each dropped
// folder is grouped by group-files.ts (the rules plan.ts uses on the disk: one run per directory of
// event files, named by its path under the folder, the folder's own name when it is the run; a small
// hparams sub-directory joins the run above it; one run per other log file), after hidden entries and
// node_modules are left out, as plan.ts's walk leaves them. A file dropped on its own is a run.
// The source that names a run is run-source.ts's, as the CLI's: dropping the same folder again, or
// importing it with `babysit import`, resumes the same runs (tests/lib/import/plan-paths.test.ts
// checks the dashboard, the CLI and the Python SDK agree on the fixture folders). Before, it was
// `upload:` and the path from the dropped folder's name: sent as formerSource, so such runs keep
// getting their logs.

export interface PathEntry {
  /** "/"-separated, from the dropped folder's name down (`runs/healthy/tb/events.out…`), or a bare file name. */
  path: string;
  size: number;
}

export interface PathPlanFile<E extends PathEntry = PathEntry> {
  entry: E;
  /** The file's path within its run, as the import API's `path` parameter. */
  rel: string;
}

export interface PathPlanRun<E extends PathEntry = PathEntry> {
  source: string;
  /** What earlier versions named the run by (`upload:` and its path). */
  formerSource: string;
  name: string;
  kind: "tensorboard" | "file";
  files: PathPlanFile<E>[];
}

/** As plan.ts: an hparams sub-run is a few records; a larger directory of event files is a run of its own. */
export const HPARAMS_PEEK_BYTES = LIMITS.importHparamsPeekBytes.value;
export const UPLOAD_SOURCE_PREFIX = "upload:";

const dirOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function planPaths<E extends PathEntry>(
  entries: readonly E[],
  isHparamsRun: (files: E[]) => Promise<boolean> | boolean,
): Promise<PathPlanRun<E>[]> {
  const runs: PathPlanRun<E>[] = [];
  const bySource = new Map<string, PathPlanRun<E>>();
  const add = (r: PathPlanRun<E>) => {
    const had = bySource.get(r.source);
    if (had) {
      for (const f of r.files) if (!had.files.some((g) => g.entry.path === f.entry.path)) had.files.push(f);
      return;
    }
    bySource.set(r.source, r);
    runs.push(r);
  };
  // dropped folders by their name; dropped files on their own
  const roots = new Map<string, E[]>();
  for (const e of entries) {
    const parts = e.path.split("/");
    if (parts.some((p) => p === "" || p === "." || p === "..")) continue;
    if (parts.length === 1) {
      const kind = isEventFileName(e.path) ? "tensorboard" : "file";
      const source = kind === "tensorboard" ? eventRunSource([e.path]) : logFileSource(e.path);
      add({ source, formerSource: UPLOAD_SOURCE_PREFIX + e.path, name: runNameOf(e.path), kind, files: [{ entry: e, rel: e.path }] });
      continue;
    }
    if (parts.slice(1).some((p) => p.startsWith(".") || p === "node_modules")) continue;
    let list = roots.get(parts[0]);
    if (!list) roots.set(parts[0], (list = []));
    list.push(e);
  }
  for (const [root, list] of roots) await planFolder(root, list, isHparamsRun, add);
  for (const r of runs) r.files.sort((a, b) => byText(a.rel, b.rel));
  return runs;
}

async function planFolder<E extends PathEntry>(
  root: string,
  entries: E[],
  isHparamsRun: (files: E[]) => Promise<boolean> | boolean,
  add: (r: PathPlanRun<E>) => void,
): Promise<void> {
  const within: FileEntry<E>[] = entries.map((e) => ({ rel: e.path.slice(root.length + 1), size: e.size, ref: e }));
  // groupFiles asks synchronously; a browser reads files asynchronously: ask first about every
  // directory it may ask about (a small event directory under another one), as plan.ts peeks
  const eventDirs = new Map<string, FileEntry<E>[]>();
  for (const e of within) {
    if (!isEventFileName(e.rel.slice(e.rel.lastIndexOf("/") + 1))) continue;
    const dir = dirOf(e.rel);
    let list = eventDirs.get(dir);
    if (!list) eventDirs.set(dir, (list = []));
    list.push(e);
  }
  const hparams = new Set<string>();
  for (const [dir, files] of eventDirs) {
    if (!hasRunAbove(dir, eventDirs) || files.reduce((n, f) => n + f.size, 0) > HPARAMS_PEEK_BYTES) continue;
    try {
      if (await isHparamsRun(files.map((f) => f.ref))) hparams.add(dir);
    } catch {
      // unreadable: a run of its own, as plan.ts has it
    }
  }
  for (const g of groupFiles(root, within, (files) => hparams.has(dirOf(files[0].rel)))) {
    add({
      source: g.kind === "tensorboard" ? eventRunSource(ownEventFiles(g.files)) : logFileSource(`${root}/${g.path}`),
      formerSource: UPLOAD_SOURCE_PREFIX + (g.path ? `${root}/${g.path}` : root),
      name: g.name,
      kind: g.kind,
      files: g.files.map((f) => ({ entry: f.ref, rel: f.rel })),
    });
  }
}

function hasRunAbove(dir: string, eventDirs: Map<string, unknown>): boolean {
  for (let d = dir; d !== ""; ) {
    d = dirOf(d);
    if (eventDirs.has(d)) return true;
  }
  return false;
}
