"""The background sender: batching, idempotent delivery, retry with backoff, spooling and replay.

The training thread only appends tuples to `queue` (a deque: append is atomic, no lock). One daemon
thread per run turns them into batches every `flush_interval` seconds (or sooner when many points are
waiting), gives each batch a `seq` once, and POSTs it. A batch keeps its seq through every retry,
spool and replay, so the server stores it exactly once (docs/api.md: a repeated seq is acknowledged
as a duplicate and not stored twice).

While the server is away, batches go to the spool file instead of memory (see _spool.py); when it is
back they are replayed in order, then the file is deleted. A run resumed by id while the server is
away spools the steps it chose itself as tentative (relative to the resume point it does not know
yet) and resolves them once the server says the run's last step, in this process or in a replay.
Spools of earlier processes that died or finished while the server was away are replayed too.

State shared with the training thread's finish() is guarded by `_lock`; HTTP happens outside it, so
finish() can always take over and spool whatever is left when its deadline passes.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import _contract as C
from . import _values as V
from ._http import Client, KeyRefused, TransportError, error_text
from ._output import OnceWarner, say
from ._result import Rejections
from ._spool import LoadedSpool, SkippedSpool, Spool, body_steps, claim_foreign_spools, resolve_steps

# Queue item kinds (first tuple element).
ROW = 0  # (ROW, step, time, epoch|None, {key: float|int|LazyScalar})
HIST = 1  # (HIST, step, key, (edges, counts) | raw values, bins)
EVENT = 2  # (EVENT, type, step|None, data)
IMAGE = 3  # (IMAGE, key, step, array)
STATS = 4  # (STATS, step, time, [keys], 1-D tensor | [floats], [(key, edges_tensor, counts_tensor)])

# Half the server's limits: a smaller batch is retried sooner and splits less often.
MAX_ROWS_PER_BATCH = C.ROWS_PER_BATCH // 2
MAX_BATCH_BYTES = C.BODY_BYTES // 2
# Histograms and events together, so each stays within its own limit.
MAX_EXTRAS_PER_BATCH = min(C.HISTOGRAMS_PER_BATCH, C.EVENTS_PER_BATCH)
# Points kept in memory when the spool file cannot be written (a read-only or full disk); past this,
# newer batches are dropped and counted as lost.
MEMORY_POINTS_MAX = 1_000_000
REQUEST_TIMEOUT = 10.0
# finish() while the server is away waits this long to reach it, not its whole timeout.
FINISH_CONNECT_WAIT = 2.0
BACKOFF_START = 0.5
BACKOFF_MAX = 30.0
FOREIGN_RECORDS_PER_CYCLE = 50


# Where each queue item kind keeps its step.
_STEP_INDEX = {ROW: 1, HIST: 1, EVENT: 2, IMAGE: 2, STATS: 1}


def _stepped(item: Dict[str, Any], step: Any) -> Dict[str, Any]:
    """`item` with its step; the k-th step after a resume point not known yet is tentative,
    written as the TypeScript SDK writes it (see _spool.py): unresolvedAfter and step first."""
    if type(step) is V.Provisional:
        out: Dict[str, Any] = {"unresolvedAfter": -1, "step": int(step)}
        out.update(item)
        return out
    if step is not None:
        item["step"] = step
    return item


def _resolve_steps(item: tuple, origin: int) -> tuple:
    i = _STEP_INDEX[item[0]]
    step = item[i]
    if type(step) is not V.Provisional:
        return item
    return item[:i] + (origin + int(step),) + item[i + 1 :]


class _Batch:
    # body is None once the batch is in the spool file: a long outage must not fill memory.
    # relative: its body holds tentative steps (see _spool.py), resolved before it is sent.
    __slots__ = ("seq", "body", "points", "ref", "relative")

    def __init__(self, seq: int, body: Optional[bytes], points: int, relative: bool = False) -> None:
        self.seq = seq
        self.body = body
        self.points = points
        self.ref: Optional[Tuple[int, int]] = None
        self.relative = relative


class Transport:
    def __init__(
        self,
        base_url: str,
        run_id: str,
        create_body: Dict[str, Any],
        spool_dir: str,
        flush_interval: float = 0.2,
        batch_points: int = 1000,
        warner: Optional[OnceWarner] = None,
        on_alert: Optional[Callable[[Dict[str, Any]], None]] = None,
        on_created: Optional[Callable[[Dict[str, Any]], None]] = None,
        on_checklist: Optional[Callable[[Dict[str, Any]], None]] = None,
        replay_foreign: bool = True,
        rejections: Optional[Rejections] = None,
        resuming: bool = False,
        offline: bool = False,
        spool_url: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.run_id = run_id
        self.create_body = create_body
        self.client = Client(self.base_url)
        self.flush_interval = flush_interval
        self.batch_points = max(1, int(batch_points))
        self.warner = warner or OnceWarner()
        self.on_alert = on_alert
        self.on_created = on_created
        self.on_checklist = on_checklist
        # An offline run made without a server URL names none: `sync` sends it to whichever it is given.
        header = dict(create_body, url=self.base_url) if spool_url else dict(create_body)
        self.spool_dir = spool_dir
        self.spool = Spool(spool_dir, header)

        self.queue: Deque[tuple] = deque()
        self.wake = threading.Event()
        self.created_event = threading.Event()  # set after the first create attempt, success or not
        self.done = threading.Event()  # finish delivered or spooled
        self._lock = threading.RLock()
        self._outbox: Deque[_Batch] = deque()  # formed, not acknowledged, online
        self._spooled: Deque[_Batch] = deque()  # formed, not acknowledged, written to the spool
        self._offline = False
        self._created = False
        self._finish_status: Optional[str] = None
        self._finish_deadline = math.inf
        self._closed = False
        self._last_seq = 0
        self._backoff = BACKOFF_START
        self._next_try = 0.0
        self._failures = 0
        self._replay_foreign = replay_foreign
        self._foreign: Optional[List[LoadedSpool]] = None
        self.stats = {"batches": 0, "duplicates": 0, "spooled": 0, "dropped": 0, "foreign_rejected": 0}
        self.rejections = rejections if rejections is not None else Rejections()
        # Where steps counted without step= start: 0 for a new run; for a run resumed by id, the step
        # after its last stored one, known once the server answers the create (None until then).
        self.step_origin: Optional[int] = None if resuming else 0
        self._memory_points = 0  # points of spooled batches held in memory (the spool file failed)
        # BABYSIT_MODE=offline: everything goes to the spool file, for `sync`; no request is ever made.
        self.offline_mode = offline
        if offline:
            self._offline = True
            self._replay_foreign = False
        self._config_pending: Optional[Dict[str, Any]] = None  # config merged after the create, to send
        self._patch_pending: Optional[Dict[str, Any]] = None  # tags/notes to PATCH onto the run
        self._patch_all: Dict[str, Any] = {}
        self.thread = threading.Thread(target=self._main, name="babysit-sender-%s" % run_id, daemon=True)

    def start(self) -> None:
        self.thread.start()

    # ---------------------------------------------------------------- training-thread side

    def finish(self, status: str, timeout: float) -> bool:
        """Flushes everything and marks the run finished, within `timeout` seconds, then closes the
        connection.

        Returns True when the server has it all; False when what is left went to the spool file.
        """
        try:
            return self._finish(status, timeout)
        finally:
            self.client.shutdown()

    @property
    def pending_batches(self) -> int:
        with self._lock:
            return len(self._spooled) + len(self._outbox)

    def _finish(self, status: str, timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            if self._finish_status is None:
                self._finish_status = status
                self._finished_at = round(time.time(), 3)  # the run's end, also when the finish is replayed later
                # Already offline: one more try, then spool at once instead of making the user wait
                # for a server that is away. Only reaching it is hurried: a server that answers has
                # come back, and gets the whole timeout to take what was kept (see _answered).
                self._finish_one_try = self._offline
                self._finish_deadline = deadline
                self._finish_connect_deadline = min(deadline, time.monotonic() + FINISH_CONNECT_WAIT)
                self._next_try = 0.0
        self.wake.set()
        if self.done.wait(max(0.0, deadline - time.monotonic())):
            return not self._offline and not self._spooled
        # The sender is stuck in a request to a server that does not answer: take over, keep the data.
        self._give_up(from_deadline=True)
        return False

    # ---------------------------------------------------------------- sender thread

    def update_config(self, config: Dict[str, Any]) -> None:
        """Merges JSON-ready `config` into the run's config (training thread): into the create that
        has not happened yet, the spool (a replay creates the run with it) and, once the run exists,
        a resume request that the server merges over the stored config."""
        with self._lock:
            merged = dict(self.create_body.get("config") or {})
            merged.update(config)
            self.create_body["config"] = merged
            if self.spool.path is None:
                self.spool.header["config"] = merged
            else:
                self.spool.append_config(merged)
            if not self.offline_mode:
                pending = dict(self._config_pending or {})
                pending.update(config)
                self._config_pending = pending
        self.wake.set()

    def update_run(self, fields: Dict[str, Any]) -> None:
        """PATCH fields of the run (tags, notes; checked by the caller), sent once it exists, kept in the
        spool for a replay (training thread)."""
        with self._lock:
            self._patch_all = dict(self._patch_all, **fields)
            if self.spool.path is None:
                self.spool.header["patch"] = self._patch_all
            else:
                self.spool.append_patch(self._patch_all)
            if not self.offline_mode:
                self._patch_pending = dict(self._patch_pending or {}, **fields)
        self.wake.set()

    def _send_patch(self) -> bool:
        """Sends the pending tags/notes. False: retry later."""
        pending = self._patch_pending
        if pending is None:
            return True
        try:
            status, payload = self._post("/api/v1/runs/%s" % self.run_id, pending, method="PATCH")
        except TransportError:
            return False
        if status >= 500 or status in (408, 425, 429):
            return False
        with self._lock:
            if self._patch_pending is pending:
                self._patch_pending = None
        if status >= 400:
            self.warner.say("patch-refused", "the server refused the tags/notes of run %s (%s)"
                            % (self.run_id, error_text(status, payload)))
        return True

    def _send_config(self) -> bool:
        """Sends config merged since the create (a resume with the same id merges it). False: retry."""
        pending = self._config_pending
        if pending is None:
            return True
        res = self._create({"id": self.run_id, "project": self.create_body.get("project"), "config": pending})
        if res is None or res[0] >= 500 or res[0] in (408, 425, 429):
            return False
        with self._lock:
            if self._config_pending is pending:
                self._config_pending = None
        if res[0] >= 400:
            self.warner.say("config-refused", "the server refused the config update of run %s (%s)"
                            % (self.run_id, error_text(res[0], res[1])))
        return True

    def _main_offline(self) -> None:
        """The sender of an offline run: batches go to the spool file as they are formed; finish()
        adds the finish record. `python -m babysit sync` sends it all later."""
        self.created_event.set()
        while True:
            with self._lock:
                if self._closed:
                    return
                finishing = self._finish_status is not None
            if not finishing:
                self.wake.wait(self.flush_interval)
                self.wake.clear()
            try:
                with self._lock:
                    self._form_batches(force=finishing)
            except Exception as err:
                self.warner.say("internal", "internal error in the sender thread: %r" % (err,))
            if finishing:
                self._give_up()
                return

    def _main(self) -> None:
        if self.offline_mode:
            try:
                self._main_offline()
            finally:
                self.done.set()
            return
        try:
            try:
                if not self._ensure_created():  # at once, so init() can print the run's URL
                    with self._lock:
                        self._on_failure(False)
            except Exception:
                pass
            self.created_event.set()
            while True:
                with self._lock:
                    if self._closed:
                        return
                    finishing = self._finish_status is not None
                if not finishing:
                    self.wake.wait(self.flush_interval)
                    self.wake.clear()
                try:
                    self._cycle()
                except Exception as err:  # a bug here must not kill the thread silently
                    self.warner.say("internal", "internal error in the sender thread: %r" % (err,))
                    time.sleep(0.05)
                if self.done.is_set():
                    return
        finally:
            self.created_event.set()

    def _cycle(self) -> None:
        pause = 0.0
        with self._lock:
            if self._closed:
                return
            finishing = self._finish_status is not None
            self._form_batches(force=finishing)
            now = time.monotonic()
            if now < self._next_try:
                if finishing and now >= self._finish_deadline:
                    self._give_up()
                elif finishing:
                    pause = min(0.05, self._next_try - now)
        if pause or time.monotonic() < self._next_try:
            time.sleep(pause)  # outside the lock: finish() may need it to take over
            return
        ok = self._deliver()
        with self._lock:
            if self._closed:
                return
            if ok:
                if self._failures:
                    say("babysit: server %s is reachable again; sent what was kept meanwhile" % self.base_url)
                self._failures = 0
                self._backoff = BACKOFF_START
                if finishing and self._finish_delivered:
                    self._closed = True
                    self.spool.close()
                    self.close_foreign()
                    self.done.set()
                return
            self._on_failure(finishing)

    def _on_failure(self, finishing: bool) -> None:
        """Server unreachable: spool what is in memory, warn once, schedule the next try (lock held).

        `finishing`: finish() had been called when the failed try began."""
        self._failures += 1
        self._go_offline()
        if self._refused is not None and not finishing:
            self._say_refused()
        elif self._refused is None and self._create_refused is None and not self._warned_unreachable:
            self._warned_unreachable = True
            say("babysit: server %s is unreachable; keeping run %s's data in %s and retrying in the background"
                % (self.base_url, self.run_id, self._spool_where()))
        delay = self._backoff * (0.8 + 0.4 * random.random())
        self._backoff = min(self._backoff * 2, BACKOFF_MAX)
        if self._finish_status is not None and not finishing:
            # finish() came while this try was under way: its own try is next, now, not after the
            # backoff (which would outlast finish's deadline and spool what a server back up could take).
            self._next_try = 0.0
            return
        self._next_try = time.monotonic() + delay
        if finishing and (self._refused is not None or self._create_refused is not None):
            # nothing is taken until the key changes: waiting out finish's deadline cannot help
            self._give_up()
            return
        if finishing and (self._finish_one_try or time.monotonic() + min(delay, 0.2) >= self._finish_deadline):
            self._give_up()

    _finish_delivered = False
    _maybe_tentative = False
    _finish_one_try = False
    _finish_connect_deadline = math.inf
    _warned_unreachable = False
    _refused: Optional[KeyRefused] = None  # the last answer was a 401: why, and whether a key was sent
    _finished_at: Optional[float] = None
    _said_refusal: Optional[Tuple[str, bool]] = None
    _create_refused: Optional[str] = None  # the server's answer refusing the run (a 4xx), said once by _ensure_created

    def _post(self, path: str, body: Any, method: str = "POST") -> Tuple[int, Any]:
        """One request to the server, within finish's deadlines; raises TransportError."""
        with self._lock:
            connect = self._finish_connect_deadline - time.monotonic() if self._finish_one_try else None
        try:
            if method == "POST":
                answer = self.client.post(path, body, self._timeout(), connect)
            else:
                data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
                answer = self.client.request(method, path, data, self._timeout(), connect)
        except KeyRefused as err:
            self._refused = err  # it answered: the messages must not say "unreachable"
            raise
        except TransportError:
            self._refused = None
            raise
        self._refused = None
        self._answered()
        return answer

    def _spool_where(self) -> str:
        if self.spool.broken:
            return "memory (the spool directory is not writable)"
        return self.spool.path or os.path.join(self.spool_dir, "%s.jsonl" % self.run_id)

    def _say_refused(self) -> None:
        """The one line for a refused key (the server answered 401), once per reason: what is wrong,
        where the data is and what to do, never "unreachable". finish() adds nothing when it was said."""
        refused = self._refused
        if refused is None or (refused.why, refused.missing) == self._said_refusal:
            return
        self._said_refusal = (refused.why, refused.missing)
        say("babysit: keeping run %s's data in %s: %s" % (self.run_id, self._spool_where(), refused.problem(self.base_url)))

    def _answered(self) -> None:
        """The server answered: finish() no longer hurries (it is not away), see _finish."""
        if self._finish_one_try:
            with self._lock:
                self._finish_one_try = False

    def _give_up(self, from_deadline: bool = False) -> None:
        """Writes everything not yet acknowledged to the spool, plus the finish record, and stops."""
        with self._lock:
            if self._closed:
                return
            try:
                self._form_batches(force=True)
            except Exception:
                pass
            self._go_offline()
            if not self._finish_delivered:
                self.spool.append_finish(self._finish_status or "finished", self._finished_at)
            # What the spool file could not take was kept in memory, which ends with this process.
            lost = [b for b in self._spooled if b.body is not None]
            if lost:
                self._spooled = deque(b for b in self._spooled if b.body is None)
                self._memory_points = 0
                self.rejections.add("lost: the spool file could not be written", sum(b.points for b in lost))
            self._closed = True
            self.spool.close()
            self.close_foreign()
            self.done.set()
        pending = len(self._spooled)
        if self.offline_mode:
            pass  # never tried: Run.finish says where the data is
        elif self._refused is not None:
            with self._lock:
                self._say_refused()
        elif self._create_refused is not None:
            pass  # said when it was refused, with where the data is kept
        elif pending or not self._finish_delivered:
            if pending and self.spool.path:
                say(
                    "babysit: could not reach %s before finish's deadline; %d batch(es) kept in %s, "
                    "sent by the next babysit.init() or `python -m babysit sync`" % (self.base_url, pending, self.spool.path)
                )
        if lost:
            say("babysit: could not reach %s before finish's deadline and could not spool to disk; "
                "%d batch(es) lost" % (self.base_url, len(lost)))

    def _go_offline(self) -> None:
        """Moves unacknowledged in-memory batches to the spool, in order (lock held)."""
        if not self._offline:
            self._offline = True
        while self._outbox:
            self._to_spool(self._outbox.popleft())

    def _to_spool(self, b: _Batch) -> None:
        if b.body is not None:
            ref = self.spool.append_batch(b.seq, b.body)
            if ref is not None:
                b.ref, b.body = ref, None
            else:
                # Kept in memory instead, within a bound; what is beyond it, or still in memory when
                # the process ends, is counted as lost in finish()'s result.
                self._spool_write_failed(self.spool.path or self.spool_dir)
                if self._memory_points + b.points > MEMORY_POINTS_MAX:
                    self.rejections.add("lost: the spool file could not be written and memory was full", b.points)
                    self.stats["dropped"] += 1
                    return
                self._memory_points += b.points
        self._spooled.append(b)
        self.stats["spooled"] += 1

    # ---------------------------------------------------------------- batches

    def _next_seq(self) -> int:
        # Time-based so that a later process resuming the same run id never reuses an accepted seq.
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        return self._last_seq

    def _form_batches(self, force: bool = False) -> None:
        """Drains the queue into batches (lock held).

        Steps counted from a resumed run's origin are resolved when it is known; until then they go
        into the batch as tentative steps (see _spool.py), resolved before the batch is sent.
        """
        origin = self.step_origin
        self._maybe_tentative = origin is None  # else every step is resolved: no batch to look into
        while self.queue:
            items = []
            points = extras = 0
            while self.queue and points < self.batch_points * 5 and len(items) < MAX_ROWS_PER_BATCH:
                item = self.queue[0]
                if origin is not None:
                    item = _resolve_steps(item, origin)
                kind = item[0]
                n = len(item[5]) if kind == STATS else 0 if kind == ROW else 1  # histograms and events
                if items and extras + n > MAX_EXTRAS_PER_BATCH:
                    break
                self.queue.popleft()
                items.append(item)
                extras += n
                points += len(item[4]) if kind == ROW else 1
            for body in self._build_bodies(items):
                self._add_batch(body)
            if not items:
                return

    def _add_batch(self, body: Dict[str, Any]) -> None:
        seq = self._next_seq()
        body["seq"] = seq
        relative = self._maybe_tentative and body_steps(body)[0]
        if relative and self.step_origin is not None:  # the server answered while the batch was formed
            resolve_steps(body, self.step_origin)
            relative = False
        try:
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError) as err:
            self._drop("encode", "a batch that could not be encoded as JSON", "dropped a batch that could not be encoded as JSON: %s" % err,
                       points=_body_points(body))
            return
        if len(data) > MAX_BATCH_BYTES:
            parts = _split_body(body)
            if parts is not None:
                for part in parts:
                    self._add_batch(part)
                return
        if len(data) > C.BODY_BYTES:  # one item alone over the contract's body limit: never storable
            self._drop("too-large", "an item over %d bytes" % C.BODY_BYTES,
                       "dropped an item of %d bytes: over the %d-byte body limit" % (len(data), C.BODY_BYTES),
                       points=_body_points(body))
            return
        b = _Batch(seq, data, _body_points(body), relative)
        if self._offline or relative:  # a relative batch cannot be sent before the server has answered
            self._go_offline()
            self._to_spool(b)
        else:
            self._outbox.append(b)

    def _drop(self, kind: str, reason: str, message: str, points: int = 1) -> None:
        """Counts points the SDK could not send (finish() reports them) and says so once per kind."""
        self.rejections.add("dropped by the SDK: " + reason, points)
        self.stats["dropped"] += 1
        self.warner.say(kind, message)

    def _build_bodies(self, items: List[tuple]) -> List[Dict[str, Any]]:
        # Read every device scalar of the batch back in as few transfers as possible.
        lazies: List[V.LazyScalar] = []
        for it in items:
            if it[0] == ROW:
                for v in it[4].values():
                    if type(v) is V.LazyScalar:
                        lazies.append(v)
                if type(it[3]) is V.LazyScalar:
                    lazies.append(it[3])
        resolved: Dict[int, float] = {}
        if lazies:
            for lazy, val in zip(lazies, V.resolve_lazy(lazies)):
                resolved[id(lazy)] = val

        def num(v: Any) -> Any:
            if type(v) is V.LazyScalar:
                v = resolved.get(id(v), math.nan)
            return V.encode_number(float(v))

        rows: List[Dict[str, Any]] = []
        hists: List[Dict[str, Any]] = []
        events: List[Dict[str, Any]] = []
        for it in items:
            kind = it[0]
            try:
                if kind == ROW:
                    _, step, t, epoch, metrics = it
                    m = {}
                    for k, v in metrics.items():
                        try:
                            m[k] = num(v)
                        except (OverflowError, TypeError, ValueError):
                            self._drop("value", "a metric value that is not a number",
                                       "dropped %r: value is not a finite-or-NaN number" % k)
                    row: Dict[str, Any] = _stepped({"metrics": m}, step)
                    if 0 <= t <= C.TIME_MAX:  # else the server stamps it (a clock far off)
                        row["time"] = round(t, 6)
                    if epoch is not None:
                        ep = num(epoch)
                        if isinstance(ep, str) or abs(ep) > C.EPOCH_ABS_MAX:  # the contract wants a finite epoch
                            self._drop("epoch", "an epoch that is not finite or beyond +-%g" % C.EPOCH_ABS_MAX,
                                       "dropped epoch %s: not finite or beyond +-%g" % (ep, C.EPOCH_ABS_MAX))
                        else:
                            row["epoch"] = ep
                    if m or "epoch" in row:
                        rows.append(row)
                elif kind == STATS:
                    _, step, t, keys, values, hist_items = it
                    if hasattr(values, "tolist"):
                        values = values.tolist()
                    # None: a statistic whose reduction failed, left out rather than sent as NaN; a None
                    # key: one past the run's key limit (Run._log_stats)
                    m = {k: V.encode_number(float(v)) for k, v in zip(keys, values) if v is not None and k is not None}
                    if m:
                        row = _stepped({"metrics": m}, step)
                        if 0 <= t <= C.TIME_MAX:
                            row["time"] = round(t, 6)
                        rows.append(row)
                    for key, edges, counts in hist_items:
                        e = edges.tolist() if hasattr(edges, "tolist") else edges
                        c = counts.tolist() if hasattr(counts, "tolist") else counts
                        if all(math.isfinite(x) for x in e):
                            hists.append(_stepped({"key": key, "edges": e, "counts": c}, step))
                elif kind == HIST:
                    _, step, key, payload, bins = it
                    if isinstance(payload, tuple) and len(payload) == 2 and payload[0] == "ready":
                        edges, counts = payload[1]
                    else:
                        h = V.histogram_of(payload, bins)
                        if h is None:
                            self._drop("hist-empty", "a histogram with no finite values",
                                       "histogram %r had no finite values; skipped" % key)
                            continue
                        edges, counts = h
                    hists.append(_stepped({"key": key, "edges": edges, "counts": counts}, step))
                elif kind == EVENT:
                    _, etype, step, data = it
                    events.append(_stepped({"type": etype, "data": data}, step))
                elif kind == IMAGE:
                    from .images import encode_image_event

                    _, key, step, array = it
                    events.append(_stepped({"type": "image", "data": encode_image_event(key, array)}, step))
            except Exception as err:
                what = {HIST: "a histogram", EVENT: "an event", IMAGE: "an image"}.get(kind, "a row")
                self._drop("item:%d:%s" % (kind, type(err).__name__), "%s that could not be encoded (%s)" % (what, err),
                           "dropped %s that could not be encoded: %r" % (what, err),
                           points=len(it[4]) if kind == ROW else len(it[3]) if kind == STATS else 1)
        bodies: List[Dict[str, Any]] = []
        if rows or hists or events:
            body: Dict[str, Any] = {"rows": rows}
            if hists:
                body["histograms"] = hists
            if events:
                body["events"] = events
            bodies.append(body)
        return bodies

    # ---------------------------------------------------------------- delivery (no lock held during I/O)

    def _timeout(self) -> float:
        with self._lock:
            left = self._finish_deadline - time.monotonic()
        return max(0.05, min(REQUEST_TIMEOUT, left if left < math.inf else REQUEST_TIMEOUT))

    def _create(self, body: Dict[str, Any]) -> Optional[Tuple[int, Any]]:
        try:
            return self._post("/api/v1/runs", body)
        except TransportError:
            return None

    def _ensure_created(self) -> bool:
        if self._created:
            return True
        res = self._create(self.create_body)
        self._create_refused = None
        if res is None or res[0] >= 500:
            self.created_event.set()
            return False
        status, payload = res
        if status in (200, 201) and isinstance(payload, dict):
            self._created = True
            if self.step_origin is None:
                self._learn_origin(_origin_of(payload))
            if self.on_created is not None:
                try:
                    self.on_created(payload)
                except Exception:
                    pass
            # After the origin and on_created: init() returns on this event and its first log() must
            # already count from the resumed run's last step.
            self.created_event.set()
            return True
        self.created_event.set()
        # The server refused the run itself; nothing can be stored until it accepts it. Keep the data
        # on disk and keep asking with backoff (a misconfigured server may get fixed). It answered:
        # no message may say "unreachable", and finish() does not wait for what cannot come.
        if status not in (408, 425, 429):
            self._create_refused = error_text(status, payload)
        self.warner.say("create-refused", "the server refused to create run %s (%s); its data is kept in %s and sent by "
                        "`python -m babysit sync` once the server accepts the run"
                        % (self.run_id, error_text(status, payload), self._spool_where()))
        return False

    def _learn_origin(self, origin: int) -> None:
        """The resumed run's origin is known: later steps count from it, and the relative steps
        already spooled are resolved with it, in this process or, once written, in any replay."""
        # Spools of earlier processes of this run hold steps the server has not seen yet: count
        # after those too, or replaying them later would overwrite this process's points.
        for sp in self._claim_foreign() if self._replay_foreign else ():
            if sp.run_id == self.run_id and sp.max_step is not None:
                origin = max(origin, sp.max_step + 1)
        with self._lock:
            self.step_origin = origin
            for b in self._spooled:
                if not b.relative:
                    continue
                # Resolved once, for good: written again with its seq, so a replay after this process
                # sends what it sent (the server's last step may have moved by then).
                data = b.body if b.body is not None else self.spool.read(b.ref) if b.ref is not None else None
                data = _resolved(data, origin) if data is not None else None
                if data is None:
                    continue  # unreadable: _send counts it as lost
                b.relative = False
                if b.body is not None:  # held in memory: the spool file failed
                    b.body = data
                    continue
                ref = self.spool.append_batch(b.seq, data)
                if ref is not None:
                    b.ref = ref
                else:
                    b.ref, b.body = None, data
                    self._memory_points += b.points

    def _send(self, run_id: str, batch: _Batch, create_body: Dict[str, Any], own: bool) -> Tuple[str, Optional[bytes]]:
        """POSTs one batch. Returns ("ok" | "drop" (rejected for good, counted, warned) | "retry" |
        "split" (413: too large for the server, send it in halves), the body sent)."""
        body = batch.body
        if body is None:
            with self._lock:
                body = self.spool.read(batch.ref) if batch.ref is not None else None
            if body is None:
                self.warner.say("spool-read", "could not read a batch back from %s; it is lost" % self.spool.path)
                self.rejections.add("lost: a spooled batch could not be read back", batch.points)
                self.stats["dropped"] += 1
                return "drop", None
        if batch.relative:
            body = _resolved(body, self.step_origin if own else None)
            if body is None:  # cannot happen: a relative batch is sent only once the origin is known
                return "retry", batch.body
        for attempt in (0, 1):
            try:
                status, payload = self._post("/api/v1/runs/%s/log" % run_id, body)
            except TransportError:
                return "retry", body
            if status == 200:
                if own:
                    self.stats["batches"] += 1
                    if isinstance(payload, dict):
                        if payload.get("duplicate"):
                            self.stats["duplicates"] += 1
                        self._handle_alerts(payload.get("alerts"))
                if isinstance(payload, dict) and isinstance(payload.get("refused"), dict):
                    self._count_refused(run_id, payload["refused"], own)
                return "ok", body
            if status == 404 and attempt == 0:
                # The run is unknown (created while we were offline, or the server lost it): create it.
                res = self._create(create_body)
                if res is None or res[0] >= 500:
                    return "retry", body
                if res[0] in (200, 201):
                    if own:
                        self._created = True
                    continue
                status, payload = res
            if status in (408, 425, 429) or status >= 500:
                return "retry", body
            if status == 403 and _error_code(payload) == "forbidden":
                # the key may not write this run's project: another key can, so the batch is kept
                # (never dropped), and like a 401 nothing is sent until the key changes
                self._refused = KeyRefused(error_text(status, payload), missing=False)
                return "retry", body
            if status == 413 and _split_bytes(body) is not None:
                return "split", body
            # A rejection: retrying the same body cannot help, and the server stored none of it.
            points = batch.points if own else _bytes_points(body)
            why = error_text(status, payload)
            if len(why) > 300:  # the server's message may quote a long key
                why = why[:300] + "..."
            if own:
                self.rejections.add("rejected by the server: " + why, points)
            else:
                self.stats["foreign_rejected"] += points
            self.warner.say(
                "rejected:%d" % status,
                "the server rejected a batch of run %s (%s); its %d point(s) are not stored" % (run_id, why, points),
            )
            self.stats["dropped"] += 1
            return "drop", body
        return "retry", body

    def _count_refused(self, run_id: str, refused: Dict[str, Any], own: bool) -> None:
        """The server stored the batch less what it refused (the per-run key limits): count that
        part as rejected. Never retried: the same keys would be refused again."""
        points = 0
        for field in ("points", "histograms", "events"):
            n = refused.get(field)
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                points += n
        if points <= 0:
            return
        why = "%s: %s" % (refused.get("code") or "refused", refused.get("message") or "")
        if len(why) > 300:
            why = why[:300] + "..."
        if own:
            self.rejections.add("rejected by the server: " + why, points)
        else:
            self.stats["foreign_rejected"] += points
        self.warner.say("refused:%s" % refused.get("code"),
                        "the server did not store part of a batch of run %s (%s); %d point(s) not stored"
                        % (run_id, why, points))

    def _put_back_halves(self, source: Deque[_Batch], body: Optional[bytes]) -> None:
        """A batch the server found too large goes back to the front of `source` as two batches with
        new seqs, spooled first when `source` is the spool (lock held; the caller acks the old seq)."""
        halves = _split_bytes(body) if body is not None else None
        if not halves:
            return
        batches = []
        for half in halves:
            seq = self._next_seq()
            half["seq"] = seq
            data = json.dumps(half, separators=(",", ":"), allow_nan=False).encode()
            b = _Batch(seq, data, _body_points(half))
            if source is self._spooled:
                ref = self.spool.append_batch(seq, data)
                if ref is not None:
                    b.ref, b.body = ref, None
                else:
                    self._memory_points += b.points
            batches.append(b)
        source.extendleft(reversed(batches))

    def _handle_alerts(self, alerts: Any) -> None:
        if not isinstance(alerts, list) or self.on_alert is None:
            return
        for a in alerts:
            if isinstance(a, dict):
                try:
                    self.on_alert(a)
                except Exception:
                    pass

    def _deliver(self) -> bool:
        if not self._ensure_created():
            return False
        if self._config_pending is not None and not self._send_config():
            return False
        if self._patch_pending is not None and not self._send_patch():
            return False
        # Spooled batches first (they are older), then the in-memory ones.
        for source in (self._spooled, self._outbox):
            while True:
                with self._lock:
                    if self._closed or not source:
                        break
                    batch = source[0]
                result, sent = self._send(self.run_id, batch, self.create_body, own=True)
                if result == "retry":
                    return False
                with self._lock:
                    if self._closed:
                        return True
                    if source and source[0] is batch:
                        source.popleft()
                        if source is self._spooled and batch.body is not None:
                            self._memory_points -= batch.points
                        if result == "split":
                            self._put_back_halves(source, sent)
                        if source is self._spooled:
                            self.spool.append_ack(batch.seq)
            with self._lock:
                if source is self._spooled and not self._spooled and self._offline:
                    self._offline = False
                    self.spool.remove()
                    self.spool.broken = False
        if not self._replay_foreign_chunk():
            return False
        with self._lock:
            finishing = self._finish_status is not None
            empty = not self.queue and not self._outbox and not self._spooled
        if finishing and empty and not self._finish_delivered:
            try:
                status, payload = self._post("/api/v1/runs/%s/finish" % self.run_id, _finish_body(self._finish_status, self._finished_at))
            except TransportError:
                return False
            if status >= 500:
                return False
            if status >= 400:
                self.warner.say("finish", "the server refused to finish run %s (%s)" % (self.run_id, error_text(status, payload)))
            elif isinstance(payload, dict):
                self._handle_alerts(payload.get("alerts"))  # the last diagnosis, on the complete run
                checklist = payload.get("checklist")
                if isinstance(checklist, dict) and self.on_checklist is not None:
                    try:
                        self.on_checklist(checklist)
                    except Exception:
                        pass  # a summary line must never break finish()
            self._finish_delivered = True
        return True

    def _claim_foreign(self) -> List[LoadedSpool]:
        """The spools of earlier processes to replay, claimed (locked) on first use."""
        if self._foreign is None:
            skipped: List[SkippedSpool] = []
            self._foreign = claim_foreign_spools(self.spool_dir, self.base_url, exclude=self.spool.path, skipped=skipped)
            elsewhere = [s for s in skipped if s.reason == SkippedSpool.OTHER_SERVER]
            if elsewhere:
                # They stay for their own server; say so once rather than let them sit there unseen.
                say("babysit: %d spool file(s) in %s were made for another server and are not sent to %s; "
                    "`python -m babysit sync` lists them" % (len(elsewhere), self.spool_dir, self.base_url))
            if self._foreign:
                n = sum(len(s.pending) for s in self._foreign)
                say("babysit: replaying %d spooled batch(es) of %d earlier run(s)" % (n, len(self._foreign)))
        return self._foreign

    def _replay_foreign_chunk(self) -> bool:
        """Sends a few records of spools left by earlier processes. False when the server went away."""
        if not self._replay_foreign:
            return True
        self._claim_foreign()
        budget = FOREIGN_RECORDS_PER_CYCLE
        while self._foreign and budget > 0:
            sp = self._foreign[0]
            if sp.pending:
                seq, body = sp.pending[0]
                if seq in sp.relative:
                    if not self._resolve_foreign(sp):
                        return False
                    seq, body = sp.pending[0]
                result, sent = self._send(sp.run_id, _Batch(seq, body, 0), sp.create_body(), own=False)
                if result == "retry":
                    return False
                sp.pending.pop(0)
                if result == "split":
                    halves = []
                    written = True
                    for half in _split_bytes(sent) or []:
                        half["seq"] = self._next_seq()
                        data = json.dumps(half, separators=(",", ":"), allow_nan=False).encode()
                        written = sp.append_batch(half["seq"], data) and written  # on disk before the old seq is acked
                        halves.append((half["seq"], data))
                    sp.pending[0:0] = halves
                    if not written and halves:
                        # Kept in memory; the old batch stays pending on disk until its last half is
                        # stored, so a process that dies meanwhile leaves it for the next replay.
                        self._spool_write_failed(sp.path)
                        sp.ack_after[halves[-1][0]] = seq
                        budget -= 1
                        continue
                sp.ack(seq)
                budget -= 1
                continue
            if sp.patch is not None:
                try:
                    status, payload = self._post("/api/v1/runs/%s" % sp.run_id, sp.patch, method="PATCH")
                except TransportError:
                    return False
                if status == 404 and not sp.create_tried:  # a run with no batch: not created yet
                    sp.create_tried = True
                    res = self._create(sp.create_body())
                    if res is None or res[0] >= 500:
                        return False
                    continue
                if status in (408, 425, 429) or status >= 500:
                    return False
                if status >= 400:
                    self.warner.say("patch-refused:" + sp.run_id, "the server refused the tags/notes of run %s (%s)"
                                    % (sp.run_id, error_text(status, payload)))
                sp.patch = None
            if sp.finish is not None:
                try:
                    status, _ = self._post("/api/v1/runs/%s/finish" % sp.run_id, _finish_body(sp.finish, sp.finished_at))
                except TransportError:
                    return False
                if status == 404 and not sp.create_tried:
                    sp.create_tried = True
                    res = self._create(sp.create_body())
                    if res is None or res[0] >= 500:
                        return False
                    continue
                if status in (408, 425, 429) or status >= 500:
                    return False
                sp.finish = None
            sp.remove()
            self._foreign.pop(0)
        return True

    def _resolve_foreign(self, sp: LoadedSpool) -> bool:
        """Resolves the tentative steps of every pending batch of `sp` and writes them again with
        their seqs (see _spool.py). False when the server did not answer."""
        origin = self._foreign_origin(sp)
        if origin is None:
            return False
        written = True
        for i, (seq, body) in enumerate(sp.pending):
            if seq in sp.relative:
                data = _resolved(body, origin)
                if data is not None:
                    sp.pending[i] = (seq, data)
                    written = sp.append_batch(seq, data) and written
        sp.relative.clear()
        if not written:
            self._spool_write_failed(sp.path)
        return True

    def _foreign_origin(self, sp: LoadedSpool) -> Optional[int]:
        """Where a replayed spool's relative steps start: after the run's last step on the server and
        after every absolute step other spools of the run still hold. None when the server is away."""
        res = self._create(sp.create_body())
        if res is None or res[0] >= 500 or res[0] in (408, 425, 429):
            return None
        sp.create_tried = True
        origin = _origin_of(res[1]) if res[0] in (200, 201) else 0
        for other in self._foreign or ():
            if other is not sp and other.run_id == sp.run_id and other.max_step is not None:
                origin = max(origin, other.max_step + 1)
        return origin

    def _spool_write_failed(self, path: Optional[str]) -> None:
        self.warner.say("spool-write", "could not write to the spool file %s; what it could not hold is kept in "
                        "memory (finish() counts anything lost)" % path)

    def close_foreign(self) -> None:
        """Unlocks the spools of earlier runs not replayed yet: another process (or run) takes over."""
        foreign, self._foreign = self._foreign or [], []
        for sp in foreign:
            sp.release()


def _error_code(payload: Any) -> Optional[str]:
    err = payload.get("error") if isinstance(payload, dict) else None
    return err.get("code") if isinstance(err, dict) else None


def _finish_body(status: Optional[str], finished_at: Optional[float]) -> Dict[str, Any]:
    """The finish request: finishedAt is when finish() ran, so a replayed run keeps its real end
    (the server uses its own clock when it is not sane, docs/api.md)."""
    body: Dict[str, Any] = {"status": status or "finished"}
    if finished_at is not None:
        body["finishedAt"] = finished_at
    return body


def _origin_of(answer: Any) -> int:
    """Where a resumed run's automatic steps continue, from the server's answer to a create."""
    last = answer.get("lastStep") if isinstance(answer, dict) else None
    ok = isinstance(last, int) and not isinstance(last, bool) and 0 <= last < C.STEP_MAX
    return last + 1 if ok else 0


def _resolved(data: bytes, origin: Optional[int]) -> Optional[bytes]:
    """A spooled body with its tentative steps resolved for steps continuing at `origin` (the
    run's last step + 1); None when it is not known."""
    body = _decode_body(data)
    if origin is None or body is None:
        return None
    return json.dumps(resolve_steps(body, origin), separators=(",", ":"), allow_nan=False).encode()


def _body_points(body: Dict[str, Any]) -> int:
    """Points in a body as the server counts them: metric values and epochs, histograms, events."""
    rows = body.get("rows") or ()
    return (sum(len(r.get("metrics") or ()) + ("epoch" in r) for r in rows)
            + len(body.get("histograms") or ()) + len(body.get("events") or ()))


def _decode_body(data: bytes) -> Optional[Dict[str, Any]]:
    try:
        body = json.loads(data)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bytes_points(data: Optional[bytes]) -> int:
    body = _decode_body(data) if data is not None else None
    return _body_points(body) if body is not None else 0


def _split_bytes(data: Optional[bytes]) -> Optional[List[Dict[str, Any]]]:
    """The two halves of an encoded body (without their seq), or None when it holds one item."""
    body = _decode_body(data) if data is not None else None
    if body is None:
        return None
    body.pop("seq", None)
    return _split_body(body)


def _split_body(body: Dict[str, Any]) -> Optional[List[Dict[str, Any]]]:
    """Splits a body in two halves; None when it holds one metric value, histogram or event.

    A body of one wide row is split by its metrics (two rows of the same step, which the server
    stores as the one row), so a row of many keys is never too large to send.
    """
    items = [("rows", x) for x in body.get("rows") or ()]
    items += [("histograms", x) for x in body.get("histograms") or ()]
    items += [("events", x) for x in body.get("events") or ()]
    if len(items) == 1 and items[0][0] == "rows":
        row = items[0][1]
        keys = list(row.get("metrics") or ())
        if len(keys) < 2:
            return None
        half = len(keys) // 2
        first = dict(row, metrics={k: row["metrics"][k] for k in keys[:half]})
        second = {k: v for k, v in row.items() if k != "epoch"}
        second["metrics"] = {k: row["metrics"][k] for k in keys[half:]}
        return [{"rows": [first]}, {"rows": [second]}]
    if len(items) <= 1:
        return None
    parts = []
    for chunk in (items[: len(items) // 2], items[len(items) // 2 :]):
        part: Dict[str, Any] = {"rows": []}
        for field, x in chunk:
            part.setdefault(field, []).append(x)
        parts.append(part)
    return parts


def replay_spools(base_url: str, spool_dir: str, timeout: float = 60.0, any_url: bool = False) -> Dict[str, Any]:
    """Sends the spools that finished or dead processes left for `base_url` (for any server with
    `any_url`); see babysit.sync()."""
    t = Transport(base_url, "sync", {"id": "sync", "project": "sync"}, spool_dir)
    skipped: List[SkippedSpool] = []
    t._foreign = claim_foreign_spools(spool_dir, t.base_url, any_url=any_url, skipped=skipped)
    for sp in t._foreign:
        made_for = str(sp.header.get("url") or "").rstrip("/")
        if made_for and made_for != t.base_url:
            say("babysit: warning: sending run %s's spool (made for %s) to %s" % (sp.run_id, made_for, t.base_url))
    runs = len(t._foreign)
    total = sum(len(s.pending) for s in t._foreign)
    deadline = time.monotonic() + timeout
    refused: Optional[KeyRefused] = None
    try:
        while t._foreign and time.monotonic() < deadline:
            if not t._replay_foreign_chunk():
                refused = t._refused  # a 401: retrying cannot help until the key changes
                break
    finally:
        left = sum(len(s.pending) for s in t._foreign)
        left_runs = len(t._foreign)
        t.close_foreign()
        t.client.close()
    return {"runs": runs, "batches": total - left, "batches_left": left, "runs_left": left_runs,
            "rejected_points": t.stats["foreign_rejected"], "skipped": [s.as_dict() for s in skipped],
            "refused": None if refused is None else {"message": refused.problem(t.base_url), "missing": refused.missing}}
