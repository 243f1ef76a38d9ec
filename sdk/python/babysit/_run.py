"""A run: what init() returns. Its logging methods only validate and enqueue; _transport sends."""

from __future__ import annotations

import math
import os
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any, Dict, List, Optional

from . import _contract as C
from . import _values as V
from ._config import config_to_json, data_to_json
from ._output import OnceWarner, checklist_line, say
from ._result import DeliveryResult, Rejections, summary_line
from ._spool import default_spool_dir
from ._transport import EVENT, HIST, IMAGE, ROW, STATS, Transport

DEFAULT_URL = "http://127.0.0.1:3000"
FINISH_TIMEOUT = 10.0
_STATUSES = ("finished", "crashed")


def _new_run_id() -> str:
    # Sortable by creation time and unique enough without a server: 2025...-a1b2c3d4.
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)


def _short(key: Any) -> str:
    """A key for a warning: a 10,000-character key must not fill the terminal."""
    text = repr(key)
    return text if len(text) <= 60 else text[:50] + "...' (%d code points)" % len(key) if isinstance(key, str) else text[:60]


class Run:
    """A training run being monitored. Create it with `babysit.init()`, not directly.

    Attributes:
        id: the run id (chosen by the client, so it exists even while the server is away).
        project, name, config: as given to init(); once the server has answered, `project` and
            `name` are the run's own (a run resumed by id stays in its project; an unnamed run gets a
            generated name such as ``brisk-otter-7``).
        url: the run's page on the server, e.g. ``http://127.0.0.1:3000/runs/<id>``.
        step: the step of the latest log() call (None before the first one).

    Example:
        >>> with babysit.init(project="digits", config={"lr": 1e-3}) as run:   # doctest: +SKIP
        ...     for step in range(100):
        ...         run.log({"train/loss": 1.0 / (step + 1)})
    """

    def __init__(
        self,
        project: str,
        name: Optional[str] = None,
        config: Any = None,
        url: Optional[str] = None,
        id: Optional[str] = None,
        spool_dir: Optional[str] = None,
        flush_interval: float = 0.2,
        batch_points: int = 1000,
        init_timeout: float = 3.0,
        quiet: Optional[bool] = None,
        offline: bool = False,
    ) -> None:
        # Trimmed exactly as the server trims them (JavaScript's trim(), not str.strip()).
        problem = C.name_problem(C.trim(project) if isinstance(project, str) else project, C.PROJECT_MAX_LENGTH, "project names")
        if problem is not None:
            raise ValueError("%s, got %s" % (problem, _short(project)))
        if name is not None and (not isinstance(name, str) or C.trim(name)):
            problem = C.name_problem(C.trim(name) if isinstance(name, str) else name, C.RUN_NAME_MAX_LENGTH, "run names")
            if problem is not None:
                raise ValueError("%s, got %s" % (problem, _short(name)))
        project = C.trim(project)
        name = C.trim(name) or None if name is not None else None
        if id is not None and (not isinstance(id, str) or not V.RUN_ID_RE.match(id)):
            raise ValueError("id must match [A-Za-z0-9_-]{1,64}, got %r" % (id,))
        base = (url or os.environ.get("BABYSIT_URL") or DEFAULT_URL).rstrip("/")
        if quiet is None:
            quiet = os.environ.get("BABYSIT_QUIET", "").lower() in ("1", "true", "yes")
        self._warner = OnceWarner()
        self.project = project
        self.name = name
        self.config = config_to_json(config, warn=lambda msg: self._warner.warn("config", msg, stacklevel=5))
        self.id = id or _new_run_id()
        self.base_url = base
        self.url = "%s/runs/%s" % (base, self.id)
        self._step: Optional[int] = None  # a V.Provisional while a resumed run's origin is unknown
        self.resumed = False
        self._quiet = quiet
        self._pid = os.getpid()
        self._finished = False
        self._result: Optional[DeliveryResult] = None
        self._finish_lock = threading.Lock()
        self._finish_done = threading.Event()  # set when the first finish() has its result
        self._rejections = Rejections()
        self._seen_alerts: set = set()
        # Keys this process sends to the run (metric keys with the epoch; histogram and image keys):
        # a new one beyond the contract's per-run limits is dropped here, counted, instead of being
        # sent for the server to refuse.
        self._ok_keys: set = set()
        self._hist_keys: set = set()
        self._image_keys: set = set()
        self._bad_keys: Dict[Any, str] = {}  # key -> its problem: a bad key logged every step is counted, not re-checked
        self._pending_points = 0
        self._watchers: List[Any] = []
        # Watchers open a probe at the start of a measuring iteration; the next log() call writes
        # its step into it, so the layer statistics land on the same step as the user's loss.
        self._open_probes: List[Any] = []
        self._stop_asker: Any = None  # made by the first should_stop()

        # startedAt: when init() ran; a run replayed from the spool later keeps it (docs/api.md)
        create_body: Dict[str, Any] = {"id": self.id, "project": project, "startedAt": round(time.time(), 3)}
        if name:
            create_body["name"] = name
        if self.config:
            create_body["config"] = self.config
        self._batch_points = max(1, int(batch_points))
        self._transport = Transport(
            base,
            self.id,
            create_body,
            spool_dir or default_spool_dir(),
            flush_interval=flush_interval,
            batch_points=self._batch_points,
            warner=self._warner,
            on_alert=self._print_alert,
            on_created=self._on_created,
            on_checklist=self._print_checklist,
            rejections=self._rejections,
            resuming=id is not None,  # a given id may name an existing run: count on from its last step
            offline=offline,
            spool_url=not offline or bool(url or os.environ.get("BABYSIT_URL")),
        )
        self.offline = offline
        self._queue = self._transport.queue
        self._wake = self._transport.wake
        self._transport.start()
        if offline:
            if not quiet:
                say("babysit: offline run %s (%s) kept in %s; send it later with `python -m babysit sync`"
                    % (self.id, project if not name else "%s / %s" % (project, name), self._transport.spool_dir))
            return
        self._transport.created_event.wait(max(0.0, init_timeout))

    # ------------------------------------------------------------------ callbacks (sender thread)

    def _on_created(self, payload: Dict[str, Any]) -> None:
        rid = payload.get("id")
        if isinstance(rid, str) and rid and rid != self.id:
            # The contract says the server keeps a client id; if one ever does not, follow the server.
            self.id = rid
            self._transport.run_id = rid
        rel = payload.get("url")
        if isinstance(rel, str) and rel:
            self.url = rel if rel.startswith("http") else self.base_url + "/" + rel.lstrip("/")
        self.resumed = bool(payload.get("resumed"))
        project = payload.get("project")
        if isinstance(project, str) and project and project != self.project:
            # A run stays in the project it was created in; say so rather than log into the wrong one.
            self._warner.say("project", "run %s belongs to project %r, not %r as given to init(); it stays in %r"
                             % (self.id, project, self.project, project))
            self.project = project
        name = payload.get("name")
        if isinstance(name, str) and name:
            self.name = name  # the server's name for an unnamed run, or the stored one of a resumed run
        if not self._quiet:
            label = ("%s / %s" % (self.project, self.name)) if self.name else self.project
            say("babysit: %s run %s -> %s" % ("resumed" if self.resumed else "logging", label, self.url))

    def _print_checklist(self, checklist: Dict[str, Any]) -> None:
        line = None if self._quiet else checklist_line(checklist, self.url)
        if line:
            say(line)

    def _print_alert(self, alert: Dict[str, Any]) -> None:
        code = str(alert.get("code") or "alert")
        if code in self._seen_alerts:
            return
        self._seen_alerts.add(code)
        severity = alert.get("severity") or "warning"
        title = str(alert.get("title") or "").strip()
        message = str(alert.get("message") or "").strip()
        text = ": ".join(x for x in (title, message) if x) or code
        where = self._alert_where(alert.get("step"))
        cause = alert.get("causedBy")
        if isinstance(cause, str) and cause:
            # a symptom: the server sends it after its root cause, so it lands indented under it
            say("babysit [%s]   \\_ %s%s (caused by %s): %s -> %s" % (severity, code, where, cause, text, self.url))
            return
        say("babysit [%s] %s%s: %s -> %s" % (severity, code, where, text, self.url))

    def _alert_where(self, evidence: Any) -> str:
        """" at step N": where the alert was raised, i.e. the run's latest step when it arrives (an
        alert's own `step` is where its evidence points, often 0 for a whole-run pattern, which read
        as "raised at step 0"); the evidence's step follows when it is earlier."""
        ev = evidence if isinstance(evidence, int) and not isinstance(evidence, bool) else None
        try:
            now = self.step
        except Exception:
            now = None
        now = now if type(now) is int else None  # not a step still counted from an unknown origin
        if now is None or (ev is not None and ev >= now):
            return "" if ev is None else " at step %d" % ev
        return " at step %d" % now + ("" if ev is None else " (evidence from step %d)" % ev)

    # ------------------------------------------------------------------ logging

    def _alive(self, what: str) -> bool:
        if self._finished:
            self._warner.warn("after-finish:" + what, "%s() called after finish(); ignored" % what, stacklevel=4)
            return False
        if os.getpid() != self._pid:
            self._warner.warn("fork", "%s() called in a forked child process (e.g. a DataLoader worker); "
                              "only the process that called init() sends data" % what, stacklevel=4)
            return False
        return True

    @property
    def step(self) -> Optional[int]:
        """The step of the latest log() call (None before the first one)."""
        s = self._step
        if type(s) is V.Provisional:
            origin = self._transport.step_origin
            if origin is not None:
                return origin + int(s)
        return s

    @step.setter
    def step(self, value: Optional[int]) -> None:
        self._step = value

    def _next_step(self) -> int:
        """The step log() takes without step=: the latest + 1, else where the run starts.

        A run resumed by id starts after the last step the server has stored. Until the server has
        said which (it is away, or slow to answer), steps are counted from an unknown origin
        (V.Provisional), spooled as such and resolved when it answers (in this process or in a
        later replay), so no earlier point of the run is overwritten; see _spool.py.
        """
        s = self._step
        if type(s) is int:  # the common case, first: log() calls this every step
            return s + 1
        origin = self._transport.step_origin
        if s is None:
            return V.Provisional(0) if origin is None else origin
        if type(s) is V.Provisional:
            return V.Provisional(s + 1) if origin is None else origin + int(s) + 1
        return s + 1

    def _drop(self, kind: str, reason: str, message: str, points: int = 1) -> None:
        """Counts points dropped before sending (finish() reports them) and warns once per kind."""
        self._rejections.add("dropped by the SDK: " + reason, points)
        self._warner.warn(kind, message, stacklevel=4)

    def _over_key_limit(self, key: str, what: str, limit: str) -> None:
        """Drops an item of a new key beyond a per-run key limit of the contract (counted, warned once)."""
        problem = "runs may have at most %d distinct %s keys (%s)" % (C.LIMITS[limit], what, limit)
        if what == "metric" and len(self._bad_keys) < 10_000:
            self._bad_keys[key] = problem  # counted, not re-checked, when logged again
        self._drop("key-limit:" + what, problem,
                   "dropped %s %s: this run already has %d distinct %s keys, the most a run may have (%s); further "
                   "new %s keys are dropped without a warning, finish() counts them"
                   % (what, _short(key), C.LIMITS[limit], what, limit, what))

    def log(self, metrics: Mapping, step: Optional[int] = None, epoch: Optional[float] = None,
            _walltime: Optional[float] = None) -> None:
        """Records metric values at one step. Returns at once; never raises.

        Args:
            metrics: maps keys (1..200 code points, no control characters, e.g. ``"train/loss"``) to
                numbers: Python floats, ints and bools, numpy scalars, or one-element torch tensors (a
                CUDA tensor is read back in the background, so logging it does not wait for the GPU).
                NaN and +-inf are kept. A bad key or a value that is not a number is dropped alone,
                with one warning per kind of problem, and counted in finish()'s result.
            step: integer step >= 0. Default: the previous step + 1 (0 for the first call of a new
                run; the step after its last stored one for a run resumed with init(id=...)).
            epoch: optional epoch (float), stored as the metric ``epoch``.

        Example:
            >>> run.log({"train/loss": loss, "lr": sched.get_last_lr()[0]}, step=it)   # doctest: +SKIP
        """
        try:
            if not self._alive("log"):
                return
            now = time.time() if _walltime is None else _walltime  # a checked walltime (babysit.tensorboard)
            if step is None:
                step = self._next_step()
            else:
                try:
                    step = V.coerce_step(step)
                except ValueError as err:
                    self._warner.warn("step", "%s; using step %d instead" % (err, self._next_step()))
                    step = self._next_step()
            self._step = step
            if self._open_probes:
                probes, self._open_probes = self._open_probes, []
                for probe in probes:
                    probe.step = step
                    probe.filled()
            if not isinstance(metrics, Mapping):
                self._drop("metrics-type", "log() called with something other than a dict",
                           "log() takes a dict of metrics, got %s; ignored" % type(metrics).__name__)
                return
            vals: Dict[str, Any] = {}
            ok_keys = self._ok_keys
            for k, v in metrics.items():
                if k not in ok_keys:
                    problem = self._bad_keys.get(k) if isinstance(k, str) else None
                    if problem is not None:
                        self._rejections.add("dropped by the SDK: " + problem, 1)
                        continue
                    problem = V.key_problem(k)
                    if problem is not None:
                        if isinstance(k, str) and len(self._bad_keys) < 10_000:
                            self._bad_keys[k] = problem
                        # Only this key goes: the server would refuse the whole batch for it.
                        self._drop("key:" + problem, problem,
                                   "dropped metric %s: %s (further keys with this problem are dropped without a "
                                   "warning; finish() counts them)" % (_short(k), problem))
                        continue
                    if len(ok_keys) >= C.KEYS_PER_RUN:
                        self._over_key_limit(k, "metric", "keysPerRun")
                        continue
                    ok_keys.add(k)
                if type(v) is float:
                    vals[k] = v
                    continue
                try:
                    vals[k] = V.coerce_value(v)
                except Exception as err:
                    tname = type(v).__name__
                    self._drop("value:" + tname, "metric values of type %s that are not one number" % tname,
                               "dropped metric %s: %s" % (_short(k), err))
            ep = None
            if epoch is not None:
                try:
                    ep = V.coerce_value(epoch)
                    if isinstance(ep, float) and not (math.isfinite(ep) and abs(ep) <= C.EPOCH_ABS_MAX):
                        raise ValueError("the epoch must be finite and within +-%g, got %r" % (C.EPOCH_ABS_MAX, ep))
                except Exception as err:
                    ep = None
                    self._drop("epoch", "epochs that are not finite numbers within +-%g" % C.EPOCH_ABS_MAX,
                               "dropped epoch: %s" % err)
                if ep is not None and "epoch" not in ok_keys:  # the server stores it as the metric "epoch"
                    if len(ok_keys) >= C.KEYS_PER_RUN:
                        self._over_key_limit("epoch", "metric", "keysPerRun")
                        ep = None
                    else:
                        ok_keys.add("epoch")
            if not vals and ep is None:
                return
            self._queue.append((ROW, step, now, ep, vals))
            self._pending_points += len(vals)
            if self._pending_points >= self._batch_points:
                self._pending_points = 0
                self._wake.set()
        except Exception as err:  # never into the training loop
            self._warner.warn("internal-log", "log() failed internally and dropped a call: %r" % (err,))
            try:
                self._rejections.add("dropped by the SDK: log() failed internally", max(1, len(metrics)))
            except Exception:
                self._rejections.add("dropped by the SDK: log() failed internally", 1)

    def log_histogram(self, key: str, values: Any, step: Optional[int] = None, bins: int = V.DEFAULT_BINS) -> None:
        """Records a histogram (e.g. of a layer's activations). Returns at once; never raises.

        Args:
            key: histogram key, e.g. ``"act/fc1"``.
            values: raw samples (torch tensor, numpy array or list; binned in the background into
                `bins` equal-width bins over their finite range) or a ready ``(edges, counts)`` pair with
                ``len(edges) == len(counts) + 1``.
            step: step it belongs to (default: the step of the latest log() call, or 0).
            bins: number of bins when binning raw values (default 30, at most 1000).

        Example:
            >>> run.log_histogram("weight/fc1", model.fc1.weight)              # doctest: +SKIP
            >>> run.log_histogram("custom", ([0.0, 0.5, 1.0], [3, 4]), step=10)  # doctest: +SKIP
        """
        try:
            if not self._alive("log_histogram"):
                return
            problem = V.key_problem(key)
            if problem is not None:
                self._drop("hkey:" + problem, "histograms: " + problem, "dropped histogram %s: %s" % (_short(key), problem))
                return
            if not self._admit_hist_key(key):
                return
            step = self._step_or_current(step, "log_histogram")
            if isinstance(values, tuple) and len(values) == 2 and not V.is_tensor(values):
                payload: Any = ("ready", V.check_histogram(values[0], values[1]))
            elif V.is_tensor(values):
                payload = values.detach().clone()
            elif hasattr(values, "copy") and hasattr(values, "dtype"):
                payload = values.copy()
            else:
                payload = list(values)
            self._queue.append((HIST, step, key, payload, int(bins)))
        except Exception as err:
            self._drop("hist:%s" % type(err).__name__, "histograms that could not be read (%s)" % type(err).__name__,
                       "dropped histogram %s: %s" % (_short(key), err))

    def event(self, type: str, data: Optional[Mapping] = None, step: Optional[int] = None) -> None:
        """Records an event: something that happened once rather than a series. Never raises.

        Args:
            type: 1..64 code points, no control characters. Known types: ``input_stats``,
                ``gradcheck``, ``image``; any other is stored as is (e.g. ``"lr_drop"``, ``"checkpoint"``).
            data: a dict, converted as `config` is (numpy/torch arrays become lists, NaN/inf "NaN"/
                "Infinity", dataclasses and objects dicts); what is nested deeper than 61 levels or makes
                it larger than a batch may be is cut with a ``"[babysit: ..."`` marker, with a warning.
            step: step it belongs to (default: the step of the latest log() call, if any).

        Example:
            >>> run.event("checkpoint", {"path": "ckpt/epoch3.pt"}, step=300)   # doctest: +SKIP
        """
        try:
            if not self._alive("event"):
                return
            problem = V.event_type_problem(type)
            if problem is not None:
                self._drop("etype:" + problem, problem, "dropped event %s: %s" % (_short(type), problem))
                return
            if data is None:
                data = {}
            if not isinstance(data, Mapping):
                self._drop("edata", "event data that is not a dict",
                           "dropped event %r: data must be a dict, got %s" % (type, data.__class__.__name__))
                return
            # Cut as the TypeScript SDK cuts it (markers, one warning), so the event is kept.
            clean = data_to_json(data, V.MAX_EVENT_DATA_DEPTH, C.BODY_BYTES,
                                 warn=lambda msg: self._warner.warn("edata:" + type, "event %s data: %s" % (_short(type), msg),
                                                                    stacklevel=5))
            if step is None:
                s = self.step
            else:
                s = self._step_or_current(step, "event")
            self._queue.append((EVENT, type, s, clean))
        except Exception as err:
            self._drop("event:%s" % err.__class__.__name__, "event data that is not JSON (%s)" % err,
                       "dropped event %s: %s" % (_short(type), err))

    def log_image(self, key: str, image: Any, step: Optional[int] = None) -> None:
        """Records an image, sent as a PNG (event ``image``). Returns at once; never raises.

        Args:
            key: image key, e.g. ``"filters/conv1"``.
            image: a 2-D (H, W) grey image, or 3-D (H, W, C) / (C, H, W) with C in {1, 3, 4}, as a
                numpy array, torch tensor or nested list. uint8 values are used as they are; other
                values are scaled from their [min, max] (or kept if already in [0, 1]) to 0..255.
                `babysit.filters_grid(weight)` turns first-layer weights into such an image.
            step: step it belongs to (default: the step of the latest log() call, or 0).

        Example:
            >>> run.log_image("filters/fc1", babysit.filters_grid(model.fc1.weight), step=it)  # doctest: +SKIP
        """
        try:
            if not self._alive("log_image"):
                return
            problem = V.key_problem(key)
            if problem is not None:
                self._drop("ikey:" + problem, "images: " + problem, "dropped image %s: %s" % (_short(key), problem))
                return
            if key not in self._image_keys:
                if len(self._image_keys) >= C.IMAGE_KEYS_PER_RUN:
                    self._over_key_limit(key, "image", "imageKeysPerRun")
                    return
                self._image_keys.add(key)
            step = self._step_or_current(step, "log_image")
            if V.is_tensor(image):
                snapshot = image.detach().clone()
            elif hasattr(image, "copy") and hasattr(image, "dtype"):
                snapshot = image.copy()
            else:
                snapshot = [list(r) if isinstance(r, (list, tuple)) else r for r in image]
            self._queue.append((IMAGE, key, step, snapshot))
        except Exception as err:
            self._drop("image:%s" % type(err).__name__, "images that could not be read (%s)" % type(err).__name__,
                       "dropped image %s: %s" % (_short(key), err))

    def update_config(self, config: Any) -> None:
        """Merges `config` (a dict, dataclass, Namespace... as init's) over the run's config. Never raises.

        The server merges it over the stored config (top-level keys replaced); an offline run's spool
        keeps it for `sync`.

        Example:
            >>> run.update_config({"batch_size": 64})   # doctest: +SKIP
        """
        try:
            if not self._alive("update_config"):
                return
            clean = config_to_json(config, warn=lambda msg: self._warner.warn("config", msg, stacklevel=5))
            if not clean:
                return
            merged = dict(self.config or {})
            merged.update(clean)
            self.config = merged
            self._transport.update_config(clean)
        except Exception as err:
            self._warner.warn("update_config", "update_config() dropped its input: %s" % (err,))

    def _update_run(self, tags: Any = None, notes: Any = None) -> None:
        """Sets the run's tags and/or notes (as the page's PATCH does); used by babysit.wandb. Bad tags are
        dropped and overlong notes cut, with one warning each, so the server takes the rest. Never raises."""
        try:
            fields: Dict[str, Any] = {}
            if tags is not None:
                clean: List[str] = []
                for t in tags:
                    t = C.trim(t) if isinstance(t, str) else t
                    problem = C.name_problem(t, C.LIMITS["tagMaxLength"], "tags")
                    if problem is not None:
                        self._warner.warn("tag:" + problem, "dropped tag %s: %s" % (_short(t), problem), stacklevel=5)
                    elif t not in clean:
                        clean.append(t)
                if len(clean) > C.LIMITS["tagsPerRun"]:
                    self._warner.warn("tags", "a run has at most %d tags (tagsPerRun); kept the first %d of %d"
                                      % (C.LIMITS["tagsPerRun"], C.LIMITS["tagsPerRun"], len(clean)), stacklevel=5)
                    clean = clean[:C.LIMITS["tagsPerRun"]]
                fields["tags"] = clean
            if notes is not None:
                text = "".join(c for c in str(notes).replace("\r\n", "\n") if c in "\t\n" or not C.has_forbidden_character(c))
                if not C.is_well_formed(text):
                    text = text.encode("utf-8", "replace").decode("utf-8")
                if len(text) > C.LIMITS["notesMaxLength"]:
                    self._warner.warn("notes", "notes are at most %d code points (notesMaxLength); cut" % C.LIMITS["notesMaxLength"],
                                      stacklevel=5)
                    text = text[:C.LIMITS["notesMaxLength"]]
                fields["notes"] = text
            if fields:
                self._transport.update_run(fields)
        except Exception as err:
            self._warner.warn("update_run", "tags/notes dropped: %r" % (err,))

    def _current_step(self) -> int:
        """The step of the latest log() call, else the one the first log() will take."""
        s = self.step
        if s is not None:
            return s
        return self._next_step()

    def _step_or_current(self, step: Any, what: str) -> int:
        if step is None:
            return self._current_step()
        try:
            return V.coerce_step(step)
        except ValueError as err:
            fallback = self._current_step()
            self._warner.warn("step:" + what, "%s: %s; using step %d" % (what, err, fallback), stacklevel=4)
            return fallback

    def _log_stats(self, step: int, keys: List[str], values: Any, hists: List[Any]) -> None:
        """Used by watch(): one row of layer statistics, still on the device until the sender reads it.
        Keys past the per-run limits are dropped as log()'s are (a None key: its value is left out)."""
        if self._finished or os.getpid() != self._pid:
            return
        if not self._ok_keys.issuperset(keys):
            keys = [k if self._admit_key(k) else None for k in keys]
        if hists and not self._hist_keys.issuperset(h[0] for h in hists):
            hists = [h for h in hists if self._admit_hist_key(h[0])]
        self._queue.append((STATS, step, time.time(), keys, values, hists))

    def _admit_key(self, key: str) -> bool:
        if key in self._ok_keys:
            return True
        problem = self._bad_keys.get(key)
        if problem is not None:
            self._rejections.add("dropped by the SDK: " + problem, 1)
            return False
        if len(self._ok_keys) >= C.KEYS_PER_RUN:
            self._over_key_limit(key, "metric", "keysPerRun")
            return False
        self._ok_keys.add(key)
        return True

    def _admit_hist_key(self, key: str) -> bool:
        if key in self._hist_keys:
            return True
        if len(self._hist_keys) >= C.HISTOGRAM_KEYS_PER_RUN:
            self._over_key_limit(key, "histogram", "histogramKeysPerRun")
            return False
        self._hist_keys.add(key)
        return True

    # ------------------------------------------------------------------ torch helpers

    def watch(self, model: Any, optimizer: Any = None, every: int = 10, hist_every: Optional[int] = None,
              log_lr: bool = True, name: Optional[str] = None, input_stats: bool = True):
        """Same as `babysit.watch`, for this run."""
        from ._watch import Watcher

        for w in list(self._watchers):
            if w.model is model:
                self.unwatch(model)
        w = Watcher(self, model, optimizer=optimizer, every=every, hist_every=hist_every, log_lr=log_lr, name=name,
                    input_stats=input_stats)
        self._watchers.append(w)
        return w

    def unwatch(self, model: Any = None) -> None:
        """Removes the hooks of watch() (of every watched model, or of `model` only)."""
        for w in list(self._watchers):
            if model is None or w.model is model:
                try:
                    w.unwatch()
                except Exception as err:
                    self._warner.say("unwatch", "unwatch failed: %r" % (err,))
                if w in self._watchers:
                    self._watchers.remove(w)

    # ------------------------------------------------------------------ sweeps

    def should_stop(self, wait: float = 0.5) -> bool:
        """Whether this trial of a sweep should stop early. Never raises.

        True when the server says the run diverged, or sits clearly below the sweep's other trials at
        the same step (the sweep's median-stopping rule, see `babysit.sweep(early_stop=)`); False for a
        run in no sweep, and while the server cannot be reached. Asks the server at most once a second
        (in the background; calls in between return the latest answer), so it is cheap to call every
        step. The answer reflects what the server has received: the latest log() may still be queued.

        Args:
            wait: seconds to wait for a fresh answer (default 0.5); 0 never waits.

        Returns:
            True or False; ``run.stop_reason`` holds the server's reason, a sentence starting ``"diverged: "`` or ``"below the median: "``.

        Example:
            >>> for epoch in range(3):               # doctest: +SKIP
            ...     train_one_epoch(); run.log({"val/acc": evaluate()})
            ...     if run.should_stop():
            ...         break
        """
        try:
            if self._finished:
                return False
            if self._stop_asker is None:
                from .sweeps import StopAsker

                self._stop_asker = StopAsker(self.base_url)
            self._wake.set()  # send what is queued now: the server answers from what it has
            w = float(wait) if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait > 0 else 0.0
            return bool(self._stop_asker.ask(self.id, min(w, 10.0)))
        except Exception:
            return False

    @property
    def stop_reason(self) -> Optional[str]:
        """The server's reason of the latest should_stop() answer (``"diverged: ..."``, ``"below the median: ..."``), or None."""
        asker = self._stop_asker
        return asker.reason if asker is not None else None

    # ------------------------------------------------------------------ finish

    def finish(self, status: str = "finished", timeout: float = FINISH_TIMEOUT) -> DeliveryResult:
        """Sends everything still queued, marks the run finished and closes the connection. Never
        hangs, never raises.

        Waits at most `timeout` seconds for the server; what it could not send stays in the spool file
        (``~/.babysit/spool/<run-id>.jsonl``) and is sent by the next babysit.init() or by
        ``python -m babysit sync``. Called for you at interpreter exit (status ``crashed`` after an
        uncaught exception) and when a ``with babysit.init(...)`` block ends. When points were
        rejected (dropped by the SDK, or refused by the server), prints one line saying how many
        and why; once the server finished the run, prints its checklist in one line
        (``babysit: checklist 7 passed, 1 raised (lr_too_high), 2 not checkable -> <url>``).

        Args:
            status: ``"finished"`` or ``"crashed"``.
            timeout: seconds to wait for the server (default 10).

        Returns:
            A `babysit.DeliveryResult`: ``delivered`` (also its truth value) is True only when the
            server acknowledged everything and nothing was rejected; ``pending_batches`` and
            ``spool_path`` say what waits in the spool; ``rejected_points`` and ``rejections``
            (``(reason, points)`` pairs) what will never be stored. A second call returns the same.

        Example:
            >>> result = run.finish()   # doctest: +SKIP
            >>> if not result:          # doctest: +SKIP
            ...     print(result.rejections)
        """
        with self._finish_lock:
            if self._finished:
                # a call while the first is still sending (atexit, another thread) waits for its result
                self._finish_done.wait(timeout)
                return self._result if self._result is not None else DeliveryResult(delivered=False)
            if os.getpid() != self._pid:
                return DeliveryResult(delivered=False)
            if status not in _STATUSES:
                self._warner.warn("status", "finish status must be 'finished' or 'crashed', got %r; using 'finished'" % (status,))
                status = "finished"
            try:
                self.unwatch()
            except Exception:
                pass
            self._finished = True
        ok = False
        if self._stop_asker is not None:
            self._stop_asker.close()
        try:
            ok = self._transport.finish(status, timeout)
        except Exception as err:
            self._warner.say("finish", "finish() failed internally: %r" % (err,))
        finally:
            from . import _state

            _state.forget(self)
        try:
            pending = self._transport.pending_batches
            rejections = self._rejections.items()
            rejected = sum(n for _, n in rejections)
            spool_path = self._transport.spool.path if pending else None
            self._result = DeliveryResult(delivered=ok and not pending and not rejected, pending_batches=pending,
                                          spool_path=spool_path, rejected_points=rejected, rejections=rejections)
            if rejected:
                say(summary_line(self.id, rejections))
            if self.offline and spool_path and not self._quiet:
                say("babysit: offline run %s kept in %s; send it with `python -m babysit sync`" % (self.id, spool_path))
        except Exception as err:
            self._warner.say("finish-result", "finish() failed internally: %r" % (err,))
            self._result = DeliveryResult(delivered=False)
        self._finish_done.set()
        return self._result

    @property
    def finished(self) -> bool:
        return self._finished

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.finish("crashed" if exc_type is not None else "finished")
        return False

    def __repr__(self) -> str:
        return "<babysit.Run %s project=%r name=%r url=%s>" % (self.id, self.project, self.name, self.url)
