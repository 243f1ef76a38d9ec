"""On-disk spool of batches the server has not acknowledged, so data outlives a server outage and the
process itself.

One append-only JSONL file per run, in the same line format as the TypeScript SDK's spool:
    {"kind":"run","id":"...","project":"...","name":"...","config":{...},"url":"http://..."}  first line
    {"kind":"batch","seq":17,"body":{"seq":17,"rows":[...],...}}                          a batch, as sent
    {"kind":"ack","seq":17}                                                                the server took it
    {"kind":"finish","status":"finished"}                                                  finish() gave up
    {"kind":"config","config":{...}}                 the whole config, merged after the header was written
    {"kind":"patch","body":{"tags":[...],"notes":"..."}}   PATCH /runs/<id> fields (tags, notes), the last one wins
The header itself may carry "patch" too (set before it was written); a replay sends it after the batches.
A batch is pending while no ack with its seq follows; a later batch line with the same seq replaces
an earlier one (a resumed run's tentative steps, resolved).

Items logged without step= to a run resumed by id before the server said where it stopped carry
their step as tentative, as the TypeScript SDK writes them: ``{"unresolvedAfter":F,"step":T,...}``
means "T, assuming the run stopped at F" (this SDK writes F = -1, T = k for the k-th such step).
Once the server says the run stopped at L (-1: nothing stored), the step is T + max(0, L - F), so
nothing stored earlier is overwritten; the resolved batch is then written again with its seq, so a
later replay sends what this process sent. A tentative item is never sent as it is.

A torn last line (the process died mid-write) is skipped on load. The file is deleted once nothing
in it is pending.

The process that writes a spool holds an exclusive flock on it, so another process replays only the
spools of processes that are gone (the OS drops the lock when a process dies, even on SIGKILL).
The TypeScript SDK cannot flock (Node has none): while it has a spool open, `<spool>.owner` beside it
holds {"pid", "host"}, and a spool whose owner is alive is left alone too.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, Dict, List, Optional, Tuple

from . import _contract

try:
    import fcntl
except ImportError:  # Windows: no flock; see _try_lock
    fcntl = None  # type: ignore[assignment]

# Without flock, a foreign spool is only taken over once nobody has written to it for this long.
_NO_LOCK_IDLE_SECONDS = 600.0


def default_spool_dir() -> str:
    """`$BABYSIT_SPOOL_DIR`, else `~/.babysit/spool`."""
    env = os.environ.get("BABYSIT_SPOOL_DIR")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    return os.path.join(os.path.expanduser("~"), ".babysit", "spool")


def _close(fd: Optional[int]) -> None:
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


def _unlink(path: Optional[str]) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass


def _try_lock(fd: int, path: str) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False
    try:
        return time.time() - os.path.getmtime(path) > _NO_LOCK_IDLE_SECONDS
    except OSError:
        return False


def _owner_alive(path: str) -> bool:
    """True when `<path>.owner` (written by the TypeScript SDK, see the module docstring) names a
    live process; one on another host counts as alive until the spool was idle for a while."""
    try:
        with open(path + ".owner", "rb") as f:
            owner = json.loads(f.read())
    except (OSError, ValueError):
        return False
    if not isinstance(owner, dict):
        return False
    if owner.get("host") != socket.gethostname():
        try:
            return time.time() - os.path.getmtime(path) < _NO_LOCK_IDLE_SECONDS
        except OSError:
            return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


class Spool:
    """The spool file a live run writes while the server is away (created lazily, kept locked)."""

    def __init__(self, directory: str, header: Dict[str, Any]) -> None:
        self.directory = directory
        self.header = header
        self.path: Optional[str] = None
        self._fd: Optional[int] = None
        self._size = 0
        self.broken = False

    def _open(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        base = os.path.join(self.directory, str(self.header["id"]))
        # A leftover spool of the same run id (an earlier process) is someone else's file to replay.
        for i, candidate in enumerate([base + ".jsonl"] + ["%s.%d-%d.jsonl" % (base, os.getpid(), n) for n in range(100)]):
            try:
                fd = os.open(candidate, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            except FileExistsError:
                continue
            _try_lock(fd, candidate)
            self._fd, self.path, self._size = fd, candidate, 0
            try:
                self._write(json.dumps(dict(self.header, kind="run"), separators=(",", ":"), allow_nan=False).encode() + b"\n")
            except OSError:
                # No file without its header: nothing could replay it, and it would only confuse sync.
                self._fd = self.path = None
                _close(fd)
                _unlink(candidate)
                raise
            return
        raise OSError("no free spool file name for run %s" % self.header["id"])

    def _write(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
            self._size += n

    def _append(self, line: bytes) -> bool:
        if self.broken:
            return False
        try:
            if self._fd is None:
                self._open()
            self._write(line)
            return True
        except OSError:
            self.broken = True
            return False

    def append_batch(self, seq: int, body: bytes) -> Optional[Tuple[int, int]]:
        """Appends a batch; returns where its body lies in the file (offset, length), None on failure."""
        prefix = b'{"kind":"batch","seq":%d,"body":' % seq
        if not self._append(b"") or self._fd is None:
            return None
        start = self._size + len(prefix)
        if not self._append(prefix + body + b"}\n"):
            return None
        return start, len(body)

    def read(self, ref: Tuple[int, int]) -> Optional[bytes]:
        """Reads back a body written by append_batch (the batch is not kept in memory meanwhile)."""
        if self._fd is None:
            return None
        offset, length = ref
        try:
            if hasattr(os, "pread"):
                return os.pread(self._fd, length, offset)
            with open(self.path, "rb") as f:  # type: ignore[arg-type]
                f.seek(offset)
                return f.read(length)
        except OSError:
            return None

    def append_ack(self, seq: int) -> bool:
        return self._append(b'{"kind":"ack","seq":%d}\n' % seq)

    def append_config(self, config: Dict[str, Any]) -> bool:
        """The run's whole config, merged since the header was written; the last one wins on replay."""
        return self._append(json.dumps({"kind": "config", "config": config}, separators=(",", ":"), allow_nan=False).encode() + b"\n")

    def append_patch(self, body: Dict[str, Any]) -> bool:
        """The run's tags/notes (PATCH fields), set after the header was written; the last one wins."""
        return self._append(json.dumps({"kind": "patch", "body": body}, separators=(",", ":")).encode() + b"\n")

    def append_finish(self, status: str, finished_at: Optional[float] = None) -> bool:
        rec: Dict[str, Any] = {"kind": "finish", "status": status}
        if finished_at is not None:
            rec["finishedAt"] = finished_at  # sync replays the run's real end
        return self._append(json.dumps(rec).encode() + b"\n")

    def remove(self) -> None:
        """Deletes the file: everything in it was acknowledged."""
        path, fd = self.path, self._fd
        self.path, self._fd = None, None
        _unlink(path)
        _close(fd)

    def close(self) -> None:
        """Closes the file, keeping it (and releasing the lock) for a later process to replay."""
        fd, self._fd = self._fd, None
        _close(fd)


class LoadedSpool:
    """A spool left by another process, opened and locked for replay."""

    def __init__(self, path: str, fd: int, parsed: "ParsedSpool"):
        self.path = path
        self._fd: Optional[int] = fd
        self.header = parsed.header
        self.pending = parsed.pending
        self.finish = parsed.finish
        self.finished_at = parsed.finished_at
        self.relative = parsed.relative  # seqs of pending batches holding tentative steps
        self.max_step = parsed.max_step  # largest absolute step of its pending batches, or None
        self.create_tried = False
        patch = parsed.header.get("patch")
        self.patch: Optional[Dict[str, Any]] = patch if isinstance(patch, dict) and patch else None
        # seq of a half kept in memory only (its write failed) -> the seq of the batch it is the last
        # half of, acked only once that half is stored
        self.ack_after: Dict[int, int] = {}

    @property
    def run_id(self) -> str:
        return str(self.header.get("id"))

    def create_body(self) -> Dict[str, Any]:
        body = {"id": self.run_id, "project": self.header.get("project") or "default"}
        if self.header.get("name"):
            body["name"] = self.header["name"]
        if isinstance(self.header.get("config"), dict):
            body["config"] = self.header["config"]
        if _is_time(self.header.get("startedAt")):
            body["startedAt"] = self.header["startedAt"]  # the run starts when it trained, not at sync
        return body

    def _write(self, line: bytes) -> bool:
        if self._fd is None:
            return False
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
            return True
        except OSError:
            return False

    def append_batch(self, seq: int, body: bytes) -> bool:
        """Adds a batch (half of one the server found too large) before the old one is acked.

        False when it could not be written: the caller then keeps it in memory (pending) and must
        not ack the old seq, so the file still holds the data should this process die."""
        return self._write(b'{"kind":"batch","seq":%d,"body":' % seq + body + b"}\n")

    def ack(self, seq: int) -> bool:
        ok = self._write(b'{"kind":"ack","seq":%d}\n' % seq)
        parent = self.ack_after.pop(seq, None)
        if parent is not None:
            ok = self.ack(parent) and ok
        return ok

    def remove(self) -> None:
        _unlink(self.path)
        _unlink(self.path + ".owner")  # a dead TypeScript writer's
        self.release()

    def release(self) -> None:
        fd, self._fd = self._fd, None
        _close(fd)


_STEPPED = ("rows", "histograms", "events")


class ParsedSpool:
    """What a spool file holds: its header, pending batches in file order as (seq, body JSON), the
    finish status or None, the seqs of the pending batches holding tentative steps, and the
    largest step they hold that is not tentative (or None)."""

    def __init__(self) -> None:
        self.header: Dict[str, Any] = {}
        self.pending: List[Tuple[int, bytes]] = []
        self.finish: Optional[str] = None
        self.finished_at: Optional[float] = None
        self.relative: set = set()
        self.max_step: Optional[int] = None


def body_steps(body: Dict[str, Any]) -> Tuple[bool, Optional[int]]:
    """(holds tentative steps, largest step that is not tentative or None) of a log body."""
    relative = False
    top: Optional[int] = None
    for field in _STEPPED:
        items = body.get(field)
        if not isinstance(items, list):
            continue
        for it in items:
            if not isinstance(it, dict):
                continue
            if "unresolvedAfter" in it:
                relative = True
                continue
            step = it.get("step")
            if isinstance(step, int) and not isinstance(step, bool) and (top is None or step > top):
                top = step
    return relative, top


def resolve_steps(body: Dict[str, Any], origin: int) -> Dict[str, Any]:
    """`body` with its tentative steps resolved for a run whose steps continue at `origin` (its
    last step + 1), in place; returned."""
    last = origin - 1
    for field in _STEPPED:
        items = body.get(field)
        if not isinstance(items, list):
            continue
        for it in items:
            if isinstance(it, dict) and "unresolvedAfter" in it:
                floor = it.pop("unresolvedAfter")
                step = it.get("step")
                if isinstance(floor, int) and isinstance(step, int):
                    it["step"] = max(0, step + max(0, last - floor))
    return body


def parse_spool(text: bytes) -> ParsedSpool:
    out = ParsedSpool()
    batches: Dict[int, bytes] = {}
    steps: Dict[int, Tuple[bool, Optional[int]]] = {}
    for line in text.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # torn write from a process that died mid-line
        if not isinstance(rec, dict):
            continue
        kind = rec.get("kind")
        if kind == "run" and not out.header:
            out.header = rec
        elif kind == "batch" and isinstance(rec.get("seq"), int) and isinstance(rec.get("body"), dict):
            body = dict(rec["body"], seq=rec["seq"])
            batches[rec["seq"]] = json.dumps(body, separators=(",", ":")).encode()
            steps[rec["seq"]] = body_steps(body)
        elif kind == "config" and out.header and isinstance(rec.get("config"), dict):
            out.header = dict(out.header, config=rec["config"])
        elif kind == "patch" and out.header and isinstance(rec.get("body"), dict):
            out.header = dict(out.header, patch=rec["body"])
        elif kind == "ack" and isinstance(rec.get("seq"), int):
            batches.pop(rec["seq"], None)
        elif kind == "finish" and isinstance(rec.get("status"), str):
            out.finish = rec["status"]
            out.finished_at = rec["finishedAt"] if _is_time(rec.get("finishedAt")) else None
    out.pending = list(batches.items())
    for seq, _ in out.pending:
        relative, top = steps[seq]
        if relative:
            out.relative.add(seq)
        if top is not None and (out.max_step is None or top > out.max_step):
            out.max_step = top
    return out


class SkippedSpool:
    """A spool that claim_foreign_spools() left alone, and why (sync reports these)."""

    OTHER_SERVER = "made for another server"
    IN_USE = "in use by a running process (it sends them itself)"
    UNREADABLE = "unreadable"

    def __init__(self, path: str, reason: str, run_id: Optional[str] = None, url: Optional[str] = None,
                 batches: int = 0) -> None:
        self.path = path
        self.reason = reason
        self.run_id = run_id
        self.url = url
        self.batches = batches

    def as_dict(self) -> Dict[str, Any]:
        return {"path": self.path, "run": self.run_id, "reason": self.reason, "url": self.url, "batches": self.batches}


def claim_foreign_spools(directory: str, base_url: str, exclude: Optional[str] = None, any_url: bool = False,
                         skipped: Optional[List[SkippedSpool]] = None) -> List[LoadedSpool]:
    """Locks and loads every spool in `directory` whose writer is gone and whose server is `base_url`
    (any server with `any_url`: its batches then go to `base_url`). Spools it leaves alone are
    appended to `skipped` with the reason, when given."""
    out: List[LoadedSpool] = []
    skip = skipped.append if skipped is not None else (lambda _s: None)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        if not name.endswith(".jsonl"):
            continue
        path = os.path.join(directory, name)
        if exclude is not None and os.path.abspath(path) == os.path.abspath(exclude):
            continue
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except OSError:
            skip(SkippedSpool(path, SkippedSpool.UNREADABLE))
            continue
        ok = False
        try:
            if os.fstat(fd).st_nlink == 0:
                continue  # someone replayed and deleted it meanwhile
            if not _try_lock(fd, path) or _owner_alive(path):
                skip(SkippedSpool(path, SkippedSpool.IN_USE))
                continue
            with open(path, "rb") as f:
                text = f.read()
            parsed = parse_spool(text)
            header, pending = parsed.header, parsed.pending
            url = header.get("url")
            if not header.get("id"):
                skip(SkippedSpool(path, SkippedSpool.UNREADABLE, batches=len(pending)))
                continue
            if url and url.rstrip("/") != base_url.rstrip("/") and not any_url:
                skip(SkippedSpool(path, SkippedSpool.OTHER_SERVER, str(header["id"]), str(url).rstrip("/"), len(pending)))
                continue
            out.append(LoadedSpool(path, fd, parsed))
            ok = True
        except OSError:
            skip(SkippedSpool(path, SkippedSpool.UNREADABLE))
            continue
        finally:
            if not ok:
                _close(fd)
    return out


def _is_time(t: Any) -> bool:
    # Unix seconds the server takes (a millisecond value would be refused with the whole create)
    return isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= _contract.TIME_MAX
