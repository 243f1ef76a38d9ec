"""Sanity checks cs231n-style: statistics of the inputs as fed to the net, and numeric gradient checks."""

from __future__ import annotations

import copy
import math
import random
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _contract as C
from . import _values as V


def input_stats(x: Any) -> Dict[str, Any]:
    """Per-feature mean and (population) std of a batch or a whole data set.

    Features are the columns of a 2-D input (N, F), the channels (dim 1) of an input with more
    dimensions (N, C, ...), and the single feature of a 1-D input (N,).

    Args:
        x: torch tensor, numpy array or list of lists.

    Returns:
        ``{"mean": [...], "std": [...], "n": N}``.

    Example:
        >>> input_stats([[0.0, 10.0], [2.0, 10.0]])
        {'mean': [1.0, 10.0], 'std': [1.0, 0.0], 'n': 2}
    """
    if V.is_tensor(x):
        if x.dim() == 0:
            raise ValueError("input_stats needs a batch, got a scalar")
        std, mean = tensor_moments(x.detach().double())
        return {"mean": mean.cpu().tolist(), "std": std.cpu().tolist(), "n": int(x.shape[0])}
    np = _numpy()
    if np is not None and (not isinstance(x, (list, tuple)) or _rectangular(x)):
        a = np.asarray(x, dtype=np.float64)
        if a.ndim == 0:
            raise ValueError("input_stats needs a batch, got a scalar")
        n = a.shape[0]
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        elif a.ndim > 2:
            a = np.moveaxis(a, 1, 0).reshape(a.shape[1], -1).T
        return {"mean": a.mean(axis=0).tolist(), "std": a.std(axis=0).tolist(), "n": int(n)}
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in x]
    if not rows:
        raise ValueError("input_stats needs at least one example")
    width = len(rows[0])
    cols = [[float(r[j]) for r in rows] for j in range(width)]
    means = [sum(c) / len(c) for c in cols]
    stds = [math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) for c, m in zip(cols, means)]
    return {"mean": means, "std": stds, "n": len(rows)}


def tensor_moments(t: Any) -> Tuple[Any, Any]:
    """Per-feature (population std, mean) of a tensor of at least 1 dimension, as tensors on its device
    in its dtype (nothing read back): the features of `input_stats`. watch() calls it on the inputs of
    a training and of an evaluation forward, and reads the result back off the training loop."""
    torch = __import__("torch")
    if t.dim() == 1:
        return torch.std_mean(t, dim=0, unbiased=False, keepdim=True)
    if t.dim() == 2:
        return torch.std_mean(t, dim=0, unbiased=False)
    # (N, C, ...): a channel's statistics over the examples and every position, without a transposed copy
    return torch.std_mean(t, dim=[0] + list(range(2, t.dim())), unbiased=False)


def output_stats(pred: Any, target: Any) -> Dict[str, Any]:
    """Range, mean and (population) std of a model's predictions and of its targets, over all entries.

    What ``loss_output_mismatch`` reads to tell an output layer that cannot reach the targets (a ReLU or
    sigmoid on a regression output: predictions never below 0 while targets are).

    Args:
        pred: the model's outputs (torch tensor, numpy array, list or number).
        target: the targets, in the same units.

    Returns:
        ``{"pred_min", "pred_max", "pred_mean", "pred_std", "target_min", "target_max", "target_mean",
        "target_std", "n"}`` with ``n`` the number of examples (first dimension of ``pred``).

    Example:
        >>> output_stats([0.0, 2.0], [-1.0, 3.0])["target_min"]
        -1.0
    """
    p, n = _flat(pred, "pred")
    t, _ = _flat(target, "target")
    out: Dict[str, Any] = {}
    for name, v in (("pred", p), ("target", t)):
        m = sum(v) / len(v)
        out[name + "_min"] = min(v)
        out[name + "_max"] = max(v)
        out[name + "_mean"] = m
        out[name + "_std"] = math.sqrt(sum((x - m) ** 2 for x in v) / len(v))
    out["n"] = n
    return out


def _flat(x: Any, what: str) -> Tuple[List[float], int]:
    """All entries of x as floats (NaN kept: it shows a diverged model), and its first dimension."""
    if V.is_tensor(x):
        t = x.detach().double().reshape(-1).cpu()
        n = int(x.shape[0]) if x.dim() > 0 else 1
        vals = t.tolist()
    else:
        np = _numpy()
        if np is not None:
            a = np.asarray(x, dtype=np.float64)
            n = int(a.shape[0]) if a.ndim > 0 else 1
            vals = a.reshape(-1).tolist()
        else:
            seq = list(x) if isinstance(x, (list, tuple)) else [x]
            n = len(seq)
            vals = [float(v) for r in seq for v in (r if isinstance(r, (list, tuple)) else [r])]
    if not vals:
        raise ValueError("output_stats needs at least one %s value" % what)
    finite = [v for v in vals if math.isfinite(v)]
    # min/max/mean of the finite values; a non-finite one anywhere makes the statistics NaN
    if len(finite) != len(vals):
        return [float("nan")], n
    return finite, n


def label_stats(y: Any, num_classes: Optional[int] = None) -> Dict[str, Any]:
    """How many labels fall in each class: the class distribution of a split.

    Class indices are the integers 0..C-1 of a 1-D label array (what ``CrossEntropyLoss`` takes);
    a 2-D array (N, C) of one-hot rows or probabilities counts each row's largest entry, and a 2-D
    array with one column (binary targets for ``BCEWithLogitsLoss``) counts 0 and 1.

    Args:
        y: torch tensor, numpy array or list of class indices, or (N, C) one-hot / probabilities.
        num_classes: the number of classes C (classes absent from `y` are then counted as 0); at least
            2 entries are always sent.

    Returns:
        ``{"counts": [n_0, n_1, ...], "n": N}``.

    Raises:
        ValueError: labels that are not whole numbers >= 0, or an empty `y`.

    Example:
        >>> label_stats([0, 0, 0, 1, 2, 0])
        {'counts': [4, 1, 1], 'n': 6}
    """
    counts, n = _class_counts(y)
    if n == 0:
        raise ValueError("label_stats needs at least one label")
    size = max(len(counts), int(num_classes or 0), 2)
    return {"counts": counts + [0] * (size - len(counts)), "n": n}


def _class_counts(y: Any) -> Tuple[List[int], int]:
    """Per-class counts of `y` (argmax of (N, C) rows with C > 1), counted by torch/numpy when it is an array."""
    if V.is_tensor(y):
        torch = __import__("torch")
        t = y.detach()
        if t.dim() == 2 and t.shape[1] > 1:
            t = t.argmax(dim=1)
        t = t.reshape(-1)
        if t.numel() == 0:
            return [], 0
        if t.is_floating_point() and not bool(((t == t.round()) & t.isfinite()).all()):
            raise ValueError("labels must be whole numbers (class indices)")
        if t.dtype == torch.bool:
            t = t.long()
        if t.is_complex() or int(t.min()) < 0:
            raise ValueError("labels must be class indices >= 0")
        _check_classes(int(t.max()))
        return torch.bincount(t.long()).cpu().tolist(), int(t.numel())
    np = _numpy()
    if np is not None:
        a = np.asarray(y)
        if a.ndim == 2 and a.shape[1] > 1:
            a = a.argmax(axis=1)
        a = a.reshape(-1)
        if a.size == 0:
            return [], 0
        if a.dtype.kind == "f":
            if not bool(np.all(np.isfinite(a) & (a == np.round(a)))):
                raise ValueError("labels must be whole numbers (class indices)")
        elif a.dtype.kind not in "iub":
            raise ValueError("labels must be class indices (integers), got %s" % a.dtype)
        a = a.astype(np.int64)
        if int(a.min()) < 0:
            raise ValueError("labels must be class indices >= 0")
        _check_classes(int(a.max()))
        return [int(c) for c in np.bincount(a).tolist()], int(a.size)
    counts: List[int] = []
    n = 0
    for v in y:
        if isinstance(v, (list, tuple)):
            v = max(range(len(v)), key=lambda k: v[k]) if len(v) > 1 else v[0]
        f = float(v)
        if f != int(f) or f < 0:
            raise ValueError("labels must be class indices >= 0")
        c = int(f)
        _check_classes(c)
        if c >= len(counts):
            counts.extend([0] * (c + 1 - len(counts)))
        counts[c] += 1
        n += 1
    return counts, n


def _check_classes(top: int) -> None:
    # counted before anything is allocated: a stray huge label must not cost gigabytes
    if top >= C.LIMITS["labelStatsClasses"]:
        raise ValueError("label %d: at most %d classes are sent" % (top, C.LIMITS["labelStatsClasses"]))


def _rectangular(x: Any) -> bool:
    try:
        return len({len(r) if isinstance(r, (list, tuple)) else -1 for r in x}) == 1
    except TypeError:
        return False


def _numpy():
    try:
        import numpy

        return numpy
    except ImportError:
        return None


def _watchers_of(model: Any) -> List[Any]:
    from ._watch import Watcher

    found = []
    for m in model.modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks"):
            for h in (getattr(m, attr, None) or {}).values():
                w = getattr(h, "__self__", None)
                if isinstance(w, Watcher) and w not in found:
                    found.append(w)
    return found


def _copy_without_watch_hooks(model: Any) -> Any:
    # A watched model's hooks are methods of a Watcher, which holds the run (threads, locks): keep the
    # deep copy from copying it, then take those hooks off the copy.
    memo = {id(w): w for w in _watchers_of(model)}
    copied = copy.deepcopy(model, memo)
    _strip_watch_hooks(copied)
    return copied


def _strip_watch_hooks(model: Any) -> None:
    from ._watch import Watcher

    for m in model.modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks"):
            hooks = getattr(m, attr, None)
            if not hooks:
                continue
            for k in [k for k, h in hooks.items() if isinstance(getattr(h, "__self__", None), Watcher)]:
                del hooks[k]


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    loss_fn: Optional[Callable[[Any], Any]] = None,
    eps: float = 1e-6,
    max_entries: int = 20,
    seed: int = 0,
) -> List[Tuple[str, float, int]]:
    """Numeric vs analytic gradients; see `babysit.gradcheck` (which also logs the results)."""
    import torch

    if isinstance(fn, torch.nn.Module):
        model = _copy_without_watch_hooks(fn)
        model.double()
        call: Callable[..., Any] = model
        params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        ins = [_to_double(x, grad=False) for x in inputs]
    else:
        call = fn
        ins = [_to_double(x, grad=True) for x in inputs]
        params = [("input%d" % i, x) for i, x in enumerate(ins) if isinstance(x, torch.Tensor) and x.requires_grad]
    if not params:
        raise ValueError("gradcheck found nothing to check: pass a module with parameters, or floating-point tensors")

    proj: Dict[str, Any] = {}
    devices = sorted({p.device.index for _, p in params if p.device.type == "cuda"})

    def scalar() -> Any:
        # Same random state for every evaluation: dropout masks and the like must not change between
        # the +eps and -eps evaluations. fork_rng leaves the caller's random state untouched.
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            out = call(*ins)
            if loss_fn is not None:
                out = loss_fn(out)
        if isinstance(out, (tuple, list)):
            out = out[0]
        out = out.double()
        if out.numel() == 1:
            return out.reshape(())
        if "r" not in proj:  # a fixed random projection: a plain sum would hide errors (softmax sums to 1)
            g = torch.Generator().manual_seed(seed + 1)
            proj["r"] = torch.randn(out.shape, generator=g, dtype=torch.float64).to(out.device)
        return (out * proj["r"]).sum()

    loss = scalar()
    grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
    rng = random.Random(seed)
    results: List[Tuple[str, float, int]] = []
    for (name, p), g in zip(params, grads):
        g = torch.zeros_like(p) if g is None else g.detach()
        numel = p.numel()
        picks = list(range(numel)) if numel <= max_entries else rng.sample(range(numel), max_entries)
        analytic, numeric = [], []
        with torch.no_grad():
            for flat in picks:
                idx = _unravel(flat, tuple(p.shape))
                orig = p[idx].item()
                p[idx] = orig + eps
                fp = scalar().item()
                p[idx] = orig - eps
                fm = scalar().item()
                p[idx] = orig
                numeric.append((fp - fm) / (2 * eps))
                analytic.append(g[idx].item())
        diff = math.sqrt(sum((a - n) ** 2 for a, n in zip(analytic, numeric)))
        size = math.sqrt(sum(a * a for a in analytic)) + math.sqrt(sum(n * n for n in numeric))
        rel = diff / max(size, 1e-30) if diff > 0 else 0.0
        results.append((name, rel, len(picks)))
    return results


def _unravel(flat: int, shape: Sequence[int]) -> Tuple[int, ...]:
    idx = []
    for dim in reversed(shape):
        idx.append(flat % dim)
        flat //= dim
    return tuple(reversed(idx))


def _to_double(x: Any, grad: bool) -> Any:
    import torch

    if not isinstance(x, torch.Tensor):
        np = _numpy()
        if np is not None and isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        else:
            return x
    if x.is_floating_point():
        x = x.detach().double().clone()
        if grad:
            x.requires_grad_(True)
    return x
