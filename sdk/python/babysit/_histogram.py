"""Histograms for watch(): on the device without a host sync, or binned from a CPU copy by the sender
thread."""

from __future__ import annotations

import math
from typing import Any, List, Optional, Tuple

from ._reduce import _torch

HIST_BINS = 30
HIST_MAX_ELEMENTS = 1_000_000  # per tensor: a larger one is histogrammed from a strided sample


def _edges(lo: float, hi: float, bins: int) -> List[float]:
    width = hi / bins - lo / bins
    return [min(lo + i * width, hi) for i in range(bins)] + [hi]


class _CpuHist:
    """A histogram of a copy of CPU values, binned by the sender thread when it reads it."""

    __slots__ = ("x", "result")

    def __init__(self, x: Any) -> None:
        self.x = x
        self.result: Optional[Tuple[List[float], List[float]]] = None

    def get(self) -> Tuple[List[float], List[float]]:
        if self.result is None:
            x, self.x = self.x, None
            try:
                lo, hi, counts = _cpu_histogram(x, HIST_BINS)
                self.result = ([0.0, 1.0], [0.0]) if counts is None else (_edges(lo, hi, HIST_BINS), counts.tolist())
            except Exception:  # NaN edges: the sender skips this histogram, keeps the rest
                self.result = ([math.nan], [])
        return self.result


class _CpuHistPart:
    __slots__ = ("hist", "which")

    def __init__(self, hist: _CpuHist, which: int) -> None:
        self.hist, self.which = hist, which

    def tolist(self) -> List[float]:
        return self.hist.get()[self.which]


class _RangeEdges:
    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    def tolist(self) -> List[float]:
        return _edges(self.lo, self.hi, HIST_BINS)


# ---------------------------------------------------------------------- histograms


def _device_histogram(x: Any, bins: int = HIST_BINS, sync_free: Optional[bool] = None):
    """Histogram on the tensor's own device. Returns (edges, counts); non-finite values are left out.

    The range is the finite min..max. On accelerators (or with `sync_free`) edges and counts are
    tensors computed without reading anything back; on the CPU, where reading costs no sync, the range
    is read on the host and edges are a list.
    """
    x = _hist_input(x)
    if not (sync_free if sync_free is not None else x.device.type != "cpu"):
        lo, hi, counts = _cpu_histogram(x, bins)
        if counts is None:
            return [0.0, 1.0], [0.0]
        return _edges(lo, hi, bins), counts
    return _sync_free_histogram(x, bins)


def _hist_input(x: Any) -> Any:
    x = x.detach().reshape(-1)
    if x.numel() > HIST_MAX_ELEMENTS:  # a strided sample keeps the shape of the distribution
        x = x[:: x.numel() // HIST_MAX_ELEMENTS + 1]
    return x.float()


def _sync_free_histogram(x: Any, bins: int):
    torch = _torch()
    finite = torch.isfinite(x)
    inf = float("inf")
    lo = x.masked_fill(~finite, inf).min()
    hi = x.masked_fill(~finite, -inf).max()
    ok_lo = torch.isfinite(lo)
    lo = lo.masked_fill(~ok_lo, 0.0)
    span = hi - lo
    good = torch.isfinite(span) & (span > 0)
    lo = torch.where(good | ~ok_lo, lo, lo - 0.5)  # constant values: a unit-wide range around them
    span = span.masked_fill(~good, 1.0)
    xs = torch.where(finite, x, lo.expand_as(x))
    idx = torch.nan_to_num((xs - lo) / span * bins, nan=0.0, posinf=bins - 1, neginf=0.0)
    idx = idx.floor().clamp_(0, bins - 1).long()
    counts = torch.zeros(bins, device=x.device, dtype=torch.float32).scatter_add_(0, idx, finite.float())
    edges = lo + span * torch.arange(bins + 1, device=x.device, dtype=torch.float32) / bins
    return edges, counts


def _cpu_histogram(x: Any, bins: int) -> Tuple[float, float, Any]:
    """(lo, hi, counts) of a CPU tensor; counts is None when it holds no finite value."""
    # The range comes from one aminmax (finite bounds mean finite values: NaN propagates); the
    # isfinite mask is built only when something is not finite. Binning by hand into int32 indexes
    # and bincount costs a quarter of the instructions of histc (torch 1.13).
    torch = _torch()
    if x.numel() == 0:
        return 0.0, 1.0, None
    lo_t, hi_t = torch.aminmax(x)
    lo, hi = lo_t.item(), hi_t.item()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        x = x[torch.isfinite(x)]
        if x.numel() == 0:
            return 0.0, 1.0, None
        lo_t, hi_t = torch.aminmax(x)
        lo, hi = lo_t.item(), hi_t.item()
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    if not 1e-30 < hi - lo < 1e38:  # a range too wide (or too narrow) for float32 arithmetic
        return lo, hi, torch.histc(x, bins=bins, min=lo, max=hi)
    idx = (x - lo).mul_(bins / (hi - lo)).to(torch.int32).clamp_(0, bins - 1)  # >= 0: truncation is floor
    return lo, hi, torch.bincount(idx, minlength=bins)
