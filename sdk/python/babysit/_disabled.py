"""The run init() returns under BABYSIT_MODE=disabled: every method a no-op, quietly.

It has the attributes and methods of a Run, so a script written for babysit (or for wandb, through
babysit.wandb) runs unchanged with monitoring switched off: nothing is sent, spooled or printed.
"""

from __future__ import annotations

from typing import Any, Optional

from . import _values as V
from ._config import config_to_json
from ._result import DeliveryResult
from ._run import _new_run_id


class DisabledRun:
    """A run that records nothing (BABYSIT_MODE=disabled). `url` is None."""

    offline = False
    resumed = False
    url: Optional[str] = None

    def __init__(self, project: Any = None, name: Any = None, config: Any = None, id: Any = None, **_: Any) -> None:
        self.project = project if isinstance(project, str) else "disabled"
        self.name = name if isinstance(name, str) else None
        try:
            self.config = config_to_json(config, warn=lambda msg: None)
        except Exception:
            self.config = {}
        self.id = id if isinstance(id, str) and V.RUN_ID_RE.match(id) else _new_run_id()
        self.base_url = None
        self.step: Optional[int] = None
        self._finished = False
        self._watchers: list = []

    def log(self, metrics: Any = None, step: Any = None, epoch: Any = None, **_: Any) -> None:
        if isinstance(step, int) and not isinstance(step, bool) and step >= 0:
            self.step = step
        else:
            self.step = 0 if self.step is None else self.step + 1

    def log_histogram(self, *args: Any, **kwargs: Any) -> None:
        return None

    def log_image(self, *args: Any, **kwargs: Any) -> None:
        return None

    def event(self, *args: Any, **kwargs: Any) -> None:
        return None

    def update_config(self, config: Any) -> None:
        try:
            self.config = dict(self.config, **config_to_json(config, warn=lambda msg: None))
        except Exception:
            pass

    def _update_run(self, *args: Any, **kwargs: Any) -> None:
        return None

    def watch(self, *args: Any, **kwargs: Any) -> None:
        return None

    def unwatch(self, model: Any = None) -> None:
        return None

    def _current_step(self) -> int:
        return self.step if self.step is not None else 0

    def _log_stats(self, *args: Any) -> None:
        return None

    def finish(self, status: str = "finished", timeout: float = 0.0) -> DeliveryResult:
        if not self._finished:
            self._finished = True
            from . import _state

            _state.forget(self)
        return DeliveryResult(delivered=True)

    @property
    def finished(self) -> bool:
        return self._finished

    def __enter__(self) -> "DisabledRun":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self.finish()
        return False

    def __repr__(self) -> str:
        return "<babysit.Run %s (disabled) project=%r name=%r>" % (self.id, self.project, self.name)
