"""A drop-in for the parts of ``wandb`` that training scripts use, streaming to babysit.

    # import wandb
    import babysit.wandb as wandb

    wandb.init(project="digits", config={"lr": 1e-3}, tags=["baseline"])
    wandb.config.batch_size = 64
    wandb.watch(model, log="all", log_freq=100)
    for step in range(1000):
        wandb.log({"train/loss": loss, "acc": {"train": a, "val": b}})   # keys "acc/train", "acc/val"
    wandb.run.summary["best_acc"] = best
    wandb.finish()

What is mapped: init (project, name, config, tags, notes, group, job_type, id, resume, mode, reinit),
config (attribute and dict access, update; before and after init), log (W&B's step rules: each
log() is a step unless commit=False; step= never goes back; nested dicts flattened with "/"; arrays
and tensors of more than one value, and wandb.Histogram, become histograms; wandb.Image an image),
summary, watch/unwatch (babysit's layer statistics and histograms), define_metric, alert, finish
(exit_code != 0: the run is "crashed"). Everything else (Artifact, Table, save, ...) is accepted and
does nothing, with one warning per name. Nothing here raises into the training loop: bad arguments
warn once and are dropped.

mode="offline" / "disabled" (or WANDB_MODE, or BABYSIT_MODE) mean what BABYSIT_MODE means: offline keeps
everything in the spool for ``python -m babysit sync``; disabled does nothing.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Mapping
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import _mode, _state
from ._output import OnceWarner, user_stacklevel

__all__ = ["init", "log", "finish", "watch", "unwatch", "define_metric", "alert", "config", "summary", "run",
           "Histogram", "Image", "AlertLevel", "Settings", "login"]

_warner = OnceWarner()
DEFAULT_PROJECT = "uncategorized"  # wandb's project for runs that name none


def _warn(key: str, message: str) -> None:
    _warner.warn(key, message, stacklevel=user_stacklevel())


# ---------------------------------------------------------------------------------------------- config


class Config:
    """wandb.config: attribute and item access, update(); before init it collects, after it sends."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_run", None)

    def _set(self, values: Dict[str, Any]) -> None:
        self._items.update(values)
        run = self._run
        if run is not None and values:
            run.update_config(values)

    def update(self, d: Any = None, allow_val_change: Any = None, **kwargs: Any) -> None:
        """Adds the entries of a dict, argparse.Namespace or object with attributes (and of kwargs)."""
        try:
            values = _as_dict(d) if d is not None else {}
            values.update(kwargs)
            self._set(values)
        except Exception as err:
            _warn("config.update", "wandb.config.update() dropped its input: %s" % (err,))

    def setdefaults(self, d: Any) -> None:
        """Adds the entries of `d` that are not set yet."""
        try:
            self._set({k: v for k, v in _as_dict(d).items() if k not in self._items})
        except Exception as err:
            _warn("config.setdefaults", "wandb.config.setdefaults() dropped its input: %s" % (err,))

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def as_dict(self) -> Dict[str, Any]:
        return dict(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            _warn("config.key", "wandb.config keys must be strings, got %r; dropped" % (key,))
            return
        self._set({key: value})

    def __delitem__(self, key: str) -> None:
        self._items.pop(key, None)

    def __getattr__(self, name: str) -> Any:
        items = object.__getattribute__(self, "_items")
        if name in items:
            return items[name]
        raise AttributeError("wandb.config has no key %r" % name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._set({name: value})

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


def _as_dict(d: Any) -> Dict[str, Any]:
    if isinstance(d, Mapping):
        return {str(k): v for k, v in d.items()}
    if isinstance(d, Config):
        return d.as_dict()
    if hasattr(d, "__dict__"):
        return {k: v for k, v in vars(d).items() if not k.startswith("_")}
    raise TypeError("expected a dict, argparse.Namespace or object with attributes, got %s" % type(d).__name__)


# ---------------------------------------------------------------------------------------------- summary


class Summary:
    """run.summary: the final value of each metric (the last one logged, or as define_metric says),
    and anything set on it. Sent as the event ``summary`` when the run finishes."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_explicit", set())

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[str(key)] = value
        self._explicit.add(str(key))

    def __delitem__(self, key: str) -> None:
        self._items.pop(key, None)

    def __getattr__(self, name: str) -> Any:
        items = object.__getattribute__(self, "_items")
        if name in items:
            return items[name]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __contains__(self, key: Any) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def update(self, d: Any = None, **kwargs: Any) -> None:
        try:
            for k, v in dict(_as_dict(d) if d is not None else {}, **kwargs).items():
                self[k] = v
        except Exception as err:
            _warn("summary.update", "summary.update() dropped its input: %s" % (err,))

    def _observe(self, key: str, value: float, how: str) -> None:
        if key in self._explicit:
            return  # set by the script: that is the final value
        old = self._items.get(key)
        if how in ("min", "max") and isinstance(old, float) and not math.isnan(old):
            value = min(old, value) if how == "min" else max(old, value)
        elif how == "mean":
            means = self.__dict__.setdefault("_means", {})
            n, total = means.get(key, (0, 0.0))
            means[key] = (n + 1, total + value)
            value = (total + value) / (n + 1)
        self._items[key] = value

    def __repr__(self) -> str:
        return repr(self._items)


# ---------------------------------------------------------------------------------------------- media


class Histogram:
    """wandb.Histogram(sequence, num_bins=64) or wandb.Histogram(np_histogram=(counts, edges))."""

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64) -> None:
        self.bins: Optional[List[float]] = None
        self.histogram: Optional[List[float]] = None
        self._values: Any = None
        self._num_bins = num_bins
        try:
            if np_histogram is not None:
                counts, edges = np_histogram
                self.histogram = [float(c) for c in counts]
                self.bins = [float(e) for e in edges]
            elif sequence is not None:
                self._values = sequence
            else:
                _warn("Histogram", "wandb.Histogram needs a sequence or np_histogram; it will be dropped")
        except Exception as err:
            _warn("Histogram:bad", "wandb.Histogram could not read its input (%s); it will be dropped" % (err,))

    def _send(self, run: Any, key: str, step: int) -> None:
        if self.bins is not None and self.histogram is not None:
            run.log_histogram(key, (self.bins, self.histogram), step=step)
        elif self._values is not None:
            bins = self._num_bins if isinstance(self._num_bins, int) and 0 < self._num_bins <= 1000 else 64
            run.log_histogram(key, self._values, step=step, bins=bins)


class Image:
    """wandb.Image(array, tensor, PIL image or file path; caption=...): sent as a PNG."""

    def __init__(self, data_or_path: Any = None, mode: Any = None, caption: Any = None, **kwargs: Any) -> None:
        self.caption = caption
        self._data: Any = None
        try:
            data = data_or_path
            if isinstance(data, (str, os.PathLike)):
                from PIL import Image as PILImage  # only for paths; arrays need no PIL

                data = PILImage.open(data).convert("RGB")
            if type(data).__module__.startswith("PIL."):
                import numpy as np

                data = np.asarray(data.convert("RGBA") if data.mode not in ("L", "RGB", "RGBA") else data)
            elif hasattr(data, "detach") and getattr(data, "ndim", 0) == 3 and data.shape[0] in (1, 3, 4):
                # wandb reads tensors as CHW and floats in [0, 1], as torchvision makes them
                data = data.detach().cpu().permute(1, 2, 0)
                if data.is_floating_point():
                    data = (data.clamp(0, 1) * 255).round().to(dtype=_uint8())
            self._data = data
        except Exception as err:
            _warn("Image:bad", "wandb.Image could not read its input (%s); it will be dropped" % (err,))

    def _send(self, run: Any, key: str, step: int) -> None:
        if self._data is not None:
            run.log_image(key, self._data, step=step)


def _uint8() -> Any:
    import torch

    return torch.uint8


class AlertLevel:
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class _NoOp:
    """What an unsupported part of wandb returns: callable, any attribute, a context manager; does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> "_NoOp":
        return self

    def __getattr__(self, name: str) -> "_NoOp":
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __enter__(self) -> "_NoOp":
        return self

    def __exit__(self, *args: Any) -> bool:
        return False

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __bool__(self) -> bool:
        return False


def _unsupported(name: str, module: str = "wandb") -> Any:
    def call(*args: Any, **kwargs: Any) -> _NoOp:
        _warn("unsupported:%s.%s" % (module, name), "%s.%s is not supported by babysit; ignored" % (module, name))
        return _NoOp()

    return call


class Settings(_NoOp):
    """wandb.Settings(...): accepted, ignored."""


def login(*args: Any, **kwargs: Any) -> bool:
    """Nothing to log in to (babysit uses BABYSIT_API_KEY): returns True."""
    return True


# ---------------------------------------------------------------------------------------------- run


class Run:
    """What wandb.init returns: log, summary, config, watch, define_metric, alert, finish..."""

    def __init__(self, babysit_run: Any, cfg: Config, tags: List[str], notes: Optional[str],
                 group: Optional[str], job_type: Optional[str]) -> None:
        self._run = babysit_run
        self.config = cfg
        self.summary = Summary()
        self.tags = tuple(tags)
        self.notes = notes
        self.group = group
        self.job_type = job_type
        self._step = 0  # W&B's step: the one the next log() writes to
        self._pending: Dict[str, Any] = {}  # what commit=False calls gathered for _step
        self._metrics: List[Tuple[str, Dict[str, Any]]] = []  # define_metric(name glob, options)
        self._finished = False

    # attributes scripts read
    @property
    def id(self) -> str:
        return self._run.id

    @property
    def name(self) -> Optional[str]:
        return self._run.name

    @property
    def project(self) -> str:
        return self._run.project

    @property
    def url(self) -> Optional[str]:
        return self._run.url

    def get_url(self) -> Optional[str]:
        return self._run.url

    @property
    def step(self) -> int:
        return self._step

    @property
    def dir(self) -> str:
        return os.getcwd()

    @property
    def entity(self) -> Optional[str]:
        return None

    @property
    def babysit_run(self) -> Any:
        """The underlying babysit run (for babysit's own functions)."""
        return self._run

    # logging
    def log(self, data: Any, step: Any = None, commit: Any = None, sync: Any = None) -> None:
        """W&B's rules: each call is a step unless commit=False (which adds to the current step);
        step=N > current commits what was gathered and moves to N; step=N < current is dropped."""
        try:
            if self._finished:
                _warn("log:finished", "wandb.log() called after finish(); ignored")
                return
            if not isinstance(data, Mapping):
                _warn("log:type", "wandb.log() takes a dict, got %s; ignored" % type(data).__name__)
                return
            if step is not None:
                if isinstance(step, bool) or not hasattr(step, "__index__") or step.__index__() < 0:
                    _warn("log:step", "wandb.log(step=) must be an integer >= 0, got %r; using the current step" % (step,))
                    step = None
                else:
                    step = step.__index__()
            if step is not None:
                if step < self._step:
                    _warn("log:step-back", "wandb.log(step=%d) is before the current step %d: steps only go forward, "
                          "so this data is dropped (as W&B drops it)" % (step, self._step))
                    return
                if step > self._step:
                    self._commit()
                    self._step = step
            _flatten(data, "", self._pending)
            if commit is None:
                commit = step is None
            if commit:
                self._commit()
        except Exception as err:
            _warn("log:internal", "wandb.log() dropped a call: %r" % (err,))

    def _summary_rule(self, key: str) -> str:
        for pattern, opts in reversed(self._metrics):
            if pattern == key or fnmatch.fnmatchcase(key, pattern):
                how = opts.get("summary")
                if isinstance(how, str) and how:
                    return how.split(",")[0].strip()
        return "last"

    def _commit(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        step = self._step
        self._step += 1
        scalars: Dict[str, Any] = {}
        for key, value in pending.items():
            try:
                kind, v = _classify(value)
                if kind == "scalar":
                    scalars[key] = v
                    try:
                        f = float(v)
                        self.summary._observe(key, f, self._summary_rule(key))
                    except Exception:
                        pass
                elif kind == "media":
                    v._send(self._run, key, step)
                elif kind == "histogram":
                    self._run.log_histogram(key, v, step=step, bins=64)
                elif kind == "skip":
                    _warn("log:unsupported:%s" % type(value).__name__,
                          "wandb.log(): %s values (key %r) are not supported by babysit; dropped" % (type(value).__name__, key))
                elif kind == "text":
                    self.summary._items[key] = v  # wandb shows strings in the summary; babysit charts numbers
            except Exception as err:
                _warn("log:value:%s" % type(value).__name__, "wandb.log(): dropped %r: %s" % (key, err))
        if scalars:
            self._run.log(scalars, step=step)

    def define_metric(self, name: str, step_metric: Any = None, step_sync: Any = None, hidden: Any = None,
                      summary: Any = None, goal: Any = None, overwrite: Any = None, **kwargs: Any) -> _NoOp:
        """Records how a metric is summed up (summary="min"/"max"/"mean"/"last"); also sent as the event
        ``define_metric``. babysit has one step axis: `step_metric` is recorded, not used as the x axis."""
        try:
            if not isinstance(name, str) or not name:
                _warn("define_metric:name", "define_metric() needs a metric name, got %r; ignored" % (name,))
                return _NoOp()
            opts = {"step_metric": step_metric, "summary": summary, "goal": goal, "hidden": hidden}
            opts = {k: v for k, v in opts.items() if v is not None}
            self._metrics.append((name, opts))
            self._run.event("define_metric", dict(opts, name=name), step=self._step)
        except Exception as err:
            _warn("define_metric", "define_metric() ignored: %r" % (err,))
        return _NoOp()

    def watch(self, models: Any, criterion: Any = None, log: Optional[str] = "gradients", log_freq: int = 1000,
              idx: Any = None, log_graph: bool = False) -> None:
        """babysit.watch on each model: layer statistics every 10 steps (what babysit diagnoses with)
        and, unless log=None, histograms of activations, gradients and weights every `log_freq` steps."""
        try:
            many = isinstance(models, (list, tuple))
            models = list(models) if many else [models]
            if log not in (None, "gradients", "parameters", "all"):
                _warn("watch:log", "watch(log=) must be 'gradients', 'parameters', 'all' or None, got %r; using 'gradients'" % (log,))
                log = "gradients"
            if not isinstance(log_freq, int) or isinstance(log_freq, bool) or log_freq < 1:
                _warn("watch:log_freq", "watch(log_freq=) must be a positive integer, got %r; using 1000" % (log_freq,))
                log_freq = 1000
            for i, model in enumerate(models):
                self._run.watch(model, every=10, hist_every=0 if log is None else log_freq,
                                name=("model%d" % i) if len(models) > 1 else None)
        except Exception as err:
            _warn("watch", "wandb.watch() could not watch the model (%s); training goes on without it" % (err,))

    def unwatch(self, models: Any = None) -> None:
        try:
            for m in (models if isinstance(models, (list, tuple)) else [models]):
                self._run.unwatch(m)
        except Exception as err:
            _warn("unwatch", "wandb.unwatch() failed: %r" % (err,))

    def alert(self, title: Any = None, text: Any = None, level: Any = None, wait_duration: Any = None) -> None:
        """Sent as the event ``alert`` with data ``{"title", "text", "level"}`` (shown on the run's page)."""
        try:
            lvl = getattr(level, "value", level) or AlertLevel.INFO
            self._run.event("alert", {"title": str(title or ""), "text": str(text or ""), "level": str(lvl)},
                            step=self._step)
        except Exception as err:
            _warn("alert", "wandb.alert() ignored: %r" % (err,))

    def finish(self, exit_code: Any = None, quiet: Any = None) -> None:
        """Sends what is gathered and the summary, and finishes the run (crashed when exit_code != 0)."""
        if self._finished:
            return
        self._finished = True
        try:
            self._commit()
            if len(self.summary):
                self._run.event("summary", dict(self.summary.items()), step=max(0, self._step - 1))
            crashed = exit_code not in (None, 0) or (exit_code is None and _state._crashed)
            self._run.finish("crashed" if crashed else "finished")
        except Exception as err:
            _warn("finish", "wandb.finish() failed: %r" % (err,))
        finally:
            _forget(self)

    # the rest of wandb's run API: accepted, ignored
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _unsupported("run." + name)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self.finish(exit_code=1 if exc_type is not None else 0)
        return False

    def __repr__(self) -> str:
        return "<babysit.wandb.Run %s name=%r project=%r>" % (self.id, self.name, self.project)


def _flatten(data: Mapping, prefix: str, out: Dict[str, Any]) -> None:
    for k, v in data.items():
        key = prefix + str(k)
        if isinstance(v, Mapping) and not isinstance(v, (Histogram, Image)):
            _flatten(v, key + "/", out)
        else:
            out[key] = v


def _classify(value: Any) -> Tuple[str, Any]:
    """("scalar" | "histogram" | "media" | "text" | "skip", what to send)."""
    if isinstance(value, (Histogram, Image)):
        return "media", value
    if isinstance(value, _NoOp):
        return "none", None  # an unsupported wandb object (Table...): warned when it was made
    if value is None:
        return "none", None
    if isinstance(value, (bool, int, float)):
        return "scalar", value
    if isinstance(value, str):
        return "text", value
    size = getattr(value, "numel", None)
    n = size() if callable(size) else getattr(value, "size", None)
    if isinstance(n, int) and hasattr(value, "shape"):
        # W&B's rule: a tensor or array of more than one value is a histogram
        return ("scalar", value) if n == 1 else ("histogram", value) if n > 1 else ("none", None)
    if isinstance(value, (list, tuple)) and value and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
        return "histogram", list(value)
    if hasattr(value, "item") and hasattr(value, "dtype"):
        return "scalar", value  # numpy scalar
    return "skip", None


# ---------------------------------------------------------------------------------------------- module API

run: Optional[Run] = None
config = Config()
summary = Summary()  # before init: writes are kept here and dropped (W&B's pre-init summary is read-only too)


def _forget(r: Run) -> None:
    global run
    if run is r:
        run = None


def init(project: Any = None, entity: Any = None, config: Any = None, name: Any = None, notes: Any = None,
         tags: Any = None, id: Any = None, resume: Any = None, mode: Any = None, dir: Any = None,
         reinit: Any = None, group: Any = None, job_type: Any = None, **kwargs: Any) -> Run:
    """Starts a run, as wandb.init does; returns it (also as ``wandb.run``). Never raises.

    Args:
        project: babysit project (default ``$WANDB_PROJECT``, ``$BABYSIT_PROJECT``, else "uncategorized").
        config: dict, argparse.Namespace or object; merged over what wandb.config held before init.
        name, notes, tags, group, job_type: the run's name; the others are sent as the event ``run_info``.
        id: a run id ([A-Za-z0-9_-]{1,64}); an existing run with this id is resumed.
        resume: accepted; resuming happens by `id` (without an id there is nothing to resume: one warning).
        mode: "online", "offline" or "disabled" (also "dryrun", "run"); default $BABYSIT_MODE, then $WANDB_MODE.
        reinit: when a run is active: False (default) returns it; True finishes it and starts a new one.
        entity, dir and everything else: accepted, ignored.
    """
    global run, summary
    import babysit

    if kwargs:
        for k in kwargs:
            if k not in ("settings", "save_code", "anonymous", "allow_val_change", "force", "magic", "monitor_gym",
                         "sync_tensorboard", "config_exclude_keys", "config_include_keys", "fork_from", "resume_from"):
                _warn("init:%s" % k, "wandb.init(%s=...) is not a known argument; ignored" % k)
    if run is not None and not run._finished:
        if not reinit or reinit == "return_previous":
            return run
        if reinit != "create_new":
            run.finish()
    cfg = Config()
    try:
        pre = _module_config().as_dict()
        given = _as_dict(config) if config is not None else {}
        excl = kwargs.get("config_exclude_keys") or ()
        incl = kwargs.get("config_include_keys")
        given = {k: v for k, v in given.items() if k not in excl and (not incl or k in incl)}
        cfg._items.update(pre)
        cfg._items.update(given)
    except Exception as err:
        _warn("init:config", "wandb.init(config=) could not be read (%s); ignored" % (err,))
        cfg._items.update(_module_config().as_dict())
    if mode is None and not os.environ.get("BABYSIT_MODE") and os.environ.get("WANDB_MODE"):
        mode = os.environ["WANDB_MODE"]
    chosen = _mode.resolve(mode)
    proj = project if isinstance(project, str) and project.strip() else (
        os.environ.get("WANDB_PROJECT") or os.environ.get("BABYSIT_PROJECT") or DEFAULT_PROJECT)
    if project is not None and not isinstance(project, str):
        _warn("init:project", "wandb.init(project=) must be a string, got %r; using %r" % (project, proj))
    if name is not None and not isinstance(name, str):
        _warn("init:name", "wandb.init(name=) must be a string, got %r; ignored" % (name,))
        name = None
    if name is None and os.environ.get("WANDB_NAME"):
        name = os.environ["WANDB_NAME"]
    if id is None and os.environ.get("WANDB_RUN_ID"):
        id = os.environ["WANDB_RUN_ID"]
    if resume not in (None, False, "never") and id is None:
        _warn("init:resume", "wandb.init(resume=%r) without id=: babysit resumes runs by id; starting a new run" % (resume,))
    tag_list: List[str] = []
    if tags is not None:
        if isinstance(tags, str) or not hasattr(tags, "__iter__"):
            _warn("init:tags", "wandb.init(tags=) must be a list of strings, got %r; ignored" % (tags,))
        else:
            tag_list = [str(t) for t in tags]
    try:
        b = babysit.init(proj, name=name, config=cfg.as_dict(), id=id, mode=chosen)
    except (TypeError, ValueError) as err:
        _warn("init:bad", "wandb.init(): %s; starting the run without the offending argument" % (err,))
        try:
            b = babysit.init(proj if isinstance(proj, str) and len(proj) <= 100 else DEFAULT_PROJECT,
                             name=None, config=_safe_config(cfg), id=None, mode=chosen)
        except Exception:
            from ._disabled import DisabledRun

            b = DisabledRun(proj)
    _register_exit()
    object.__setattr__(cfg, "_run", b)
    r = Run(b, cfg, tag_list, notes if isinstance(notes, str) else None,
            group if isinstance(group, str) else None, job_type if isinstance(job_type, str) else None)
    if tag_list or r.notes:
        b._update_run(tags=tag_list or None, notes=r.notes)  # the run's own tags and notes, as on its page
    info = {k: v for k, v in (("tags", tag_list), ("notes", r.notes), ("group", r.group), ("job_type", r.job_type)) if v}
    if info:
        b.event("run_info", info, step=0)
    run = r
    summary = r.summary
    globals()["config"] = cfg
    return r


_exit_registered = False


def _at_exit() -> None:
    # Registered after babysit's own exit handler, so it runs first: what commit=False gathered and
    # the summary go out before babysit finishes the run.
    r = run
    if r is not None and not r._finished:
        r.finish(exit_code=1 if _state._crashed else 0)


def _register_exit() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        import atexit

        atexit.register(_at_exit)


def _safe_config(cfg: Config) -> Dict[str, Any]:
    try:
        from ._config import config_to_json

        return config_to_json(cfg.as_dict(), warn=lambda msg: None)
    except Exception:
        return {}


def _module_config() -> Config:
    return globals()["config"]


def _active(what: str) -> Optional[Run]:
    if run is None:
        _warn("norun:" + what, "wandb.%s() called before wandb.init(); ignored" % what)
    return run


def log(data: Any, step: Any = None, commit: Any = None, sync: Any = None) -> None:
    """Logs to the current run with W&B's step rules; see Run.log."""
    r = _active("log")
    if r is not None:
        r.log(data, step=step, commit=commit)


def watch(models: Any, criterion: Any = None, log: Optional[str] = "gradients", log_freq: int = 1000,
          idx: Any = None, log_graph: bool = False) -> None:
    """babysit.watch on the model(s) of the current run; see Run.watch."""
    r = _active("watch")
    if r is not None:
        r.watch(models, criterion, log=log, log_freq=log_freq, idx=idx, log_graph=log_graph)


def unwatch(models: Any = None) -> None:
    if run is not None:
        run.unwatch(models)


def define_metric(name: str, step_metric: Any = None, step_sync: Any = None, hidden: Any = None, summary: Any = None,
                  goal: Any = None, overwrite: Any = None, **kwargs: Any) -> _NoOp:
    r = _active("define_metric")
    if r is None:
        return _NoOp()
    return r.define_metric(name, step_metric=step_metric, hidden=hidden, summary=summary, goal=goal)


def alert(title: Any = None, text: Any = None, level: Any = None, wait_duration: Any = None) -> None:
    r = _active("alert")
    if r is not None:
        r.alert(title, text, level, wait_duration)


def finish(exit_code: Any = None, quiet: Any = None) -> None:
    """Finishes the current run (crashed when exit_code is not 0); nothing happens without one."""
    if run is not None:
        run.finish(exit_code=exit_code, quiet=quiet)


def __getattr__(name: str) -> Any:
    # Artifact, Table, save, restore, Video, Audio, Html, plot, Api, agent, sweep...: accepted, ignored.
    if name.startswith("__"):
        raise AttributeError(name)
    return _unsupported(name)
