"""watch(): per-layer statistics of a torch model, computed every N steps on the model's device.

What is measured, per training iteration that is a multiple of `every`:
- layers with weights (Linear, Conv*): ``update_ratio/<layer>`` = ||W_after - W_before|| / ||W_before||
  around the optimizer step, ``weight/<layer>/{mean,std}``, ``grad/<layer>/{std,norm}``;
- activation modules: ``act/<name>/{mean,std}``, plus ``act/<name>/dead_frac`` for the ReLU family
  (share of units that are <= 0 for every example of the minibatch) or ``act/<name>/saturated_frac``
  for tanh-like (|a| > 0.99) and sigmoid-like (a < 0.01 or a > 0.99) ones;
- ``lr`` (the first parameter group's learning rate) when an optimizer is given;
- every `hist_every` iterations, histograms ``act/<name>``, ``grad/<layer>``, ``weight/<layer>``.

An activation is named after the layer with weights that ran just before it (``act/fc1`` is the
activation of ``fc1``'s output, like ``update_ratio/fc1``); one with no such layer before it keeps its
own module name. Only activation *modules* are seen: ``torch.relu(x)`` / ``F.relu(x)`` in forward()
leave no trace a hook can catch.

Cost: on the other iterations there is nothing but one Python call per forward (activation hooks are
attached only for the iterations that measure) and per optimizer step. Statistics are reduced on the
device into a few scalars and read back by the background thread, so the training loop never waits
for the GPU. One iteration in `every` pays for the reductions and for a copy of the weights.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ._output import OnceWarner

HIST_BINS = 30
HIST_MAX_ELEMENTS = 1_000_000


def _torch():
    import torch

    return torch


def _activation_kinds() -> Tuple[tuple, tuple, tuple]:
    nn = _torch().nn
    names_relu = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Hardswish"]
    names_tanh = ["Tanh", "Hardtanh", "Softsign", "Tanhshrink"]
    names_sigmoid = ["Sigmoid", "Hardsigmoid"]
    pick = lambda names: tuple(getattr(nn, n) for n in names if hasattr(nn, n))  # noqa: E731
    relu = pick(names_relu)
    tanh = tuple(c for c in pick(names_tanh) if c.__name__ != "Tanhshrink")
    return relu, tanh, pick(names_sigmoid)


def _std_mean(x: Any):
    # Two plain reductions: torch.std_mean measured 5x slower on CPU (torch 1.13, a 128x64 tensor).
    return x.std(unbiased=False), x.mean()


def _norm(x: Any):
    return _torch().linalg.vector_norm(x)


def _weighted_layer(module: Any) -> bool:
    torch = _torch()
    nn = torch.nn
    return isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)) and isinstance(getattr(module, "weight", None), nn.Parameter)


def _device_histogram(x: Any, bins: int = HIST_BINS, sync_free: Optional[bool] = None):
    """Histogram on the tensor's own device, without reading anything back (no host sync).

    Returns (edges, counts); non-finite values are left out. The range is the finite min..max.
    `sync_free` forces the accelerator path (default: on for every device but the CPU).
    """
    torch = _torch()
    x = x.detach().reshape(-1)
    if x.numel() > HIST_MAX_ELEMENTS:  # a strided sample keeps the shape of the distribution
        x = x[:: x.numel() // HIST_MAX_ELEMENTS + 1]
    x = x.float()
    if not (sync_free if sync_free is not None else x.device.type != "cpu"):
        return _cpu_histogram(x, bins)
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


def _cpu_histogram(x: Any, bins: int):
    # On the CPU, reading min/max costs no sync, and histc is 5x faster than the scatter above.
    torch = _torch()
    finite = torch.isfinite(x)
    if not bool(finite.all()):
        x = x[finite]
    if x.numel() == 0:
        return [0.0, 1.0], [0.0]
    lo, hi = (float(v) for v in torch.aminmax(x))
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(x, bins=bins, min=lo, max=hi)
    width = hi / bins - lo / bins
    edges = [min(lo + i * width, hi) for i in range(bins)] + [hi]
    return edges, counts


class _Probe:
    """Receives the step of the first log() call after a measuring iteration began."""

    __slots__ = ("step", "watcher")

    def __init__(self, watcher: Any = None) -> None:
        self.step: Optional[int] = None
        self.watcher = watcher

    def filled(self) -> None:
        """Called by Run.log(): a finished iteration that waited for its step can be logged now."""
        w = self.watcher
        if w is not None and w.active and w._ready is not None and w._ready[4] is self:
            w._safe(w._emit_ready)


class Watcher:
    """Hooks on a model (and optionally its optimizer) that log layer statistics every `every` steps.

    Made by `babysit.watch()`; `unwatch()` removes every hook it added.
    """

    def __init__(self, run: Any, model: Any, optimizer: Any = None, every: int = 10, hist_every: Optional[int] = None,
                 log_lr: bool = True, name: Optional[str] = None):
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise TypeError("watch() takes a torch.nn.Module, got %s" % type(model).__name__)
        every = int(every)
        if every < 1:
            raise ValueError("every must be >= 1, got %d" % every)
        if hist_every is None:
            hist_every = every * 10
        self.run = run
        self.model = model
        self.optimizer = optimizer
        self.every = every
        self.hist_every = int(hist_every)  # 0 turns histograms off
        self.log_lr = log_lr
        self.active = True
        self._warner: OnceWarner = getattr(run, "_warner", OnceWarner())
        self._relu, self._tanh, self._sigmoid = _activation_kinds()

        inner = model
        if type(model).__name__ in ("DataParallel", "DistributedDataParallel") and hasattr(model, "module"):
            inner = model.module  # names without the wrapper's "module." prefix
        self._layers: List[Tuple[str, Any]] = []
        self._layer_names: Dict[int, Tuple[str, bool]] = {}
        self._acts: List[Tuple[str, Any, str]] = []
        root_name = type(inner).__name__.lower()
        conv = torch.nn.modules.conv._ConvNd
        prefix = name + "." if name else ""  # two watched models (a GAN) need different keys
        self._lr_prefix = prefix
        for mod_name, m in inner.named_modules():
            name = prefix + (mod_name or root_name)
            if _weighted_layer(m):
                self._layers.append((name, m))
                self._layer_names[id(m)] = (name, isinstance(m, conv))
            kind = self._act_kind(m)
            if kind is not None:
                self._acts.append((name, m, kind))
        if not self._layers and not self._acts:
            self._warner.say("watch-empty", "watch(): %s has no Linear/Conv layers nor activation modules; nothing to measure"
                             % type(model).__name__)
        elif not self._acts:
            self._warner.say("watch-noact", "watch(): %s has no activation modules (nn.ReLU, nn.Tanh, ...); activation "
                             "statistics need them (functional F.relu calls cannot be hooked)" % type(model).__name__)

        self._count = 0  # iterations seen since watch(): optimizer steps, or training forwards without optimizer
        self._win_open = False
        self._win_scalars = False
        self._win_hists = False
        self._win_index = 0
        self._probe = _Probe(self)  # gets the step of the loop's log() call for the measuring iteration
        # Measurements of the iteration in progress: activations by key (a later forward of the same
        # iteration replaces them), layer statistics in order, histograms by key.
        self._acts_now: Dict[str, Any] = {}
        self._keys: List[str] = []
        self._vals: List[Any] = []
        self._lr: List[Tuple[str, Any]] = []
        self._hists: Dict[str, Tuple[Any, Any]] = {}
        # A measured iteration waiting for its step: (keys, values, hists, lrs, probe, index).
        self._ready: Optional[Tuple[Any, ...]] = None
        self._snap: Dict[str, Any] = {}
        self._grad_handles: List[Any] = []
        self._fwd_handles: List[Any] = []
        self._last_layer: Optional[Tuple[str, bool]] = None
        self._used_labels: set = set()
        self._last_label: Optional[int] = None
        self._last_label_index = 0

        self._root_handles = [
            model.register_forward_pre_hook(self._on_root_pre),
            model.register_forward_hook(self._on_root_post),
        ]
        self._opt_handles: List[Any] = []
        self._opt_restore: Optional[Tuple[bool, Any, Any]] = None
        if optimizer is not None:
            self._hook_optimizer(optimizer)

    def _act_kind(self, m: Any) -> Optional[str]:
        if isinstance(m, self._relu):
            return "relu"
        if isinstance(m, self._tanh):
            return "tanh"
        if isinstance(m, self._sigmoid):
            return "sigmoid"
        return None

    # ------------------------------------------------------------------ optimizer

    def _hook_optimizer(self, opt: Any) -> None:
        if hasattr(opt, "register_step_pre_hook") and hasattr(opt, "register_step_post_hook"):  # torch >= 2
            self._opt_handles = [
                opt.register_step_pre_hook(lambda o, a, k: self._safe(self._pre_step)),
                opt.register_step_post_hook(lambda o, a, k: self._safe(self._post_step)),
            ]
            return
        # torch 1.x: wrap optimizer.step on the instance. It must stay a bound method with the same
        # _with_counter marker, because LR schedulers inspect and wrap optimizer.step themselves.
        import types

        had_own = "step" in opt.__dict__
        orig = opt.step
        watcher = self

        def step(_opt, *args, **kwargs):
            if watcher.active:
                watcher._safe(watcher._pre_step)
            out = orig(*args, **kwargs)
            if watcher.active:
                watcher._safe(watcher._post_step)
            return out

        if getattr(orig, "_with_counter", False):
            step._with_counter = True  # type: ignore[attr-defined]
        bound = types.MethodType(step, opt)
        opt.step = bound
        self._opt_restore = (had_own, orig, bound)

    def _unhook_optimizer(self) -> None:
        for h in self._opt_handles:
            h.remove()
        self._opt_handles = []
        if self._opt_restore is not None and self.optimizer is not None:
            had_own, orig, bound = self._opt_restore
            if self.optimizer.__dict__.get("step") is bound:
                if had_own:
                    self.optimizer.step = orig
                else:
                    del self.optimizer.__dict__["step"]
            # else something (an LR scheduler) wrapped our wrapper: leave it, it is a no-op when inactive
            self._opt_restore = None

    def _safe(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as err:  # statistics must never break training
            self._warner.say("watch:%s:%s" % (getattr(fn, "__name__", "?"), type(err).__name__),
                             "watch() skipped some statistics: %r" % (err,))

    # ------------------------------------------------------------------ windows

    def _training(self, module: Any) -> bool:
        return self.active and module.training and _torch().is_grad_enabled()

    def _on_root_pre(self, module: Any, inputs: Any) -> None:
        if not self._training(module):
            return
        self._safe(self._root_pre)

    def _root_pre(self) -> None:
        self._detach_forward_hooks()  # stale ones, if the previous forward raised
        if self.optimizer is None:
            # No optimizer to hook: an iteration runs from one training forward to the next.
            if self._win_open:
                self._close_window()
            self._open_window()
            self._count += 1
        else:
            # An iteration runs from one optimizer step to the next. A finished one is logged once
            # the loop's log() call has told its step (see _Probe.filled).
            if self._ready is not None and self._ready[4].step is not None:
                self._emit_ready()
            if not self._win_open:
                self._open_window()
            elif self._win_scalars or self._win_hists:
                # Another forward before the step (gradient accumulation, a GAN's discriminator run
                # on fakes then on reals): the last one before the step is the one measured, and the
                # step to use is the one logged after it.
                self._new_probe()
        if self._win_scalars or self._win_hists:
            self._last_layer = None
            self._used_labels = set()
            for _, m in self._layers:
                self._fwd_handles.append(m.register_forward_hook(self._on_layer))
            for name, m, kind in self._acts:
                self._fwd_handles.append(m.register_forward_hook(self._make_act_hook(name, kind)))

    def _on_root_post(self, module: Any, inputs: Any, output: Any) -> None:
        if self._fwd_handles:
            self._detach_forward_hooks()

    def _detach_forward_hooks(self) -> None:
        for h in self._fwd_handles:
            h.remove()
        self._fwd_handles = []

    def _new_probe(self) -> None:
        run = self.run
        if self._probe in run._open_probes:  # identity: _Probe has no __eq__
            run._open_probes.remove(self._probe)
        self._probe = _Probe(self)
        run._open_probes.append(self._probe)

    def _open_window(self) -> None:
        torch = _torch()
        i = self._count
        self._win_open = True
        self._win_scalars = i % self.every == 0
        self._win_hists = self.hist_every > 0 and i % self.hist_every == 0
        if not (self._win_scalars or self._win_hists):
            return
        if self._ready is not None:  # its step never came: log it with a best guess before measuring again
            self._emit_ready()
        self._win_index = i
        self._new_probe()
        if self.optimizer is None:
            # The update is what changes between this forward and the next one.
            with torch.no_grad():
                self._snapshot_weights()
                for name, m in self._layers:
                    w = m.weight
                    if w.requires_grad:
                        self._grad_handles.append(w.register_hook(self._make_grad_hook(name)))

    def _finish_window(self) -> None:
        """The measured iteration is complete: set its measurements aside until its step is known."""
        if self._ready is not None:
            self._emit_ready()
        keys = list(self._acts_now) + self._keys
        vals = list(self._acts_now.values()) + self._vals
        if keys or self._hists or self._lr:
            self._ready = (keys, vals, list(self._hists.items()), self._lr, self._probe, self._win_index)
        self._acts_now, self._keys, self._vals, self._hists, self._lr = {}, [], [], {}, []
        self._win_scalars = self._win_hists = False

    def _close_window(self) -> None:
        """Without optimizer: the next forward closes the iteration; measure the update, log it."""
        torch = _torch()
        for h in self._grad_handles:
            h.remove()
        self._grad_handles = []
        measured = self._win_scalars or self._win_hists
        if self._snap or self._win_hists:
            with torch.no_grad():
                self._measure_update()
                self._measure_weights()
        self._win_open = False
        if measured:
            self._finish_window()
            self._emit_ready()

    def _pre_step(self) -> None:
        if not self.active or not self._win_open or not (self._win_scalars or self._win_hists):
            return
        torch = _torch()
        with torch.no_grad():
            for name, m in self._layers:
                g = m.weight.grad
                if g is not None:
                    self._grad_stats(name, g)
            self._snapshot_weights()

    def _post_step(self) -> None:
        if not self.active:
            return
        torch = _torch()
        if self._win_open and (self._win_scalars or self._win_hists):
            with torch.no_grad():
                self._measure_update()
                self._measure_weights()
                if self.log_lr and self._win_scalars:
                    for i, group in enumerate(self.optimizer.param_groups):
                        lr = group.get("lr")
                        if lr is not None:
                            key = "lr" if i == 0 else "lr/group%d" % i
                            self._lr.append((key if not self._lr_prefix else "%s/%s" % (key, self._lr_prefix[:-1]), lr))
            self._finish_window()
            if self._ready is not None and self._ready[4].step is not None:
                self._emit_ready()  # the loop logged before the step: its step is known already
        elif self._ready is not None and self._count > self._ready[5]:
            # A whole further iteration went by without a log() call: stop waiting, guess the step.
            self._emit_ready()
        self._win_open = False
        self._count += 1

    # ------------------------------------------------------------------ measurements

    def _put(self, key: str, value: Any) -> None:
        self._keys.append(key)
        self._vals.append(value)

    def _snapshot_weights(self) -> None:
        if self._win_scalars:
            self._snap = {name: m.weight.detach().clone() for name, m in self._layers}

    def _measure_update(self) -> None:
        if not self._win_scalars:
            self._snap = {}
            return
        for name, m in self._layers:
            before = self._snap.get(name)
            if before is None:
                continue
            w = m.weight.detach()
            if w.shape != before.shape:
                continue
            before = before.float()
            ratio = _norm(w.float() - before) / _norm(before)
            self._put("update_ratio/" + name, ratio)
        self._snap = {}

    def _measure_weights(self) -> None:
        for name, m in self._layers:
            w = m.weight.detach()
            if self._win_scalars:
                std, mean = _std_mean(w.float())
                self._put("weight/%s/mean" % name, mean)
                self._put("weight/%s/std" % name, std)
            if self._win_hists:
                self._hists["weight/" + name] = _device_histogram(w)

    def _grad_stats(self, name: str, g: Any) -> None:
        g = g.detach()
        if self._win_scalars:
            gf = g.float()
            self._put("grad/%s/std" % name, gf.std(unbiased=False))
            self._put("grad/%s/norm" % name, _norm(gf))
        if self._win_hists:
            self._hists["grad/" + name] = _device_histogram(g)

    def _make_grad_hook(self, name: str):
        done = [False]

        def hook(grad):
            if done[0] or not self.active:
                return None
            done[0] = True
            with _torch().no_grad():
                self._safe(self._grad_stats, name, grad)
            return None

        return hook

    def _on_layer(self, module: Any, inputs: Any, output: Any) -> None:
        self._last_layer = self._layer_names.get(id(module))

    def _make_act_hook(self, name: str, kind: str):
        def hook(module, inputs, output):
            self._safe(self._act_stats, name, kind, output)

        return hook

    def _act_stats(self, name: str, kind: str, output: Any) -> None:
        torch = _torch()
        if not isinstance(output, torch.Tensor) or not output.is_floating_point() or output.numel() == 0:
            return
        label, is_conv = name, False
        if self._last_layer is not None and self._last_layer[0] not in self._used_labels:
            label, is_conv = self._last_layer
        n = 1
        while label in self._used_labels:  # one module used twice in forward() with no layer between
            n += 1
            label = "%s#%d" % (name, n)
        self._used_labels.add(label)
        with torch.no_grad():
            x = output.detach()
            xf = x.float()
            if self._win_scalars:
                acts = self._acts_now
                std, mean = _std_mean(xf)
                acts["act/%s/mean" % label] = mean
                acts["act/%s/std" % label] = std
                if kind == "relu":
                    if xf.dim() >= 2:
                        unit_dim = 1 if is_conv else xf.dim() - 1
                        other = [d for d in range(xf.dim()) if d != unit_dim]
                        alive = xf.amax(dim=other) > 0
                        acts["act/%s/dead_frac" % label] = 1.0 - alive.float().mean()
                    else:
                        acts["act/%s/dead_frac" % label] = (xf <= 0).float().mean()
                elif kind == "tanh":
                    acts["act/%s/saturated_frac" % label] = (xf.abs() > 0.99).float().mean()
                else:
                    acts["act/%s/saturated_frac" % label] = ((xf < 0.01) | (xf > 0.99)).float().mean()
            if self._win_hists:
                self._hists["act/" + label] = _device_histogram(x)

    # ------------------------------------------------------------------ emit

    def _label(self, probe: "_Probe", index: int) -> int:
        """The step of an iteration: the step the loop logged in it, else a best guess."""
        run = self.run
        if probe in run._open_probes:  # identity: _Probe has no __eq__
            run._open_probes.remove(probe)
        if probe.step is not None:
            step = probe.step
        elif self._last_label is not None:
            step = max(run._next_step(), self._last_label + (index - self._last_label_index))
        else:
            step = run._next_step()
        self._last_label, self._last_label_index = step, index
        return step

    def _emit_ready(self) -> None:
        ready, self._ready = self._ready, None
        if ready is None:
            return
        keys, vals, hists, lrs, probe, index = ready
        torch = _torch()
        step = self._label(probe, index)
        by_device: Dict[Any, Tuple[List[str], List[Any]]] = {}
        for k, v in zip(keys, vals):
            group = by_device.setdefault(v.device, ([], []))
            group[0].append(k)
            group[1].append(v)
        hist_items = [(k, e, c) for k, (e, c) in hists]
        first = True
        for ks, vs in by_device.values():
            try:
                stacked = torch.stack(vs)  # every statistic is a 0-dim float32: one read-back per device
            except RuntimeError:
                stacked = torch.stack([v.reshape(()).float() for v in vs])
            self.run._log_stats(step, ks, stacked, hist_items if first else [])
            first = False
        if first and hist_items:
            self.run._log_stats(step, [], [], hist_items)
        plain = [(k, v) for k, v in lrs if not isinstance(v, torch.Tensor)]
        if plain:
            self.run._log_stats(step, [k for k, _ in plain], [float(v) for _, v in plain], [])
        for k, v in lrs:
            if isinstance(v, torch.Tensor):  # a tensor learning rate (capturable optimizers)
                self.run._log_stats(step, [k], v.detach().reshape(1).float().clone(), [])

    def unwatch(self) -> None:
        """Removes every hook and logs what the current iteration had measured so far."""
        if not self.active:
            return
        try:
            self._detach_forward_hooks()
            for h in self._grad_handles:
                h.remove()
            self._grad_handles = []
            for h in self._root_handles:
                h.remove()
            self._root_handles = []
            self._unhook_optimizer()
            if self.optimizer is None and self._win_open:
                self._close_window()
            else:
                self._emit_ready()
                if self._acts_now or self._keys or self._hists:  # measured a forward, but no step came
                    self._finish_window()
                    self._emit_ready()
        finally:
            self.active = False
            self._snap = {}
            if self._probe in self.run._open_probes:
                self.run._open_probes.remove(self._probe)

    def __repr__(self) -> str:
        return "<babysit.Watcher %s every=%d hist_every=%d layers=%d activations=%d>" % (
            type(self.model).__name__, self.every, self.hist_every, len(self._layers), len(self._acts))
