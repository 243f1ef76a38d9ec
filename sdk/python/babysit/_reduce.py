"""Reductions of tensors for watch(): the device-side sums, norms and counts of a measuring iteration,
the all-layer buffers, and how the sender thread reads them back (see _watch.py for the design)."""

from __future__ import annotations

import math
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

FLAT_MAX_ELEMENTS = 1 << 22  # weights of a model small enough for the padded all-layer buffers
FLAT_MIN_LAYERS = 4
DEFER_MAX_ELEMENTS = 1 << 20  # CPU: weights of a model whose statistics the sender thread reduces from copies
CPU_READ_EACH = True  # CPU tensors are read one by one (tests turn it off to take the accelerator's way)

_torch_module: Any = None


def _torch():
    global _torch_module
    if _torch_module is None:
        import torch

        _torch_module = torch
    return _torch_module


# ---------------------------------------------------------------------- device-side reductions

_low_types: Any = ()


def _low() -> Any:
    """The half types, whose reductions accumulate in float32."""
    global _low_types
    if not _low_types:
        torch = _torch()
        _low_types = (torch.float16, torch.bfloat16)
    return _low_types


def _acc(x: Any) -> Any:
    """The dtype to accumulate a reduction of x in: float32 for half types, else None (x's own)."""
    return _torch().float32 if x.dtype in _low() else None


_consts: Dict[float, Any] = {}


def _const(v: float) -> Any:
    """A 0-dim CPU tensor: comparing with it skips the wrapping of a Python number (half the cost of
    `x > 0.99` on small tensors), and CUDA ops take 0-dim CPU tensors as plain scalars."""
    t = _consts.get(v)
    if t is None:
        t = _consts[v] = _torch().tensor(v, dtype=_torch().float64)  # compared in x's own dtype
    return t


def _norms(tensors: List[Any]) -> List[Any]:
    """2-norms of a list of tensors: one torch._foreach_norm call where torch has it (one fused kernel
    per device on accelerators), else one vector_norm per tensor (older torch, half types)."""
    torch = _torch()
    fe = getattr(torch, "_foreach_norm", None)
    if fe is not None and len(tensors) > 1:
        full = (torch.float32, torch.float64)
        for t in tensors:
            if t.dtype not in full:
                break
        else:
            return fe(tensors)
    return [torch.linalg.vector_norm(t, dtype=_acc(t)) for t in tensors]


def _pairwise_(op: str, a: List[Any], b: List[Any]) -> None:
    """a[i].<op>(b[i]) for every i: one torch._foreach_<op> call where torch has it, else a loop."""
    fe = getattr(_torch(), "_foreach_" + op, None)
    if fe is not None and len(a) > 1:
        fe(a, b)
        return
    for x, y in zip(a, b):
        getattr(x, op)(y)


def _sub_(a: List[Any], b: List[Any]) -> None:
    """a[i] -= b[i] for every i."""
    _pairwise_("sub_", a, b)


def _copy_(a: List[Any], b: List[Any]) -> None:
    """a[i].copy_(b[i]) for every i (one foreach call on torch 2.1 and later)."""
    _pairwise_("copy_", a, b)


class _Flat:
    """The weights of every layer (row 1) and their gradients (row 0) as the rows of one zero-padded
    [2, layers, longest] buffer: sums and norms of all of them are two kernels. Row 1 is also the
    snapshot of W_before that update_ratio needs. With `after`, a row 2 receives W_after (the CPU
    path whose reductions the sender thread makes)."""

    __slots__ = ("shapes", "sizes", "dtype", "device", "buf", "grad_rows", "weight_rows", "weights", "after_rows",
                 "nbytes")

    def __init__(self, ws: List[Any], after: bool = False) -> None:
        torch = _torch()
        self.shapes = [w.shape for w in ws]
        self.sizes = [w.numel() for w in ws]
        self.dtype, self.device = ws[0].dtype, ws[0].device
        self.buf = torch.zeros(3 if after else 2, len(ws), max(self.sizes), dtype=self.dtype, device=self.device)
        self.nbytes = self.buf.numel() * self.buf.element_size()

        def rows(r: int) -> List[Any]:
            return [self.buf[r, i, :n].view(s) for i, (n, s) in enumerate(zip(self.sizes, self.shapes))]

        self.grad_rows, self.weight_rows = rows(0), rows(1)
        self.after_rows = rows(2) if after else []
        self.weights = self.buf[1]

    @staticmethod
    def fits(ws: List[Any], min_layers: int = FLAT_MIN_LAYERS, max_elements: int = FLAT_MAX_ELEMENTS) -> bool:
        torch = _torch()
        if len(ws) < min_layers:  # below that, the copies of the gradients cost what the kernels save
            return False
        dtype, device = ws[0].dtype, ws[0].device
        if dtype not in (torch.float32, torch.float64) or any(w.dtype != dtype or w.device != device for w in ws):
            return False
        sizes = [w.numel() for w in ws]
        total = sum(sizes)
        return 0 < total <= max_elements and len(ws) * max(sizes) <= 2 * total + 65536  # padding bounded

    def matches(self, ws: List[Any]) -> bool:
        if len(ws) != len(self.shapes) or ws[0].dtype != self.dtype or ws[0].device != self.device:
            return False
        for w, s in zip(ws, self.shapes):
            if w.shape != s:
                return False
        return True


# ---------------------------------------------------------------------- what the sender reads back

# How the sender thread turns raw numbers read back from the device into a metric value.
# A recipe is (op, a, b, n): a and b index the raw numbers (s: a sum, q: a 2-norm), or for _DEAD and
# _FRAC, a indexes the counts (c), which follow the other raw numbers.
_MEAN = 0  # s / n
_STD = 1  # sqrt(q^2 / n - (s / n)^2), population std
_NORM = 2  # q
_RATIO = 3  # a / b
_DEAD = 4  # 1 - c / n
_FRAC = 5  # c / n
_VALUE = 6  # a
_CONST = 7  # n itself (a Python learning rate)
_SQRT = 8  # sqrt(a): a population variance
_ALIVE = 9  # 1 - (values among the n from a that are not <= 0) / n: dead_frac from the units' maxima


def _finish(op: int, r: List[Any], a: int, b: int, n: Any, cbase: int) -> Optional[float]:
    """A metric's value from its raw numbers; None when one of them is missing (a failed reduction)."""
    try:
        if op == _MEAN:
            return r[a] / n
        if op == _STD:
            m = r[a] / n
            q = r[b]
            var = q * q / n - m * m
            if var != var:
                return var  # NaN in, NaN out
            return math.sqrt(var) if var > 0 else 0.0
        if op == _NORM or op == _VALUE:
            return r[a]
        if op == _RATIO:
            num, den = r[a], r[b]
            if num is None or den is None:
                return None
            if den == 0:
                return math.nan if num == 0 or num != num else math.inf
            return num / den
        if op == _DEAD:
            return 1.0 - r[cbase + a] / n
        if op == _FRAC:
            return r[cbase + a] / n
        if op == _CONST:
            return float(n)
        if op == _SQRT:
            var = r[a]
            if var != var:
                return var
            return math.sqrt(var) if var > 0 else 0.0
        if op == _ALIVE:
            alive = 0
            for v in r[a : a + n]:
                if not v <= 0:  # a NaN maximum is not a dead unit
                    alive += 1
            return 1.0 - alive / n
    except TypeError:  # None among the raw numbers
        return None
    except (ArithmeticError, ValueError, IndexError):
        pass
    return math.nan


class _Later:
    """A reduction of CPU copies that the sender thread makes when it reads the iteration: `fn()` gives a
    tensor of `size` values. If it fails the call gives None, and the metrics made of those values are
    left out (a made-up NaN would look like a diverging run)."""

    __slots__ = ("fn", "size")

    def __init__(self, fn: Callable[[], Any], size: int = 1) -> None:
        self.fn, self.size = fn, size

    def __call__(self) -> Any:
        try:
            return self.fn()
        except Exception:
            return None


class _Budget:
    """Bytes of CPU copies a watcher may keep waiting for the sender thread: taken in the training loop,
    given back by the sender once it has reduced them."""

    __slots__ = ("left", "lock")

    def __init__(self, n: int) -> None:
        self.left = n
        self.lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self.lock:
            if n > self.left:
                return False
            self.left -= n
            return True

    def give(self, n: int) -> None:
        with self.lock:
            self.left += n


def _read_all(tensors: List[Any]) -> List[Optional[float]]:
    """The values of tensors (or of _Later reductions), in order, in one transfer per device; None for
    those of a _Later that failed."""
    torch = _torch()
    parts: List[Any] = []
    failed: List[int] = []
    for t in tensors:
        if type(t) is _Later:
            v = t()
            if v is None:
                failed.append(len(parts))
                v = torch.zeros(t.size, dtype=torch.float64)  # a placeholder, replaced by None below
            t = v
        parts.append(t)
    out: List[Any] = _values_of(parts)
    if failed:
        starts = [0]
        for t in parts:
            starts.append(starts[-1] + t.numel())
        for i in failed:
            out[starts[i] : starts[i + 1]] = [None] * (starts[i + 1] - starts[i])
    return out


def _values_of(parts: List[Any]) -> List[float]:
    torch = _torch()
    if not parts:
        return []
    for t in parts:
        if not (t.is_cpu and CPU_READ_EACH):
            break
    else:  # on the CPU reading costs nothing: no gathering into one tensor first
        out: List[float] = []
        for t in parts:
            d = t.dim()
            if d == 0:
                out.append(t.item())
            else:
                out += (t if d == 1 else t.reshape(-1)).tolist()
        return out
    flat_parts = [t.reshape(-1) for t in parts]
    try:  # the usual case, everything on one device; mixed dtypes are promoted
        return torch.cat(flat_parts).tolist()
    except RuntimeError:  # several devices (a model split across GPUs)
        chunks: List[List[float]] = [[] for _ in parts]
        groups: Dict[Any, List[int]] = {}
        for i, t in enumerate(flat_parts):
            groups.setdefault(t.device, []).append(i)
        for idx in groups.values():
            same = [flat_parts[i] for i in idx]
            try:
                values = torch.cat(same).tolist()
            except RuntimeError:
                values = [v for p in same for v in p.double().tolist()]
            pos = 0
            for i in idx:
                n = flat_parts[i].numel()
                chunks[i] = values[pos : pos + n]
                pos += n
        return [v for c in chunks for v in c]


class _Pack:
    """What one measured iteration logs, still on the device until the sender thread reads it.

    Metric values are recipes over raw numbers: device tensors of sums and norms (0-dim, or a vector
    for all layers at once), then 0-dim integer counts, then the histograms' 1-D tensors. The sender
    thread concatenates them into one 1-D tensor per device and reads that back in one transfer
    (``tolist``), so the training loop neither waits for the device nor pays for the gathering.
    Duck-types the 1-D tensor a STATS item carries.
    """

    __slots__ = ("_tensors", "_recipes", "_cbase", "_flat", "_values", "_release")

    def __init__(self, tensors: List[Any], recipes: List[Tuple[int, int, int, Any]], cbase: int,
                 release: Optional[List[Callable[[], None]]] = None) -> None:
        self._tensors = tensors
        self._recipes = recipes
        self._cbase = cbase  # where the counts start among the raw numbers
        self._flat: Optional[List[float]] = None
        self._values: Optional[List[float]] = None
        self._release = release  # gives CPU copies back to their watcher once reduced

    def read(self) -> List[float]:
        if self._flat is None:
            tensors, self._tensors = self._tensors, []  # device memory released once read
            try:
                self._flat = _read_all(tensors)
            finally:
                release, self._release = self._release, None
                for fn in release or ():
                    fn()
        return self._flat

    def tolist(self) -> List[float]:
        if self._values is None:
            r = self.read()
            cbase = self._cbase
            self._values = [_finish(op, r, a, b, n, cbase) for op, a, b, n in self._recipes]
        return self._values

    def __len__(self) -> int:
        return len(self._recipes)


class _Slice:
    """Edges or counts of a histogram computed on the device: a slice of its _Pack's raw numbers."""

    __slots__ = ("pack", "start", "size")

    def __init__(self, pack: _Pack, start: int, size: int) -> None:
        self.pack, self.start, self.size = pack, start, size

    def tolist(self) -> List[float]:
        return self.pack.read()[self.start : self.start + self.size]
