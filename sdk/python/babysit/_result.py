"""What finish() reports: whether everything arrived, what waits in the spool, what was rejected and why."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass
class DeliveryResult:
    """The outcome of ``finish()``. ``bool(result)`` is `delivered`, so ``if run.finish():`` reads right.

    Attributes:
        delivered: True only when the server acknowledged everything logged and nothing was
            rejected, neither by the SDK (a bad key, a value that is not a number) nor by the server.
        pending_batches: batches not acknowledged yet, kept in `spool_path` for the next
            ``babysit.init()`` or ``python -m babysit sync`` to send.
        spool_path: the spool file holding them, or None.
        rejected_points: points (metric values, histograms, events, images) that will never be
            stored: dropped by the SDK before sending, or refused by the server.
        rejections: ``(reason, points)`` pairs, one per distinct reason, in the order first seen: the
            first 20 reasons, then ``"other reasons"`` counting the points of all further ones.

    Example:
        >>> result = run.finish()                                   # doctest: +SKIP
        >>> if not result:                                          # doctest: +SKIP
        ...     print(result.rejected_points, result.rejections)
    """

    delivered: bool
    pending_batches: int = 0
    spool_path: Optional[str] = None
    rejected_points: int = 0
    rejections: List[Tuple[str, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.delivered


# Distinct reasons kept, as in the TypeScript SDK; points of any further reason are counted under
# OTHER_REASONS, so the totals still count everything.
MAX_REASONS = 20
OTHER_REASONS = "other reasons"


class Rejections:
    """Counts points that will never be stored, by reason; shared by the training and sender threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_reason: Dict[str, int] = {}

    def add(self, reason: str, points: int = 1) -> None:
        if points <= 0:
            return
        with self._lock:
            if reason not in self._by_reason and len(self._by_reason) >= MAX_REASONS:
                reason = OTHER_REASONS  # a reason per distinct server message must not grow without end
            self._by_reason[reason] = self._by_reason.get(reason, 0) + points

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._by_reason.values())

    def items(self) -> List[Tuple[str, int]]:
        with self._lock:
            return list(self._by_reason.items())


def summary_line(run_id: str, rejections: List[Tuple[str, int]]) -> str:
    """One line for the terminal: how many points of the run were rejected, and why."""
    total = sum(n for _, n in rejections)
    reasons = "; ".join("%d: %s" % (n, reason) for reason, n in rejections[:5])
    more = "; ..." if len(rejections) > 5 else ""
    return "babysit: %d point(s) of run %s were rejected and not stored (%s%s)" % (total, run_id, reasons, more)
