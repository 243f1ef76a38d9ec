"""The wire format of docs/api.md: value coercion, validation and encoding shared by every logging call.

log() runs inside the training loop, so coercion here is split in two: what is cheap and must happen
now (a copy of a CUDA scalar, so a later in-place update cannot change what was logged) happens in
`coerce_value`; what could wait for the device (reading the value back) happens in the background
thread through `LazyScalar`.
"""

from __future__ import annotations

import math
import operator
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import _contract as C

MAX_KEY_LENGTH = C.KEY_MAX_LENGTH
MAX_EVENT_TYPE_LENGTH = C.EVENT_TYPE_MAX_LENGTH
MAX_HISTOGRAM_BINS = C.HISTOGRAM_BINS
MAX_STEP = C.STEP_MAX
DEFAULT_BINS = 30
RUN_ID_RE = C.RUN_ID_RE
# Event data sits at body.events[i].data, three levels below the body: the whole body must stay
# within the contract's JSON depth.
MAX_EVENT_DATA_DEPTH = C.JSON_DEPTH - 3


class LazyScalar:
    """A one-element tensor on an accelerator, read back in the background thread."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Any) -> None:
        self.tensor = tensor


class Provisional(int):
    """A step counted from an origin not known yet: the run was resumed by id and the server has not
    said its last step. Resolved (origin + value) when its batch is formed if the origin is known by
    then, else spooled as a tentative step and resolved before it is sent; see _spool.py.

    Adding an int keeps it provisional, so a step derived from one (watch() labels an iteration
    that logged nothing from the previous label) is resolved with the same origin."""

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        if type(other) is int:
            return Provisional(int(self) + other)
        return int.__add__(self, other)

    __radd__ = __add__


def key_problem(key: Any) -> Optional[str]:
    """Returns why `key` is not a valid metric/histogram/image key, or None when it is."""
    return C.name_problem(key, C.KEY_MAX_LENGTH, "keys")


def event_type_problem(etype: Any) -> Optional[str]:
    """Returns why `etype` is not a valid event type, or None when it is."""
    return C.name_problem(etype, C.EVENT_TYPE_MAX_LENGTH, "event types")


def coerce_step(step: Any) -> int:
    """Returns `step` as a valid wire step or raises ValueError with the reason."""
    if type(step) is Provisional:  # run.step of a resumed run whose origin is not known yet
        return step
    if isinstance(step, bool):
        raise ValueError("step must be an integer, got a bool")
    if isinstance(step, float):
        if not step.is_integer():
            raise ValueError("step must be an integer, got %r" % step)
        step = int(step)
    try:
        step = operator.index(step)
    except TypeError:
        raise ValueError("step must be an integer, got %s" % type(step).__name__) from None
    if step < 0 or step > MAX_STEP:
        raise ValueError("step must be in 0..2^53-1, got %d" % step)
    return step


def _torch():
    # Never import torch ourselves: if the user has not imported it, no value can be a tensor.
    return sys.modules.get("torch")


def is_tensor(value: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def coerce_value(value: Any) -> Any:
    """Turns a metric value into a float or a LazyScalar; raises ValueError/TypeError with the reason.

    Accepts Python floats, ints and bools, numpy scalars and one-element arrays, and one-element torch
    tensors (CPU ones are read at once, which costs no device sync; others are copied on their device
    and read back later by the background thread).
    """
    t = type(value)
    if t is float:
        return value
    if t is int:
        return float(value)
    if t is bool:
        return 1.0 if value else 0.0
    if isinstance(value, (str, bytes, bytearray)):
        raise TypeError("a string is not a number")
    if value is None:
        raise TypeError("None is not a number")
    if is_tensor(value):
        n = value.numel()
        if n != 1:
            raise ValueError("a tensor with %d elements is not a scalar" % n)
        if value.device.type == "cpu":
            v = value.item()  # reading a CPU tensor costs no device sync
            if isinstance(v, complex):
                raise TypeError("a complex tensor is not a real number")
            return float(v)
        if value.is_complex():
            raise TypeError("a complex tensor is not a real number")
        # A copy on the device (no sync), so a later in-place update cannot change what was logged.
        return LazyScalar(value.detach().clone())
    if isinstance(value, complex):
        raise TypeError("a complex number is not a real number")
    size = getattr(value, "size", 1)
    if getattr(value, "ndim", 0) and size == 1 and hasattr(value, "item"):
        value = value.item()  # numpy array of shape (1,) or (1, 1)
    elif isinstance(size, int) and size != 1:
        raise ValueError("an array with %d elements is not a scalar" % size)
    if getattr(value, "dtype", None) is not None and getattr(value.dtype, "kind", "") == "c":
        raise TypeError("a complex number is not a real number")
    return float(value)


def resolve_lazy(values: List[LazyScalar]) -> List[float]:
    """Reads back device scalars, one transfer per (device, dtype) group instead of one per value."""
    out: List[float] = [math.nan] * len(values)
    groups: Dict[Tuple[str, str], List[int]] = {}
    for i, lazy in enumerate(values):
        t = lazy.tensor
        groups.setdefault((str(t.device), str(t.dtype)), []).append(i)
    torch = _torch()
    for idx in groups.values():
        try:
            if len(idx) == 1:
                got = [values[idx[0]].tensor.item()]
            else:
                got = torch.stack([values[i].tensor.reshape(()) for i in idx]).tolist()
            for i, v in zip(idx, got):
                out[i] = float(v)
        except Exception:
            for i in idx:
                try:
                    out[i] = float(values[i].tensor.item())
                except Exception:
                    out[i] = math.nan
        for i in idx:
            values[i].tensor = None  # free device memory early
    return out


def encode_number(v: float) -> Any:
    """A metric value on the wire: non-finite numbers travel as strings because JSON has no NaN."""
    if math.isfinite(v):
        return v
    if v != v:
        return "NaN"
    return "Infinity" if v > 0 else "-Infinity"


def compute_histogram(values: Sequence[float], bins: int = DEFAULT_BINS) -> Optional[Tuple[List[float], List[float]]]:
    """Bins raw values into `bins` equal-width bins spanning their finite min..max (as the TS SDK does).

    NaN and +-Infinity have no bin and are skipped; returns None when no finite value is left. A
    constant input gets a range of +-0.5 around the value so the edges stay increasing.

    Example:
        >>> compute_histogram([0, 1, 1, 2, float("nan")], 2)
        ([0.0, 1.0, 2.0], [1.0, 3.0])
    """
    n = min(max(1, int(bins)), MAX_HISTOGRAM_BINS)
    finite = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not finite:
        return None
    lo, hi = min(finite), max(finite)
    if lo == hi:
        pad = max(0.5, abs(lo) * 1e-6)
        lo, hi = lo - pad, hi + pad
    width = hi / n - lo / n  # hi/n - lo/n: (hi - lo) overflows near +-1.8e308
    if not (width > 0) or not math.isfinite(width):
        return None
    edges = [min(lo + i * width, hi) for i in range(n)] + [hi]
    counts = [0.0] * n
    for v in finite:
        b = int((v - lo) / width) if math.isfinite((v - lo) / width) else 0
        counts[min(max(b, 0), n - 1)] += 1.0
    return edges, counts


def histogram_of(values: Any, bins: int = DEFAULT_BINS) -> Optional[Tuple[List[float], List[float]]]:
    """Histogram of a torch tensor, numpy array or nested list (run in the background thread)."""
    if is_tensor(values):
        t = values.detach()
        if t.is_complex():
            raise TypeError("complex values")
        t = t.reshape(-1).double()
        t = t[t.isfinite()]
        if t.numel() == 0:
            return None
        lo, hi = float(t.min()), float(t.max())
        if lo == hi:
            return compute_histogram([lo], bins)
        n = min(max(1, int(bins)), MAX_HISTOGRAM_BINS)
        counts = t.histc(bins=n, min=lo, max=hi).tolist()
        width = hi / n - lo / n
        edges = [min(lo + i * width, hi) for i in range(n)] + [hi]
        return edges, [float(c) for c in counts]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(values, np.ndarray):
        a = np.asarray(values, dtype=np.float64).reshape(-1)
        a = a[np.isfinite(a)]
        if a.size == 0:
            return None
        lo, hi = float(a.min()), float(a.max())
        if lo == hi:
            return compute_histogram([lo], bins)
        n = min(max(1, int(bins)), MAX_HISTOGRAM_BINS)
        counts, edges = np.histogram(a, bins=n, range=(lo, hi))
        return [float(e) for e in edges], [float(c) for c in counts]
    return compute_histogram(list(_flatten(values)), bins)


def _flatten(values: Any):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            try:
                yield float(v)
            except (TypeError, ValueError):
                continue


def check_histogram(edges: Any, counts: Any) -> Tuple[List[float], List[float]]:
    """Validates a ready-made (edges, counts) pair as the server would; raises ValueError."""
    edges = [float(e) for e in (edges.tolist() if hasattr(edges, "tolist") else edges)]
    counts = [float(c) for c in (counts.tolist() if hasattr(counts, "tolist") else counts)]
    if not counts:
        raise ValueError("a histogram needs at least one bin")
    if len(counts) > MAX_HISTOGRAM_BINS:
        raise ValueError("a histogram has at most %d bins, got %d" % (MAX_HISTOGRAM_BINS, len(counts)))
    if len(edges) != len(counts) + 1:
        raise ValueError("edges must have len(counts) + 1 = %d entries, got %d" % (len(counts) + 1, len(edges)))
    if not all(math.isfinite(e) for e in edges):
        raise ValueError("histogram edges must be finite")
    if any(b < a for a, b in zip(edges, edges[1:])):
        raise ValueError("histogram edges must be non-decreasing")
    if not all(math.isfinite(c) and c >= 0 for c in counts):
        raise ValueError("histogram counts must be finite and non-negative")
    return edges, counts
