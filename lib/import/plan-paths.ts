// plan.ts's grouping rules on relative paths alone, without the file system: what the dashboard
// uses for files and folders dropped on the runs list (a browser knows a dropped folder's name and
// the paths under it, never its absolute path). Same rules as `babysit import` on that folder:
// - each directory holding TensorBoard event files is one run, named by its path under the dropped
//   folder (the dropped folder itself, when it is the run: its own name);
// - a small directory of event files that record hparams, under a run directory, belongs to that
//   run (torch's `add_hparams` sub-run): the caller says which are (isHparamsRun), as plan.ts asks
//   the parser;
// - any other .csv, .tsv, .jsonl, .ndjson, .log or .txt file is a run of its own, named by its path;
//   other files, hidden entries and node_modules are left out.
// The source that names a run is `upload:` and its path from the dropped folder: dropping the same
// folder again resumes the same runs (tests/lib/import/plan-paths.test.ts checks the two agree).

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
  name: string;
  kind: "tensorboard" | "file";
  files: PathPlanFile<E>[];
}

const LOG_EXTENSIONS = [".csv", ".tsv", ".jsonl", ".ndjson", ".log", ".txt"];
/** As plan.ts: an hparams sub-run is a few records; a larger directory of event files is a run of its own. */
export const HPARAMS_PEEK_BYTES = 1024 * 1024;
export const UPLOAD_SOURCE_PREFIX = "upload:";

// parse-file.ts's rule, repeated: this module goes to the browser, which must not load the parsers
// (the agreement test holds the two together)
const isEventFileName = (name: string) => name.includes("tfevents");
const dirOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const baseOf = (p: string) => p.slice(p.lastIndexOf("/") + 1);
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
      add({ source: UPLOAD_SOURCE_PREFIX + e.path, name: e.path, kind, files: [{ entry: e, rel: e.path }] });
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
  const eventDirs = new Map<string, PathPlanFile<E>[]>();
  const logs: E[] = [];
  for (const e of entries) {
    const name = baseOf(e.path);
    if (isEventFileName(name)) {
      const dir = dirOf(e.path);
      let list = eventDirs.get(dir);
      if (!list) eventDirs.set(dir, (list = []));
      list.push({ entry: e, rel: name });
    } else if (LOG_EXTENSIONS.some((x) => name.toLowerCase().endsWith(x))) logs.push(e);
  }
  const under = (dir: string) => (dir === root ? "" : dir.slice(root.length + 1));
  // deepest first, as plan.ts: a sub-run finds its parent still unmerged
  const merged = new Set<string>();
  for (const dir of [...eventDirs.keys()].sort((a, b) => b.length - a.length)) {
    const parent = nearestRun(dir, root, eventDirs);
    if (!parent) continue;
    const own = eventDirs.get(dir)!;
    if (own.reduce((n, f) => n + f.entry.size, 0) > HPARAMS_PEEK_BYTES) continue;
    let hp = false;
    try {
      hp = await isHparamsRun(own.map((f) => f.entry));
    } catch {
      hp = false;
    }
    if (!hp) continue;
    const prefix = dir.slice(parent.length + 1);
    for (const f of own) eventDirs.get(parent)!.push({ entry: f.entry, rel: `${prefix}/${f.rel}` });
    merged.add(dir);
  }
  for (const dir of [...eventDirs.keys()].sort(byText)) {
    if (merged.has(dir)) continue;
    add({ source: UPLOAD_SOURCE_PREFIX + dir, name: under(dir) || root, kind: "tensorboard", files: eventDirs.get(dir)! });
  }
  for (const e of logs.sort((a, b) => byText(a.path, b.path))) {
    add({ source: UPLOAD_SOURCE_PREFIX + e.path, name: under(e.path), kind: "file", files: [{ entry: e, rel: baseOf(e.path) }] });
  }
}

function nearestRun(dir: string, root: string, eventDirs: Map<string, unknown>): string | null {
  let d = dir;
  while (d !== root && d.includes("/")) {
    d = dirOf(d);
    if (eventDirs.has(d)) return d;
  }
  return null;
}
