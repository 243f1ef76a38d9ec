import fs from "node:fs";
import cliProgress from "cli-progress";
import { LIMITS } from "../contract/limits";
import { activeAlerts, type ImportTarget, ImportRequestError, finishImportedRun, sendImportFile } from "../import/client";
import { planImport } from "../import/plan";
import { terminalText } from "./terminal-text";

// `babysit import PATH...`: plans the runs (lib/import/plan.ts), sends them file by file to
// POST /api/v1/import with a progress bar, finishes each run (its diagnoses at finish run), and
// prints a summary. Exit code: 0 everything imported, 1 a file or run failed (the others were
// imported), 3 the server refused the API key (or needs one).

export interface ImportCommandOptions extends ImportTarget {
  project: string;
  name?: string;
  format?: string;
  stepColumn?: string;
  patterns?: string[];
  /** Leave the runs running (a directory still being written). */
  finish: boolean;
  /** Draw a progress bar (a terminal); otherwise one line per run. */
  progress: boolean;
}

export interface ImportSummary {
  runs: { id: string; name: string; url: string; points: number; histograms: number; images: number; alerts: string[] }[];
  points: number;
  histograms: number;
  images: number;
  events: number;
  unchanged: number;
  skipped: { path: string; reason: string }[];
  failed: { path: string; reason: string }[];
  keyRefused: boolean;
}

export async function importCommand(
  paths: string[],
  o: ImportCommandOptions,
  print: (line: string) => void = (l) => console.log(terminalText(l)),
): Promise<ImportSummary> {
  const plan = planImport(paths);
  const s: ImportSummary = {
    runs: [],
    points: 0,
    histograms: 0,
    images: 0,
    events: 0,
    unchanged: 0,
    skipped: [...plan.skipped],
    failed: [...plan.failed],
    keyRefused: false,
  };
  if (o.name && plan.runs.length > 1) {
    // the user meant one run: importing each under another name than asked would only make work
    s.failed.push({ path: "--name", reason: nameTooMany(plan.runs.length) });
    printSummary(s, o, print);
    return s;
  }
  const total = plan.runs.reduce((n, r) => n + r.files.reduce((m, f) => m + f.size, 0), 0);
  const bar = o.progress
    ? new cliProgress.SingleBar(
        { format: "importing [{bar}] {percentage}% | {value}/{total} bytes | {run}", stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(total, 0, { run: "" });
  let done = 0;
  const single = plan.runs.length === 1;
  for (const run of plan.runs) {
    if (s.keyRefused) break;
    const name = single && o.name ? o.name : run.name;
    let runId: string | undefined;
    let url = "";
    const counts = { points: 0, histograms: 0, images: 0 };
    let lastTime: number | undefined;
    for (const f of run.files) {
      bar?.update(done, { run: name });
      const shown = run.kind === "tensorboard" ? `${run.name}/${f.rel}` : run.name;
      if (f.size > LIMITS.importFileBytes.value) {
        s.skipped.push({ path: shown, reason: `larger than ${LIMITS.importFileBytes.value} bytes (importFileBytes)` });
        done += f.size;
        continue;
      }
      try {
        const r = await sendImportFile(
          o,
          {
            project: o.project,
            source: run.source,
            formerSource: run.formerSource,
            path: f.rel,
            name,
            format: o.format,
            stepColumn: o.stepColumn,
            patterns: o.patterns,
          },
          fs.readFileSync(f.abs),
        );
        runId = r.runId;
        if (r.times && (lastTime === undefined || r.times.last > lastTime)) lastTime = r.times.last;
        url = r.url;
        counts.points += r.points;
        counts.histograms += r.histograms;
        counts.images += r.images;
        s.events += r.events;
        s.unchanged += r.unchanged;
        for (const k of r.skipped) s.skipped.push({ path: run.kind === "tensorboard" ? `${run.name}/${k.path}` : run.name, reason: k.reason });
      } catch (e) {
        if (e instanceof ImportRequestError && e.status === 401) {
          // every other file would hear the same: stop here and say what to do
          s.keyRefused = true;
          s.failed.push({ path: shown, reason: e.message });
          break;
        }
        s.failed.push({ path: shown, reason: e instanceof Error ? e.message : String(e) });
      }
      done += f.size;
    }
    if (!runId || s.keyRefused) continue;
    let alerts: string[] = [];
    if (o.finish) {
      try {
        const raised = (await finishImportedRun(o, runId, lastTime)).alerts.map((a) => a.code);
        // a long log raises most of its diagnoses live, while it is sent: list them all
        alerts = [...new Set([...(await activeAlerts(o, runId).catch(() => [] as string[])), ...raised])];
      } catch (e) {
        s.failed.push({ path: run.name, reason: `finishing the run: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    s.runs.push({ id: runId, name, url: `${o.url}${url}`, ...counts, alerts });
    s.points += counts.points;
    s.histograms += counts.histograms;
    s.images += counts.images;
    if (!bar) print(`${name}: ${counts.points} points, ${counts.histograms} histograms, ${counts.images} images -> ${o.url}${url}`);
  }
  bar?.update(total, { run: "" });
  bar?.stop();
  printSummary(s, o, print);
  return s;
}

/** Why --name was refused: the same words in both CLIs (sdk/python/babysit/importer.py). */
function nameTooMany(runs: number): string {
  return `names one run, but the paths hold ${runs} runs (one per TensorBoard run directory or log file): nothing was imported; give one run's path, or leave --name out to name each by its path`;
}

function printSummary(s: ImportSummary, o: ImportCommandOptions, print: (line: string) => void): void {
  if (o.progress) for (const r of s.runs) print(`${r.name}: ${r.points} points, ${r.histograms} histograms, ${r.images} images -> ${r.url}`);
  if (s.runs.some((r) => r.alerts.length)) print("diagnoses (details on each run's page):");
  for (const r of s.runs) if (r.alerts.length) print(`  ${r.name}: ${r.alerts.join(", ")}`);
  print(
    `imported ${s.runs.length} run${s.runs.length === 1 ? "" : "s"} into project ${JSON.stringify(o.project)}: ${s.points} points, ${s.histograms} histograms, ${s.images} images, ${s.events} other events` +
      (s.unchanged ? ` (${s.unchanged} already there, not stored again)` : ""),
  );
  if (s.skipped.length) {
    print(`skipped ${s.skipped.length}:`);
    for (const k of s.skipped.slice(0, 50)) print(`  ${k.path}: ${k.reason}`);
    if (s.skipped.length > 50) print(`  ... and ${s.skipped.length - 50} more`);
  }
  if (s.failed.length) {
    print(`failed ${s.failed.length}:`);
    for (const k of s.failed) print(`  ${k.path}: ${k.reason}`);
  }
  if (s.keyRefused) print("the server refused the API key or needs one: pass --api-key or set BABYSIT_API_KEY");
}
