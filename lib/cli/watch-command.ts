import fs from "node:fs";
import { LIMITS } from "../contract/limits";
import { type ImportTarget, ImportRequestError, activeAlerts, finishImportedRun, sendImportFile } from "../import/client";
import { type PlannedRun, planImport } from "../import/plan";
import { isTransient } from "./run-client";
import { terminalText } from "./terminal-text";

// `babysit watch DIR`: follows a TensorBoard log directory while it is written. Every poll walks the
// directory with the import's own plan (lib/import/plan.ts: one run per run directory, hparams
// sub-runs merged), and sends each file's new bytes to POST /api/v1/import from where the previous
// answer's `end` said the whole records stopped (`offset`): a record still being written is sent
// again, whole, next time; nothing is read or sent twice, and the server's import stores no point
// twice anyway. CSV files are sent whole when they grow (their header names the columns).
// Runs are finished (so their diagnoses at finish run) when watching stops (Ctrl-C / SIGTERM), or,
// with --idle-timeout, once a run has not grown for that many seconds; a run that grows again after
// that is resumed. The server being away loses nothing: the files are the spool, and what was not
// sent is sent at the next poll that reaches the server.

export interface WatchOptions extends ImportTarget {
  project: string;
  /** Seconds between polls. */
  interval: number;
  /** Seconds a run may stay unchanged before it is finished; 0: only when watching stops. */
  idleTimeout: number;
  say?: (line: string) => void;
  /** Resolves when watching is to stop (tests); default: SIGINT or SIGTERM. */
  until?: Promise<void>;
}

interface Followed {
  runId: string | null;
  name: string;
  url: string;
  lastGrowth: number;
  finished: boolean;
  points: number;
  /** The latest time the files record (Unix seconds): the run's finish time, as `babysit import` sends it. */
  lastTime?: number;
}

export async function watchCommand(dir: string, o: WatchOptions): Promise<number> {
  const say = o.say ?? ((l: string) => process.stderr.write(`${terminalText(l)}\n`));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    say(`babysit: ${dir} is not a directory`);
    return 1;
  }
  const cursors = new Map<string, number>(); // file -> bytes sent and read whole
  const runs = new Map<string, Followed>(); // source -> run
  let down: string | null = null;
  let local: string | null = null;
  let refused = false;
  // A file the server refuses (damaged, too many points) or the disk will not give (removed or cut
  // short mid-read, unreadable) is that file's problem: it is said once and left until it changes,
  // and every other file and run is still followed. Only a refused key stops watching.
  const problems = new Map<string, { why: string; size: number }>();
  const unread = new Set<string>();
  const fileProblem = (e: unknown): boolean =>
    !isTransient(e) && !(e instanceof ImportRequestError && (e.status === 401 || e.status === 403)) && !(e instanceof TypeError);

  const sendRun = async (run: PlannedRun): Promise<void> => {
    let f = runs.get(run.source);
    if (!f) runs.set(run.source, (f = { runId: null, name: run.name, url: "", lastGrowth: Date.now(), finished: false, points: 0 }));
    for (const file of run.files) {
      const csv = file.abs.toLowerCase().endsWith(".csv") || file.abs.toLowerCase().endsWith(".tsv");
      let from = cursors.get(file.abs) ?? 0;
      let size: number;
      try {
        size = fs.statSync(file.abs).size;
      } catch {
        continue; // removed meanwhile
      }
      if (size < from) from = 0; // replaced by a shorter file: read it again (the server stores nothing twice)
      if (size === from) continue;
      if (problems.get(file.abs)?.size === size) continue; // refused as it is: wait for it to change
      if (csv && size > LIMITS.importFileBytes.value) {
        // was passed over at every look, unsaid: a CSV is sent whole (its header names the columns)
        const why = `larger than ${LIMITS.importFileBytes.value} bytes (importFileBytes), and a CSV file is sent whole: split it`;
        if (problems.get(file.abs)?.why !== why) say(`babysit: ${run.name}/${file.rel}: not imported (watching goes on): ${why}`);
        problems.set(file.abs, { why, size });
        continue;
      }
      const start = csv ? 0 : from;
      let r: Awaited<ReturnType<typeof sendImportFile>>;
      try {
        const length = Math.min(size - start, LIMITS.importFileBytes.value);
        const bytes = Buffer.alloc(length);
        const fd = fs.openSync(file.abs, "r");
        let read = 0;
        try {
          read = fs.readSync(fd, bytes, 0, length, start);
        } finally {
          fs.closeSync(fd);
        }
        // cut short since it was looked at: only what is there now is sent (zeros are not the file)
        r = await sendImportFile(
          o,
          { project: o.project, source: run.source, formerSource: run.formerSource, path: file.rel, name: run.name, offset: start || undefined },
          bytes.subarray(0, read),
        );
      } catch (e) {
        if (!fileProblem(e)) throw e;
        const why = e instanceof Error ? e.message : String(e);
        if (problems.get(file.abs)?.why !== why) say(`babysit: ${run.name}/${file.rel}: not imported (watching goes on): ${why}`);
        problems.set(file.abs, { why, size });
        continue;
      }
      problems.delete(file.abs);
      cursors.set(file.abs, csv ? size : r.end);
      f.runId = r.runId;
      f.url = `${o.url}${r.url}`;
      const added = r.points + r.histograms + r.images + r.events;
      if (added > 0 || !f.points) {
        if (!f.points || f.finished) say(`babysit: ${f.finished ? "resumed" : "following"} ${run.name} -> ${f.url}`);
        f.finished = false;
        f.lastGrowth = Date.now();
      }
      f.points += r.points;
      if (r.times && (f.lastTime === undefined || r.times.last > f.lastTime)) f.lastTime = r.times.last;
      for (const k of r.skipped) say(`babysit: ${run.name}/${k.path}: skipped ${k.reason}`);
    }
  };

  const finish = async (f: Followed) => {
    if (!f.runId || f.finished) return;
    const a = await finishImportedRun(o, f.runId, f.lastTime);
    f.finished = true;
    // a watched run raises most of its diagnoses live, while it grows: the finish answer lists only
    // the new ones, so list every active one (as babysit import does)
    const runId = f.runId;
    const codes = [...new Set([...(await activeAlerts(o, runId).catch(() => [] as string[])), ...a.alerts.map((x) => x.code)])];
    say(`babysit: finished ${f.name} (${f.points} points${codes.length ? `; ${codes.join(", ")}` : ""})`);
  };

  const poll = async () => {
    try {
      const plan = planImport([dir]);
      // what the walk could not read (a directory without permission, a name Node cannot address)
      // was left out unsaid at every look: said once each
      for (const k of plan.skipped) {
        const said = `${k.path}: ${k.reason}`;
        if (unread.has(said)) continue;
        unread.add(said);
        say(`babysit: ${said}`);
      }
      for (const run of plan.runs) await sendRun(run);
      if (o.idleTimeout > 0) {
        for (const f of runs.values()) if (!f.finished && f.runId && Date.now() - f.lastGrowth >= o.idleTimeout * 1000) await finish(f);
      }
      if (down) say(`babysit: ${o.url} answers again`);
      down = null;
      local = null;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      // fetch itself throws a TypeError when nothing answers at the address
      const away = isTransient(e) || (e instanceof TypeError && /fetch failed/.test(e.message));
      if (!away && !(e instanceof ImportRequestError)) {
        // the directory itself, not the server (a local problem): looked at again at the next poll
        if (local !== msg) say(`babysit: reading ${dir}: ${msg}`);
        local = msg;
        return;
      }
      if (!away) {
        refused = true;
        say(`babysit: the server refused: ${msg}`);
        return;
      }
      if (!down)
        say(
          `babysit: ${e instanceof TypeError ? `cannot reach ${o.url}` : msg}; the files are read again from where the server last took them at the next poll`,
        );
      down = msg;
    }
  };

  say(
    `babysit: watching ${dir} (every ${o.interval} s${o.idleTimeout ? `, a run idle for ${o.idleTimeout} s is finished` : ""}; Ctrl-C finishes the runs and stops)`,
  );
  let stop = false;
  const stopped =
    o.until ??
    new Promise<void>((resolve) => {
      for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => resolve());
    });
  void stopped.then(() => {
    stop = true;
  });
  while (!stop && !refused) {
    await poll();
    if (stop || refused) break;
    await Promise.race([new Promise((r) => setTimeout(r, o.interval * 1000)), stopped]);
  }
  if (refused) return 3;
  await poll(); // what was written until the stop
  let failed = false;
  for (const f of runs.values()) {
    try {
      await finish(f);
    } catch (e) {
      failed = true;
      say(`babysit: finishing ${f.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (problems.size) say(`babysit: ${problems.size} file(s) were not imported (said above)`);
  if (down || failed) {
    say(
      `babysit: not everything reached the server (${down ?? "a finish failed"}); run \`babysit import ${dir}\` later: it sends only what the server lacks`,
    );
    return 1;
  }
  return problems.size ? 1 : 0;
}
