"""Everything the SDK prints goes through here, to stderr, so a training script's stdout stays its own."""

from __future__ import annotations

import sys
import threading
import warnings


class BabysitWarning(UserWarning):
    """Category of the warnings babysit emits for input it had to drop (filter it like any warning)."""


def say(line: str) -> None:
    """Writes one line to stderr. Never raises: a closed stderr must not break training."""
    try:
        stream = sys.stderr
        if stream is None:
            return
        stream.write(line if line.endswith("\n") else line + "\n")
        stream.flush()
    except Exception:
        pass


def checklist_line(checklist: object, url: str) -> "str | None":
    """The line printed at finish(): the run's checklist as the server summed it up (its
    ``checklist.summary``, e.g. "7 passed, 1 raised (lr_too_high), 2 not checkable"), or None when the
    answer has none. The same wording as the TypeScript SDK's."""
    summary = checklist.get("summary") if isinstance(checklist, dict) else None
    if not isinstance(summary, str) or not summary or len(summary) > 500:
        return None
    # server text, printed to a terminal: no control characters
    clean = "".join(" " if (ord(c) < 32 or 127 <= ord(c) <= 159) else c for c in summary)
    return "babysit: checklist %s -> %s" % (clean, url)


_PACKAGE_DIR = __file__.rsplit("/", 1)[0].rsplit("\\", 1)[0]


def user_stacklevel() -> int:
    """The stacklevel that makes a warning raised through OnceWarner.warn by the caller of this
    function's caller point at the first frame outside babysit (the user's line): the drop-in modules
    are reached by several paths (wandb.log -> Run.log, run.log...), so no fixed level is right."""
    try:
        frame = sys._getframe(2)
        depth = 1
        while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            frame = frame.f_back
            depth += 1
        return depth + 1
    except Exception:
        return 3


class OnceWarner:
    """Reports each distinct problem once.

    Training loops call log() millions of times; a warning per call would drown the script's output.
    User-input problems go through `warnings` (so they point at the user's line and can be filtered);
    transport problems, raised in the background thread, go straight to stderr.
    """

    def __init__(self, max_distinct: int = 200) -> None:
        self._seen: set = set()
        self._lock = threading.Lock()
        self._max = max_distinct

    def _first(self, key: str) -> bool:
        with self._lock:
            if key in self._seen or len(self._seen) >= self._max:
                return False
            self._seen.add(key)
            return True

    def warn(self, key: str, message: str, stacklevel: int = 3) -> None:
        if not self._first(key):
            return
        # point at the user's line however deep in babysit the problem was found (a drop-in's method
        # reaches Run.log through a varying number of frames); `stacklevel` when no such line is on
        # the stack (at exit)
        level = stacklevel + 1
        try:
            frame, depth = sys._getframe(1), 2
            while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
                frame, depth = frame.f_back, depth + 1
            if frame is not None:
                level = depth
        except Exception:
            pass
        try:
            warnings.warn("babysit: " + message, BabysitWarning, stacklevel=level)
        except Exception:
            # `-W error` turns warnings into exceptions; babysit must still not raise into training.
            say("babysit: " + message)

    def say(self, key: str, message: str) -> None:
        if self._first(key):
            say("babysit: " + message)
