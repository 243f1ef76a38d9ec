"""`python -m babysit import PATH...`: send existing logs (TensorBoard directories, CSV, JSON Lines,
text logs) to a babysit server's import API, as the `babysit import` command of the server's package
does: the server parses the files; this module only groups them into runs and sends them.

Grouping (the CLI's lib/import/plan.ts; tests/lib/import/plan-paths.test.ts checks both agree):
- a directory is walked recursively (hidden entries and node_modules left out, symbolic links not
  followed); every directory holding TensorBoard event files (`*tfevents*`) is one run, named by its
  path relative to the directory given (the directory given is named by its parent and its own name);
- a small (at most importHparamsPeekBytes, 1 MiB) directory of event files recording hparams, under a run directory (what
  torch's `SummaryWriter.add_hparams` writes), belongs to that run;
- any other .csv, .tsv, .jsonl, .ndjson, .log or .txt file is a run of its own, named by its path, and
  so is a metrics.json or trainer_state.json (not one in a checkpoint-N directory);
- a file given by name is a run (an event file: its directory's run).
A run's source (its identity on the server) is the server's lib/import/run-source.ts rule: for a
TensorBoard run, ``tfevents:`` and the name of the first event file in its own directory; for a log
file, ``file:`` and its path from the directory given (that directory's name first), or its name when
given alone. So importing again, or dropping the same folder on the dashboard, resumes the same runs
and stores only what is new. Runs imported by earlier versions were named by absolute path: that is
sent too (``formerSource``), and the server keeps using such a run.
"""

from __future__ import annotations

import json
import re
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, List, Optional

from . import _contract
from ._http import API_KEY_ENV, USER_AGENT

LOG_EXTENSIONS = (".csv", ".tsv", ".jsonl", ".ndjson", ".log", ".txt")
# .json files a walk takes by name (lib/import/group-files.ts JSON_LOG_NAMES): detectron2's and Hugging
# Face's logs; a trainer_state.json in a checkpoint-N directory is that checkpoint's copy of the log
JSON_LOG_NAMES = ("metrics.json", "trainer_state.json")
_CHECKPOINT_DIR = re.compile(r"checkpoint-\d+")


def _is_log_file(name: str, directory: str) -> bool:
    low = name.lower()
    if low.endswith(LOG_EXTENSIONS):
        return True
    return low in JSON_LOG_NAMES and not _CHECKPOINT_DIR.fullmatch(os.path.basename(directory))


# from the wire contract (lib/contract/limits.ts, docs/contract.json), as the rest of the SDK's limits
HPARAMS_PEEK_BYTES = _contract.LIMITS["importHparamsPeekBytes"]
IMPORT_FILE_BYTES = _contract.LIMITS["importFileBytes"]  # a larger file is refused by the server

# how a run's source starts (lib/import/run-source.ts)
EVENTS_SOURCE_PREFIX = "tfevents:"
FILE_SOURCE_PREFIX = "file:"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_KEY_REFUSED = 3


def _is_event_file(name: str) -> bool:
    return "tfevents" in name


def _wire(s: str) -> str:
    """A path as text the API takes: bytes a file name holds that are not UTF-8 (which Python keeps
    as lone surrogates, and which made urlencode raise out of the whole import) become U+FFFD, as
    Node reads them for `babysit import`."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _run_name_of(p: str) -> str:
    """A run's name made from a path as the API takes names (lib/import/group-files.ts runNameOf):
    control characters shown as U+FFFD, a path longer than runNameMaxLength cut to its end after
    an ellipsis."""
    shown = "".join("\ufffd" if ord(c) <= 0x1F or ord(c) == 0x7F else c for c in _wire(p))
    limit = _contract.LIMITS["runNameMaxLength"]
    return "\u2026" + shown[len(shown) - limit + 1:] if len(shown) > limit else shown


def _own_name(d: str) -> str:
    parent = os.path.basename(os.path.dirname(d))
    return "%s/%s" % (parent, os.path.basename(d)) if parent else (os.path.basename(d) or d)


def _records_hparams(files: List[Dict[str, Any]]) -> bool:
    """The minimal form of the server's rule (the directory's events record hyperparameters): torch
    and TensorFlow write them under the tag `_hparams_/session_start_info`."""
    if sum(f["size"] for f in files) > HPARAMS_PEEK_BYTES:
        return False
    for f in files:
        try:
            with open(f["abs"], "rb") as fh:
                if b"session_start_info" in fh.read():
                    return True
        except OSError:
            pass
    return False


def plan_import(paths: List[str]) -> Dict[str, Any]:
    """Which runs `paths` hold and which files make each: {"runs": [{source, name, kind, files:
    [{abs, rel, size}]}], "skipped": [{path, reason}], "failed": [{path, reason}]}; "failed" holds the
    paths given that are not there (a typo: the import exits 1, as cp or tar would)."""
    runs: List[Dict[str, Any]] = []
    by_source: Dict[str, Dict[str, Any]] = {}
    skipped: List[Dict[str, str]] = []
    failed: List[Dict[str, str]] = []

    def add(run: Dict[str, Any]) -> None:
        had = by_source.get(run["source"])
        if had is not None:
            known = {f["abs"] for f in had["files"]}
            had["files"].extend(f for f in run["files"] if f["abs"] not in known)
            return
        by_source[run["source"]] = run
        runs.append(run)

    for given in paths:
        path = os.path.abspath(given)
        if os.path.isfile(path):
            name = os.path.basename(path)
            f = {"abs": path, "rel": name, "size": os.path.getsize(path)}
            if _is_event_file(name):
                d = os.path.dirname(path)
                add({"source": EVENTS_SOURCE_PREFIX + name, "formerSource": d, "name": _own_name(d),
                     "kind": "tensorboard", "files": [f]})
            else:
                add({"source": FILE_SOURCE_PREFIX + name, "formerSource": path, "name": name, "kind": "file", "files": [f]})
        elif os.path.isdir(path):
            _walk(path, add, skipped)
        elif os.path.lexists(path):
            failed.append({"path": given, "reason": "not a file or directory"})
        else:
            failed.append({"path": given, "reason": "no such file or directory"})
    for r in runs:
        r["files"].sort(key=lambda f: f["rel"])
        r["name"] = _run_name_of(r["name"])
    return {"runs": runs, "skipped": skipped, "failed": failed}


def _walk(root: str, add: Callable[[Dict[str, Any]], None], skipped: List[Dict[str, str]]) -> None:
    event_dirs: Dict[str, List[Dict[str, Any]]] = {}
    logs: List[Dict[str, Any]] = []
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError as err:
            skipped.append({"path": os.path.relpath(d, root), "reason": "cannot be read: %s" % err})
            continue
        for e in entries:
            if e.name.startswith(".") or e.name == "node_modules":
                continue
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            elif e.is_file(follow_symlinks=False):
                try:
                    size = e.stat(follow_symlinks=False).st_size
                except OSError:
                    continue  # removed since the directory was read (a directory being written), as the CLI has it
                f = {"abs": e.path, "rel": e.name, "size": size}
                if _is_event_file(e.name):
                    event_dirs.setdefault(d, []).append(f)
                elif _is_log_file(e.name, d if d != root else ""):
                    logs.append(f)

    def rel(p: str) -> str:
        return os.path.relpath(p, root).replace(os.sep, "/")

    merged = set()
    for d in sorted(event_dirs, key=len, reverse=True):  # deepest first: a sub-run finds its parent unmerged
        parent = d
        while parent != root and parent.startswith(root):
            parent = os.path.dirname(parent)
            if parent in event_dirs:
                break
        else:
            continue
        if parent not in event_dirs or parent == d or not _records_hparams(event_dirs[d]):
            continue
        prefix = os.path.relpath(d, parent).replace(os.sep, "/")
        event_dirs[parent].extend(dict(f, rel="%s/%s" % (prefix, f["rel"])) for f in event_dirs[d])
        merged.add(d)
    # Keras's TensorBoard callback writes <log_dir>/train and <log_dir>/validation: one run at <log_dir>
    # (lib/import/group-files.ts), each file's tags read under its directory's name by the server
    for d in sorted(event_dirs):
        parent = os.path.dirname(d)
        train = os.path.join(parent, "train")
        if (d == root or d in merged or os.path.basename(d) != "validation" or parent in event_dirs
                or train not in event_dirs or train in merged):
            continue
        event_dirs[parent] = ([dict(f, rel="train/%s" % f["rel"]) for f in event_dirs[train]]
                              + [dict(f, rel="validation/%s" % f["rel"]) for f in event_dirs[d]])
        merged.update((train, d))
    for d in sorted(event_dirs):
        if d in merged:
            continue
        name = rel(d) if d != root else _own_name(root)
        own = [f["rel"] for f in event_dirs[d] if "/" not in f["rel"]]
        if not own:  # a Keras run: its train/ files name it
            own = [f["rel"][6:] for f in event_dirs[d] if f["rel"].startswith("train/") and f["rel"].count("/") == 1]
        first = min(own)
        add({"source": EVENTS_SOURCE_PREFIX + first, "formerSource": d, "name": name, "kind": "tensorboard",
             "files": event_dirs[d]})
    root_name = os.path.basename(root) or root
    for f in sorted(logs, key=lambda f: f["abs"]):
        add({"source": "%s%s/%s" % (FILE_SOURCE_PREFIX, root_name, rel(f["abs"])), "formerSource": f["abs"],
             "name": rel(f["abs"]), "kind": "file", "files": [dict(f)]})


class ImportRequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _request(base: str, path: str, body: Optional[bytes], content_type: str, timeout: float) -> Dict[str, Any]:
    """POSTs `body` (a GET when it is None); the answer's JSON, or ImportRequestError."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key:
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(base + path, data=body, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            e = json.loads(raw.decode("utf-8"))["error"]
            code, message = str(e.get("code", "error")), str(e.get("message", ""))
        except Exception:
            code, message = "error", "HTTP %d" % err.code
        raise ImportRequestError(err.code, code, message) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ImportRequestError(0, "unreachable", "the server at %s did not answer: %s" % (base, reason)) from None


def import_paths(paths: List[str], url: str, project: str = "default", name: Optional[str] = None,
                 finish: bool = True, timeout: float = 120.0,
                 progress: Optional[Callable[[int, int, str], None]] = None) -> Dict[str, Any]:
    """Sends the runs `paths` hold to POST /api/v1/import file by file, then finishes each run (its
    diagnoses at finish run). Returns a summary: runs [{id, name, url, points, histograms, images,
    alerts}], points, histograms, images, events, unchanged, skipped, failed, key_refused.

    Example::

        from babysit.importer import import_paths
        s = import_paths(["runs/"], url="http://127.0.0.1:3000", project="old-runs")
    """
    base = url.rstrip("/")
    plan = plan_import(paths)
    s: Dict[str, Any] = {"runs": [], "points": 0, "histograms": 0, "images": 0, "events": 0, "unchanged": 0,
                         "skipped": list(plan["skipped"]), "failed": list(plan["failed"]), "key_refused": False}
    total = sum(f["size"] for r in plan["runs"] for f in r["files"])
    done = 0
    single = len(plan["runs"]) == 1
    if name and not single and plan["runs"]:
        # the user meant one run: importing each under another name than asked would only make work
        s["failed"].append({"path": "--name", "reason": "names one run, but the paths hold %d runs (one per TensorBoard "
                            "run directory or log file): nothing was imported; give one run's path, or leave --name "
                            "out to name each by its path" % len(plan["runs"])})
        return s
    for run in plan["runs"]:
        if s["key_refused"]:
            break
        run_name = name if (single and name) else run["name"]
        run_id = None
        run_url = ""
        counts = {"points": 0, "histograms": 0, "images": 0}
        last_time = None
        for f in run["files"]:
            shown = "%s/%s" % (run["name"], _wire(f["rel"])) if run["kind"] == "tensorboard" else run["name"]
            if progress:
                progress(done, total, run_name)
            if f["size"] > IMPORT_FILE_BYTES:
                s["skipped"].append({"path": shown, "reason": "larger than %d bytes (importFileBytes)" % IMPORT_FILE_BYTES})
                done += f["size"]
                continue
            q = urllib.parse.urlencode({"project": project, "source": _wire(run["source"]), "formerSource": _wire(run["formerSource"]),
                                        "path": _wire(f["rel"]), "name": run_name})
            try:
                with open(f["abs"], "rb") as fh:
                    body = fh.read()
                r = _request(base, "/api/v1/import?" + q, body, "application/octet-stream", timeout)
                run_id, run_url = r["runId"], r["url"]
                times = r.get("times")
                if times and (last_time is None or times["last"] > last_time):
                    last_time = times["last"]
                for k in counts:
                    counts[k] += r[k]
                s["events"] += r["events"]
                s["unchanged"] += r["unchanged"]
                for k in r["skipped"]:
                    s["skipped"].append({"path": "%s/%s" % (run["name"], k["path"]) if run["kind"] == "tensorboard" else run["name"],
                                         "reason": k["reason"]})
            except ImportRequestError as err:
                s["failed"].append({"path": shown, "reason": str(err)})
                if err.status == 401:
                    s["key_refused"] = True  # every other file would hear the same
                    break
            except OSError as err:
                s["failed"].append({"path": shown, "reason": "cannot be read: %s" % err})
            done += f["size"]
        if run_id is None or s["key_refused"]:
            continue
        alerts: List[str] = []
        if finish:
            try:
                # the log's last time, as `babysit import` sends it: the run spans the training, not the import
                body = {"status": "finished"}
                if last_time is not None:
                    body["finishedAt"] = last_time
                fin = _request(base, "/api/v1/runs/%s/finish" % urllib.parse.quote(run_id, safe=""),
                               json.dumps(body).encode(), "application/json", timeout)
                alerts = [a["code"] for a in fin.get("alerts", [])]
            except ImportRequestError as err:
                s["failed"].append({"path": run["name"], "reason": "finishing the run: %s" % err})
            # a long log raises most of its diagnoses live, while it is sent (the finish answer then
            # lists only the new ones): list every active one, as `babysit import` does
            try:
                got = _request(base, "/api/v1/runs/%s/alerts" % urllib.parse.quote(run_id, safe=""), None, "", timeout)
                active = [a["code"] for a in got.get("alerts", []) if a.get("status", "active") == "active"]
                alerts = list(dict.fromkeys(active + alerts))
            except (ImportRequestError, KeyError, TypeError, AttributeError):
                pass
        s["runs"].append(dict(id=run_id, name=run_name, url=base + run_url, alerts=alerts, **counts))
        for k in counts:
            s[k] += counts[k]
    if progress:
        progress(total, total, "")
    return s


def summary_lines(s: Dict[str, Any], project: str) -> List[str]:
    """The summary `python -m babysit import` prints, in the CLI's words."""
    lines = ["%s: %d points, %d histograms, %d images -> %s" % (r["name"], r["points"], r["histograms"], r["images"], r["url"])
             for r in s["runs"]]
    diagnosed = [r for r in s["runs"] if r["alerts"]]
    if diagnosed:
        lines.append("diagnoses (details on each run's page):")
    lines += ["  %s: %s" % (r["name"], ", ".join(r["alerts"])) for r in diagnosed]
    n = len(s["runs"])
    line = "imported %d run%s into project %s: %d points, %d histograms, %d images, %d other events" % (
        n, "" if n == 1 else "s", json.dumps(project), s["points"], s["histograms"], s["images"], s["events"])
    if s["unchanged"]:
        line += " (%d already there, not stored again)" % s["unchanged"]
    lines.append(line)
    if s["skipped"]:
        lines.append("skipped %d:" % len(s["skipped"]))
        lines += ["  %s: %s" % (k["path"], k["reason"]) for k in s["skipped"][:50]]
        if len(s["skipped"]) > 50:
            lines.append("  ... and %d more" % (len(s["skipped"]) - 50))
    if s["failed"]:
        lines.append("failed %d:" % len(s["failed"]))
        lines += ["  %s: %s" % (k["path"], k["reason"]) for k in s["failed"]]
    if s["key_refused"]:
        lines.append("the server refused the API key or needs one: set %s" % API_KEY_ENV)
    # a file's name quoted here goes to a terminal: its control characters (escape sequences) and
    # the lone surrogates of bytes that are not UTF-8 are shown as U+FFFD (as the Node CLI prints)
    return [_terminal_text(line) for line in lines]


def _terminal_text(line: str) -> str:
    return "".join("\ufffd" if ord(c) <= 0x1F or 0x7F <= ord(c) <= 0x9F else c for c in _wire(line))


def progress_line(stream: Any = None) -> Callable[[int, int, str], None]:
    """A one-line progress display (bytes sent of all, the run being sent), redrawn in place on a
    terminal and printed once per run elsewhere."""
    out = stream or sys.stderr
    tty = bool(getattr(out, "isatty", lambda: False)())
    last = {"run": None}

    def show(done: int, total: int, run: str) -> None:
        pct = 100 if total == 0 else int(done * 100 / total)
        text = "importing %3d%% | %d/%d bytes | %s" % (pct, done, total, run)
        if tty:
            out.write("\r\x1b[K" + text + ("\n" if done >= total and not run else ""))
            out.flush()
        elif run and run != last["run"]:
            out.write(text + "\n")
        last["run"] = run

    return show
