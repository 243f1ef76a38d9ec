"""Process-wide state: the current run, and finishing runs at exit (crashed after an uncaught exception)."""

from __future__ import annotations

import atexit
import sys
import threading
from typing import Any, List, Optional

_lock = threading.Lock()
_runs: List[Any] = []  # unfinished runs, oldest first
current: Optional[Any] = None
_crashed = False
_installed = False
_previous_excepthook = None


def register(run: Any) -> None:
    global current
    _install()
    with _lock:
        _runs.append(run)
        current = run


def forget(run: Any) -> None:
    global current
    with _lock:
        if run in _runs:
            _runs.remove(run)
        if current is run:
            current = _runs[-1] if _runs else None


def _excepthook(exc_type, exc, tb) -> None:
    global _crashed
    _crashed = True
    hook = _previous_excepthook or sys.__excepthook__
    hook(exc_type, exc, tb)


def _at_exit() -> None:
    with _lock:
        runs = list(_runs)
    status = "crashed" if _crashed else "finished"
    for run in reversed(runs):
        try:
            run.finish(status)
        except Exception:
            pass


def _install() -> None:
    global _installed, _previous_excepthook
    if _installed:
        return
    _installed = True
    _previous_excepthook = sys.excepthook
    sys.excepthook = _excepthook
    atexit.register(_at_exit)
