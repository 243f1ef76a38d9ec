"""A drop-in for trackio's init / log / finish (and config), streaming to babysit.

    # import trackio
    import babysit.trackio as trackio

    trackio.init(project="digits", config={"lr": 1e-3})
    for step in range(1000):
        trackio.log({"train/loss": loss})
    trackio.finish()

log() without step= is the next step (0, 1, 2, ...), with step= that step, as in trackio. Numbers are
metrics; trackio.Histogram / trackio.Image, and arrays or tensors of more than one value, become
histograms and images. Anything else of trackio (show, Table, import_csv...) does nothing, with one
warning per name; nothing raises into the training loop. mode= / BABYSIT_MODE as babysit.init's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Dict, Optional

from . import _mode
from ._output import user_stacklevel
from .wandb import Config, Histogram, Image, _as_dict, _classify, _flatten, _unsupported, _warner

__all__ = ["init", "log", "finish", "config", "run", "Histogram", "Image"]

DEFAULT_PROJECT = "trackio"


def _warn(key: str, message: str) -> None:
    _warner.warn("trackio:" + key, message, stacklevel=user_stacklevel())


class Run:
    """What trackio.init returns: log(), finish(), config, name, project."""

    def __init__(self, babysit_run: Any, cfg: Config) -> None:
        self._run = babysit_run
        self.config = cfg
        self._finished = False

    @property
    def name(self) -> Optional[str]:
        return self._run.name

    @property
    def project(self) -> str:
        return self._run.project

    @property
    def id(self) -> str:
        return self._run.id

    @property
    def url(self) -> Optional[str]:
        return self._run.url

    @property
    def babysit_run(self) -> Any:
        return self._run

    def log(self, metrics: Any, step: Any = None) -> None:
        try:
            if self._finished:
                _warn("log:finished", "trackio.log() called after finish(); ignored")
                return
            if not isinstance(metrics, Mapping):
                _warn("log:type", "trackio.log() takes a dict, got %s; ignored" % type(metrics).__name__)
                return
            flat: Dict[str, Any] = {}
            _flatten(metrics, "", flat)
            scalars: Dict[str, Any] = {}
            extras = []
            for key, value in flat.items():
                kind, v = _classify(value)
                if kind == "scalar":
                    scalars[key] = v
                elif kind in ("media", "histogram"):
                    extras.append((key, kind, v))
                elif kind in ("skip", "text"):
                    _warn("log:%s" % type(value).__name__, "trackio.log(): %s values (key %r) are not charted; dropped"
                          % (type(value).__name__, key))
            self._run.log(scalars, step=step)  # also for media alone: it sets the step they belong to
            at = self._run._current_step()
            for key, kind, v in extras:
                if kind == "media":
                    v._send(self._run, key, at)
                else:
                    self._run.log_histogram(key, v, step=at, bins=64)
        except Exception as err:
            _warn("log:internal", "trackio.log() dropped a call: %r" % (err,))

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        try:
            self._run.finish()
        except Exception as err:
            _warn("finish", "trackio.finish() failed: %r" % (err,))
        global run
        if run is self:
            run = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _unsupported("run." + name, "trackio")


run: Optional[Run] = None
config = Config()


def init(project: Any = None, name: Any = None, space_id: Any = None, dataset_id: Any = None, config: Any = None,
         resume: Any = "never", settings: Any = None, mode: Any = None, **kwargs: Any) -> Run:
    """Starts a run, as trackio.init does (space_id, dataset_id, settings... accepted, ignored). Never raises.

    Args:
        project: babysit project (default ``$BABYSIT_PROJECT``, else "trackio").
        name: run name (default: one the server makes up).
        config: dict, argparse.Namespace or object with attributes.
        resume: trackio resumes by name; babysit cannot: anything but "never" warns once, a new run starts.
        mode: "online", "offline" or "disabled" (default $BABYSIT_MODE).
    """
    global run
    import babysit

    if run is not None and not run._finished:
        run.finish()
    cfg = Config()
    try:
        cfg._items.update(globals()["config"].as_dict())
        if config is not None:
            cfg._items.update(_as_dict(config))
    except Exception as err:
        _warn("init:config", "trackio.init(config=) could not be read (%s); ignored" % (err,))
    if resume not in (None, "never", False):
        _warn("init:resume", "trackio.init(resume=%r): babysit resumes runs by id, not by name; starting a new run" % (resume,))
    proj = project if isinstance(project, str) and project.strip() else os.environ.get("BABYSIT_PROJECT") or DEFAULT_PROJECT
    if name is not None and not isinstance(name, str):
        _warn("init:name", "trackio.init(name=) must be a string, got %r; ignored" % (name,))
        name = None
    chosen = _mode.resolve(mode)
    try:
        b = babysit.init(proj, name=name, config=cfg.as_dict(), mode=chosen)
    except (TypeError, ValueError) as err:
        _warn("init:bad", "trackio.init(): %s; starting the run without the offending argument" % (err,))
        try:
            b = babysit.init(DEFAULT_PROJECT, mode=chosen)
        except Exception:
            from ._disabled import DisabledRun

            b = DisabledRun(proj)
    object.__setattr__(cfg, "_run", b)
    run = Run(b, cfg)
    globals()["config"] = cfg
    return run


def log(metrics: Any, step: Any = None) -> None:
    """Logs to the current run: numbers as metrics; step default: the next one."""
    if run is None:
        _warn("norun", "trackio.log() called before trackio.init(); ignored")
        return
    run.log(metrics, step=step)


def finish() -> None:
    """Finishes the current run."""
    if run is not None:
        run.finish()


def show(*args: Any, **kwargs: Any) -> None:
    """trackio's dashboard is babysit's: prints the current run's page."""
    if run is not None and run.url:
        print("babysit: %s" % run.url)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return _unsupported(name, "trackio")
