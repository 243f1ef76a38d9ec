"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { type DroppedFile, type UploadProgress, filesOfDrop, filesOfInput, formatBytes, planDropped, uploadRuns } from "@/lib/ui/import-upload";
import "./import-logs.css";

// Import existing logs from the runs list: files or a whole folder dropped anywhere on the list, or
// chosen with the pickers, become runs as `babysit import` makes them (one per TensorBoard run
// directory or log file), with progress per file and overall and a summary at the end. The server
// decides who may (team mode: who may create runs); a shared link never shows the runs list.

const isFileDrag = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");

export default function ImportLogs({ defaultProject }: { defaultProject: string }) {
  const [open, setOpen] = useState(false);
  const [project, setProject] = useState(defaultProject || "default");
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState<"" | "reading" | "sending">("");
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [problem, setProblem] = useState("");
  const anchor = useRef<HTMLDivElement>(null);
  const busyRef = useRef(false);
  const projectRef = useRef(project);
  projectRef.current = project;

  useEffect(() => {
    if (!busyRef.current) setProject(defaultProject || "default");
  }, [defaultProject]);

  const start = async (files: DroppedFile[] | Promise<DroppedFile[]>) => {
    if (busyRef.current) return;
    busyRef.current = true;
    setOpen(true);
    setProblem("");
    setProgress(null);
    setBusy("reading");
    try {
      const runs = await planDropped(await files);
      if (runs.length === 0) {
        setProblem("nothing to import here: no TensorBoard event files and no .csv, .tsv, .jsonl, .ndjson, .log or .txt files");
        return;
      }
      setBusy("sending");
      await uploadRuns(runs, projectRef.current.trim() || "default", setProgress);
    } catch (e) {
      setProblem(`the files could not be read: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      busyRef.current = false;
      setBusy("");
    }
  };
  const startRef = useRef(start);
  startRef.current = start;

  // the drop target is the whole runs list this button sits on
  useEffect(() => {
    const zone = anchor.current?.closest(".runs-page") as HTMLElement | null;
    if (!zone) return;
    let depth = 0;
    const over = (e: DragEvent) => {
      if (!isFileDrag(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = busyRef.current ? "none" : "copy";
    };
    const enter = (e: DragEvent) => {
      if (!isFileDrag(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (!isFileDrag(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      if (!isFileDrag(e) || !e.dataTransfer) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      void startRef.current(filesOfDrop(e.dataTransfer.items));
    };
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragenter", enter);
    zone.addEventListener("dragleave", leave);
    zone.addEventListener("drop", drop);
    return () => {
      zone.removeEventListener("dragover", over);
      zone.removeEventListener("dragenter", enter);
      zone.removeEventListener("dragleave", leave);
      zone.removeEventListener("drop", drop);
    };
  }, []);

  const picked = (e: React.ChangeEvent<HTMLInputElement>) => {
    const list = e.target.files;
    if (list?.length) void start(filesOfInput(list));
    e.target.value = "";
  };

  const p = progress;
  return (
    <div className="import-logs" ref={anchor}>
      <button type="button" className="button" onClick={() => setOpen((o) => !o)} aria-expanded={open} data-testid="import-open">
        Import logs…
      </button>
      {dragging && (
        <div className="import-drop-overlay" data-testid="import-drop-overlay">
          Drop TensorBoard folders, CSV, JSON (Lines) or text logs to import them into project <bdi>{project || "default"}</bdi>
        </div>
      )}
      {open && (
        <section className="import-panel" aria-label="import logs" data-testid="import-panel">
          <p className="muted">
            Drop files or a folder anywhere on the runs list, or choose them. Each TensorBoard run directory and each log file becomes a run, as{" "}
            <code>babysit import</code> makes them; importing the same files again adds only what is new.
          </p>
          <div className="import-pickers">
            <label>
              <span>project</span>
              <input value={project} onChange={(e) => setProject(e.target.value)} aria-label="import project" disabled={busy !== ""} />
            </label>
            <label className="button small">
              choose files
              <input type="file" multiple onChange={picked} disabled={busy !== ""} data-testid="import-files" hidden />
            </label>
            <label className="button small">
              choose a folder
              <input type="file" multiple {...{ webkitdirectory: "" }} onChange={picked} disabled={busy !== ""} data-testid="import-folder" hidden />
            </label>
            <button type="button" className="link-button" onClick={() => setOpen(false)} disabled={busy !== ""}>
              close
            </button>
          </div>
          {busy === "reading" && <p className="muted">reading the files…</p>}
          {problem && (
            <p className="warn" role="alert" data-testid="import-problem">
              {problem}
            </p>
          )}
          {p && <ImportProgress p={p} />}
        </section>
      )}
    </div>
  );
}

function ImportProgress({ p }: { p: UploadProgress }) {
  return (
    <div className="import-progress" data-testid="import-progress" data-finished={p.finished ? "true" : "false"}>
      <div className="import-overall">
        <progress value={p.bytesDone} max={Math.max(1, p.bytesTotal)} aria-label="bytes sent of all files" data-testid="import-bytes" />
        <span data-testid="import-counts">
          {p.filesDone} of {p.files.length} files · {formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)}
        </span>
      </div>
      <ul className="import-files">
        {p.files.map((f) => (
          <li key={f.path} data-file={f.path} data-state={f.status.state}>
            <bdi className="import-path">{f.path}</bdi>{" "}
            {f.status.state === "sending" ? (
              <progress value={f.status.sent} max={Math.max(1, f.size)} aria-label={`bytes sent of ${f.path}`} />
            ) : f.status.state === "done" ? (
              <span className="muted">
                {f.status.points} points{f.status.histograms ? `, ${f.status.histograms} histograms` : ""}
                {f.status.images ? `, ${f.status.images} images` : ""}
              </span>
            ) : f.status.state === "refused" ? (
              <span className="warn">refused: {f.status.reason}</span>
            ) : f.status.state === "skipped" ? (
              <span className="muted">skipped: {f.status.reason}</span>
            ) : (
              <span className="muted">{formatBytes(f.size)} waiting</span>
            )}
          </li>
        ))}
      </ul>
      {p.finished && (
        <div className="import-summary" data-testid="import-summary">
          <p>
            Imported {p.runs.length} run{p.runs.length === 1 ? "" : "s"}: {p.runs.reduce((n, r) => n + r.points, 0)} points,{" "}
            {p.runs.reduce((n, r) => n + r.histograms, 0)} histograms, {p.runs.reduce((n, r) => n + r.images, 0)} images
            {p.unchanged ? ` (${p.unchanged} already there, not stored again)` : ""}.
          </p>
          {p.runs.length > 0 && (
            <ul data-testid="import-runs">
              {p.runs.map((r) => (
                <li key={r.id} data-run={r.id}>
                  <Link href={r.url}>
                    <bdi>{r.name}</bdi>
                  </Link>{" "}
                  <span className="muted">
                    {r.points} points{r.histograms ? `, ${r.histograms} histograms` : ""}
                    {r.images ? `, ${r.images} images` : ""}
                  </span>
                  {r.alerts.length > 0 && <span className="warn"> · {r.alerts.join(", ")}</span>}
                </li>
              ))}
            </ul>
          )}
          {p.failed.length > 0 && (
            <div role="alert" data-testid="import-failed">
              <p className="warn">Not imported ({p.failed.length}): nothing of these files was stored.</p>
              <ul>
                {p.failed.map((k) => (
                  <li key={`${k.path}\u0000${k.reason}`}>
                    <bdi>{k.path}</bdi>: {k.reason}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {p.skipped.length > 0 && (
            <details data-testid="import-skipped">
              <summary>Skipped ({p.skipped.length})</summary>
              <ul>
                {p.skipped.slice(0, 200).map((k, i) => (
                  // the same path and reason can repeat (one per record)
                  // biome-ignore lint/suspicious/noArrayIndexKey: the list never reorders
                  <li key={i}>
                    <bdi>{k.path}</bdi>: {k.reason}
                  </li>
                ))}
              </ul>
              {p.skipped.length > 200 && <p className="muted">and {p.skipped.length - 200} more</p>}
            </details>
          )}
        </div>
      )}
    </div>
  );
}
