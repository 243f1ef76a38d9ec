"""watch(): per-layer statistics of a torch model, computed every N steps on the model's device.

What is measured, per training iteration that is a multiple of `every`:
- layers with weights (Linear, Conv*): ``update_ratio/<layer>`` = ||W_after - W_before|| / ||W_before||
  around the optimizer step, ``weight/<layer>/{mean,std}`` (of the weights the iteration's forward
  used, before its update), ``grad/<layer>/{std,norm}``;
- activation modules: ``act/<name>/{mean,std}``, plus ``act/<name>/dead_frac`` for the ReLU family
  (share of units that are <= 0 for every example of the minibatch) or ``act/<name>/saturated_frac``
  for tanh-like (|a| > 0.99) and sigmoid-like (a < 0.01 or a > 0.99) ones;
- ``lr`` (the first parameter group's learning rate) when an optimizer is given;
- every `hist_every` iterations, histograms ``act/<name>``, ``grad/<layer>``, ``weight/<layer>``.

An activation is named after the layer with weights that ran just before it (``act/fc1`` is the
activation of ``fc1``'s output, like ``update_ratio/fc1``); one with no such layer before it keeps its
own module name. Only activation *modules* are seen: ``torch.relu(x)`` / ``F.relu(x)`` in forward()
leave no trace a hook can catch.

Cost
----
With an optimizer, the iterations that do not measure run no module hook at all: the wrapped
``optimizer.step`` (its step hooks on torch 2) counts the step and, when the next iteration is one to
measure, arms a forward pre-hook on the model. That hook adds one global module forward hook (one to
add and remove, whatever the size of the model) for the training forwards of that iteration; it comes
off at its optimizer step. (Without an optimizer, a forward pre-hook that counts training forwards
stays on the model.)

A measuring iteration reduces each tensor to raw numbers: a sum and a 2-norm (one pass each; mean =
sum/n and std = sqrt(sumsq/n - mean^2) are finished on the host), a count for dead/saturated
fractions, and ||W_before - W_after|| from a snapshot of the weights kept in buffers allocated once
and refilled with ``copy_``. Models of FLAT_MIN_LAYERS layers or more (2 on accelerators) and up to
FLAT_MAX_ELEMENTS weights, where per-kernel overhead dominates, keep the weights and gradients of all
layers as the rows of one zero-padded buffer: a handful of kernels then reduce every layer at once.
Others reduce layer by layer, with ``torch._foreach_norm`` / ``_foreach_sub_`` where torch has them.
On accelerators an activation takes two kernels: ``var_mean`` and the units' maxima (the sender
counts the dead ones). Nothing is read back in the training loop: the raw numbers (and histograms) of
an iteration go to the background sender, which reads them in one transfer per device and does the
last bits of arithmetic.

On the CPU, where there is no device to queue work on, the loop only copies: the gradients, W_before
and W_after of models up to DEFER_MAX_ELEMENTS weights into pooled three-row buffers, each activation
into a clone, and the sender thread makes the sums, norms and counts when it reads the iteration
(within DEFER_BYTES of copies waiting per watcher; beyond, the loop reduces them itself). CPU
histograms are binned there too, from a copy (up to HIST_DEFER_ELEMENTS values per iteration).

Layout: this module holds the Watcher (hooks, measuring windows, what to log); _reduce.py the
reductions, all-layer buffers and read-backs; _histogram.py the histograms.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _values as V
from ._output import OnceWarner

from ._histogram import (  # noqa: F401 (tests import some of these from here)
    HIST_BINS,
    _CpuHist,
    _CpuHistPart,
    _RangeEdges,
    _cpu_histogram,
    _device_histogram,
    _edges,
    _hist_input,
    _sync_free_histogram,
)
from ._reduce import (  # noqa: F401
    DEFER_MAX_ELEMENTS,
    FLAT_MIN_LAYERS,
    _ALIVE,
    _Budget,
    _CONST,
    _DEAD,
    _FRAC,
    _Flat,
    _Later,
    _MEAN,
    _NORM,
    _Pack,
    _RATIO,
    _SQRT,
    _STD,
    _Slice,
    _VALUE,
    _acc,
    _const,
    _copy_,
    _low,
    _norms,
    _sub_,
    _torch,
    _read_all,
)

HIST_DEFER_ELEMENTS = 1 << 22  # CPU values per iteration copied for the sender to histogram
DEFER_BYTES = 32 << 20  # CPU: copies waiting for the sender thread, per watcher; beyond, the loop reduces

# every key watch() logs for a module named %s (an activation used twice gets "#2", "#3", ...)
_KEY_TEMPLATES = ("update_ratio/%s", "weight/%s/mean", "weight/%s/std", "grad/%s/std", "grad/%s/norm",
                  "act/%s#99/mean", "act/%s#99/saturated_frac", "act/%s#99/dead_frac")


def _name_problem(name: str) -> Optional[str]:
    """Why a module's name cannot be part of a metric key (too long, control characters), or None."""
    for template in _KEY_TEMPLATES:
        problem = V.key_problem(template % name)
        if problem is not None:
            return "its keys, such as %r, break the wire contract (%s)" % ((template % name)[:80], problem)
    return None


_OTHER_DIMS: Dict[Tuple[int, int], List[int]] = {}  # (ndim, unit dim) -> the dims a dead unit is <= 0 over


def _activation_kinds() -> Tuple[tuple, tuple, tuple]:
    nn = _torch().nn
    names_relu = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Hardswish"]
    names_tanh = ["Tanh", "Hardtanh", "Softsign", "Tanhshrink"]
    names_sigmoid = ["Sigmoid", "Hardsigmoid"]
    pick = lambda names: tuple(getattr(nn, n) for n in names if hasattr(nn, n))  # noqa: E731
    relu = pick(names_relu)
    tanh = tuple(c for c in pick(names_tanh) if c.__name__ != "Tanhshrink")
    return relu, tanh, pick(names_sigmoid)


def _weighted_layer(module: Any) -> bool:
    torch = _torch()
    nn = torch.nn
    return isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)) and isinstance(getattr(module, "weight", None), nn.Parameter)


def _eager(fn: Callable[..., Any], watcher: Any) -> Callable[..., Any]:
    """fn, kept out of torch.compile's tracing (a graph break around it) where torch has that. The
    result has the Watcher as __self__, like a bound method, which is how checks.py tells watch()'s
    hooks apart (to keep them off a deep copy)."""
    compiler = getattr(_torch(), "compiler", None)
    disable = getattr(compiler, "disable", None) if compiler is not None else None
    if disable is None:
        return fn
    wrapped = disable(fn)
    try:
        wrapped.__self__ = watcher
    except (AttributeError, TypeError):
        pass
    return wrapped


def _act_count(x: Any, kind: str, other: Optional[List[int]]) -> Any:
    """The count behind dead_frac / saturated_frac: alive units (over `other` dims), or units <= 0, or
    saturated values."""
    torch = _torch()
    if kind == "relu0" or kind == "relu":
        if other is not None:
            # Alive units: not <= 0 for every example of the minibatch (a NaN is not <= 0).
            top = x.amax(dim=other)
            return torch.count_nonzero(top if kind == "relu0" else top.clamp_min_(0.0))
        return torch.count_nonzero(x <= _const(0.0))
    if kind == "tanh":
        return torch.count_nonzero(x.abs() > _const(0.99))
    return torch.count_nonzero((x < _const(0.01)) | (x > _const(0.99)))


# ---------------------------------------------------------------------- watcher


class _Probe:
    """Receives the step of the first log() call after a measuring iteration began."""

    __slots__ = ("step", "watcher")

    def __init__(self, watcher: Any = None) -> None:
        self.step: Optional[int] = None
        self.watcher = watcher

    def filled(self) -> None:
        """Called by Run.log(): a finished iteration that waited for its step can be logged now."""
        w = self.watcher
        if w is not None and w.active and w._win.ready is not None and w._win.ready.probe is self:
            w._safe(w._emit_ready)


class _Ready:
    """A measured iteration waiting for its step."""

    __slots__ = ("keys", "pack", "hists", "probe", "index")

    def __init__(self, keys: List[str], pack: _Pack, hists: List[Any], probe: _Probe, index: int) -> None:
        self.keys, self.pack, self.hists, self.probe, self.index = keys, pack, hists, probe, index


class _Layer:
    __slots__ = ("name", "module", "params", "is_conv", "k_ratio", "k_wmean", "k_wstd", "k_gstd", "k_gnorm", "h_grad",
                 "h_weight")

    def __init__(self, name: str, module: Any, is_conv: bool) -> None:
        self.name, self.module, self.is_conv = name, module, is_conv
        self.params = module._parameters  # module.weight without nn.Module.__getattr__ (a Python call)
        self.k_ratio = "update_ratio/" + name
        self.k_wmean, self.k_wstd = "weight/%s/mean" % name, "weight/%s/std" % name
        self.k_gstd, self.k_gnorm = "grad/%s/std" % name, "grad/%s/norm" % name
        self.h_grad, self.h_weight = "grad/" + name, "weight/" + name


class _Window:
    """Where the watcher is in the training loop: iterations counted, the measuring window (an iteration
    that measures, its scalars and histograms), the probe that learns the loop's step for it, and how
    activations are labelled by the layer that ran before them."""

    __slots__ = ("count", "open", "scalars", "hists", "index", "probe", "ready", "last_layer", "used_labels",
                 "last_label", "last_label_index")

    def __init__(self, watcher: Any) -> None:
        self.count = 0  # iterations seen since watch(): optimizer steps, or training forwards without optimizer
        self.open = False
        self.scalars = False
        self.hists = False
        self.index = 0
        self.probe = _Probe(watcher)  # gets the step of the loop's log() call for the measuring iteration
        self.ready: Optional[_Ready] = None
        self.last_layer: Optional[Tuple[str, bool]] = None
        self.used_labels: set = set()
        self.last_label: Optional[int] = None
        self.last_label_index = 0


class _Iteration:
    """Measurements of the iteration in progress. Raw device tensors of sums and norms, whose values the
    recipes index in order (raw_len of them so far); 0-dim integer counts; histogram tensors. What to
    log: activations by key (a later forward of the same iteration replaces them), layer statistics in
    order, histograms by key as (edges, counts) parts."""

    __slots__ = ("raw", "raw_len", "cnt", "vec", "acts_now", "keys", "recipes", "lr", "hists", "deferred", "act_keys")

    def __init__(self) -> None:
        self.raw: List[Any] = []
        self.raw_len = 0
        self.cnt: List[Any] = []
        self.vec: List[Any] = []
        self.acts_now: Dict[str, Tuple[int, int, int, Any]] = {}
        self.keys: List[str] = []
        self.recipes: List[Tuple[int, int, int, Any]] = []
        self.lr: List[Tuple[str, Any]] = []
        self.hists: Dict[str, Tuple[Any, Any]] = {}
        self.deferred = 0  # CPU values copied for the sender to histogram, this iteration
        self.act_keys: Dict[str, Tuple[str, str, str, str, str]] = {}


class _Before:
    """The weights before the update, for update_ratio: buffers allocated once, refilled by copy_. On the
    CPU the all-layer buffers of copies come back to `pool` once the sender read them; `release` is what
    the next pack gives back."""

    __slots__ = ("flat", "bufs", "norms", "kind", "snap_flat", "pool", "release")

    def __init__(self) -> None:
        self.flat: Optional[_Flat] = None
        self.bufs: List[Any] = []
        self.norms: List[int] = []
        self.kind: Optional[str] = None  # "flat", "layers", "deferred", or None when there is no snapshot
        self.snap_flat: Optional[_Flat] = None
        self.pool: List[_Flat] = []
        self.release: List[Callable[[], None]] = []


class _Hooks:
    """Handles of every hook the watcher added, so that unwatch() removes them all."""

    __slots__ = ("grad", "fwd", "root", "opt", "opt_restore")

    def __init__(self) -> None:
        self.grad: List[Any] = []
        self.fwd: List[Any] = []
        self.root: List[Any] = []
        self.opt: List[Any] = []
        self.opt_restore: Optional[Tuple[bool, Any, Any]] = None


NO_EVAL_MODE = ("watch(): the model ran under torch.no_grad() in training mode (an evaluation without model.eval()?): "
                "dropout and batch norm stay in training mode, and watch() does not describe those inputs as validation "
                "data (train_val_mismatch cannot be checked); call model.eval() before evaluating and model.train() after, "
                "or log_input_stats(x_val, split=\"val\")")

INPUT_VAL_MIN_BATCH = 32  # an evaluation batch smaller than this and than the pass's largest is not kept


def _batch_of(inputs: Any) -> Any:
    """The batch a forward was given, when it is one input_stats can describe: the first positional
    argument that is a tensor, if it is floating-point with >= 2 dimensions and >= 2 examples; else
    None (token ids, a single example, a forward called with no tensor)."""
    torch = _torch()
    for a in inputs if isinstance(inputs, tuple) else (inputs,):
        if isinstance(a, torch.Tensor):
            if a.is_floating_point() and a.dim() >= 2 and a.shape[0] >= 2 and a.shape[1] >= 1 and a.numel() > 0:
                return a
            return None
    return None


class _TrainSwitch:
    """Stands in for ``model.train`` on the watched model instance (``model.eval()`` calls it too):
    tells the watcher where evaluation passes begin and end. Copied or pickled, the model gets its
    class's plain ``train`` back, so a saved model does not need babysit to load."""

    __slots__ = ("inputs", "model", "orig")

    def __init__(self, inputs: "_Inputs", model: Any, orig: Any) -> None:
        self.inputs, self.model, self.orig = inputs, model, orig

    def __call__(self, mode: bool = True) -> Any:
        out = self.orig(mode)
        ins = self.inputs
        if ins.watcher.active:
            ins.watcher._safe(ins.switched, bool(mode))
        return out

    def __reduce__(self) -> Any:
        return (getattr, (self.model, "train"))


class _Inputs:
    """Input statistics seen by watch(): one ``input_stats`` event of a training batch at the first
    measuring iteration and at the first one after each evaluation pass, and one with ``split: "val"``
    per evaluation pass. An evaluation pass runs from ``model.eval()`` (``train(False)``) to
    ``model.train()``; a forward pre-hook is on the model only during it, and keeps (by reference, no
    copy) the pass's last batch of at least min(INPUT_VAL_MIN_BATCH, its largest) examples: evaluating
    the training set and then the validation set in one pass describes the validation set, and a last
    partial batch of a few examples is not what is described. Its statistics are sent when the pass ends."""

    __slots__ = ("watcher", "train_due", "features", "hook", "eval_hook", "last", "largest", "switch", "had_own",
                 "readers")

    def __init__(self, watcher: "Watcher") -> None:
        self.watcher = watcher
        self.train_due = True  # the next training forward the root hook sees is described
        self.features: Optional[int] = None  # of the training batches: a validation batch must match
        self.hook: Any = None
        # a method of the Watcher, as every watch() hook is: checks.py finds them by that to keep them off
        # a deep copy (gradcheck during an evaluation pass)
        self.eval_hook = _eager(watcher._on_eval_pre, watcher)
        self.last: Any = None
        self.largest = 0
        self.readers: List[Any] = []  # accelerators: threads reading statistics back
        model = watcher.model
        self.had_own = "train" in model.__dict__
        self.switch: Optional[_TrainSwitch] = _TrainSwitch(self, model, model.train)
        model.__dict__["train"] = self.switch
        if not model.training:  # watched while in eval mode: that pass counts too
            self.switched(False)

    def switched(self, training: bool) -> None:
        if not training:
            if self.hook is None:
                self.last, self.largest = None, 0
                self.hook = self.watcher.model.register_forward_pre_hook(self.eval_hook)
        elif self.hook is not None:
            self.end_pass()

    def on_eval_pre(self, module: Any, inputs: Any) -> None:
        try:
            if not self.watcher.active:
                return
            if module.training:  # back to training without train(): the pass is over
                self.end_pass()
                return
            x = _batch_of(inputs)
            if x is None:
                return
            n = int(x.shape[0])
            if n > self.largest:
                self.largest = n
            if n >= min(self.largest, INPUT_VAL_MIN_BATCH):
                self.last = x
        except Exception as err:  # statistics must never break evaluation
            self.watcher._skipped(self.on_eval_pre, err)

    def end_pass(self) -> None:
        if self.hook is not None:
            self.hook.remove()
            self.hook = None
        x, self.last = self.last, None
        self.train_due = True  # the training batches after an evaluation: once an epoch, in step with it
        if x is not None:
            self.send(x, "val")

    def send(self, x: Any, split: Optional[str]) -> None:
        """One input_stats event of batch x; nothing for a batch of another feature count than the
        training batches (validation of another shape is not comparable) or beyond statsFeaturesMax."""
        if x is None:
            return
        from . import _contract
        from .checks import tensor_moments

        features = int(x.shape[1])
        if features > _contract.LIMITS["statsFeaturesMax"]:
            return
        if split is None:
            self.features = features
        elif self.features is not None and features != self.features:
            return
        torch = _torch()
        with torch.no_grad():
            t = x.detach()
            if t.dtype not in (torch.float32, torch.float64):
                t = t.float()  # half precision: sums in float32
            std, mean = tensor_moments(t)
        run = self.watcher.run
        step = run._current_step()
        data: Dict[str, Any] = {"n": int(x.shape[0]), "source": "watch"}
        if split is not None:
            data["split"] = split

        def emit() -> None:
            data["mean"], data["std"] = mean.cpu().tolist(), std.cpu().tolist()
            run.event("input_stats", data, step=step)

        from . import _reduce

        if t.device.type == "cpu" and _reduce.CPU_READ_EACH:
            emit()
        else:
            # reading back waits for the device: done on a thread of its own, off the training loop
            import threading

            reader = threading.Thread(target=self.watcher._safe, args=(emit,), daemon=True, name="babysit-input-stats")
            reader.start()
            self.readers = [r for r in self.readers if r.is_alive()] + [reader]

    def close(self) -> None:
        """unwatch(): a pass still open is described, and ``train`` is the model's own again."""
        if self.hook is not None:
            self.end_pass()
        for r in self.readers:  # finish() unwatches: what is being read back still goes with the run
            r.join(5.0)
        self.readers = []
        model = self.watcher.model
        if self.switch is not None and model.__dict__.get("train") is self.switch:
            if self.had_own:
                model.__dict__["train"] = self.switch.orig
            else:
                del model.__dict__["train"]
        self.switch = None


class Watcher:
    """Hooks on a model (and optionally its optimizer) that log layer statistics every `every` steps.

    Made by `babysit.watch()`; `unwatch()` removes every hook it added.
    """

    # Tests set these: the accelerator's histogram path on the CPU, the per-layer path on a small model,
    # reductions in the training loop on the CPU.
    _sync_free_hist: Optional[bool] = None
    _flat_ok = True
    _defer_ok = True
    _fused_act: Optional[bool] = None  # activations in two kernels (var_mean, amax): on accelerators

    def __init__(self, run: Any, model: Any, optimizer: Any = None, every: int = 10, hist_every: Optional[int] = None,
                 log_lr: bool = True, name: Optional[str] = None, input_stats: bool = True):
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
        while True:  # names without a wrapper's "module." or "_orig_mod." prefix
            if type(inner).__name__ in ("DataParallel", "DistributedDataParallel") and hasattr(inner, "module"):
                inner = inner.module
            elif type(inner).__name__ == "OptimizedModule" and hasattr(inner, "_orig_mod"):  # torch.compile
                inner = inner._orig_mod
            else:
                break
        self._layers: List[_Layer] = []
        self._acts: List[Tuple[str, Any, str]] = []
        root_name = type(inner).__name__.lower()
        conv = torch.nn.modules.conv._ConvNd
        prefix = name + "." if name else ""  # two watched models (a GAN) need different keys
        self._lr_prefix = prefix
        for mod_name, m in inner.named_modules():
            name = prefix + (mod_name or root_name)
            problem = _name_problem(name)
            if problem is not None and (_weighted_layer(m) or self._act_kind(m) is not None):
                # its series would make the server refuse every batch they ride in, with the user's own
                self._warner.say("watch-name:" + name, "watch(): module %r is not watched: %s" % (name[:80], problem))
                continue
            if _weighted_layer(m):
                self._layers.append(_Layer(name, m, isinstance(m, conv)))
            kind = self._act_kind(m)
            if kind is not None:
                self._acts.append((name, m, kind))
        # What the forward hook of a measuring iteration does for each module: a layer with weights
        # (name, is_conv), or an activation (name, kind); other modules are not in it.
        self._hooked: Dict[int, Tuple[bool, Any, Any]] = {}
        for lay in self._layers:
            self._hooked[id(lay.module)] = (True, (lay.name, lay.is_conv), None)
        for act_name, m, kind in self._acts:
            self._hooked[id(m)] = (False, act_name, kind)
        if not self._layers and not self._acts:
            self._warner.say("watch-empty", "watch(): %s has no Linear/Conv layers nor activation modules; nothing to measure"
                             % type(model).__name__)
        elif not self._acts:
            self._warner.say("watch-noact", "watch(): %s has no activation modules (nn.ReLU, nn.Tanh, ...); activation "
                             "statistics need them (functional F.relu calls cannot be hooked)" % type(model).__name__)

        self._model_summary(inner)

        self._win = _Window(self)
        self._it = _Iteration()
        self._before = _Before()
        self._hooks = _Hooks()
        # CPU: copies whose reductions the sender thread makes (see _Later), within a byte budget; their
        # all-layer buffers come back to the pool once read.
        self._budget = _Budget(DEFER_BYTES)
        self._last_path = ""  # how the last measured iteration reduced the layers (tests read it)

        # The hooks run eagerly even inside a torch.compile'd forward: traced, their bookkeeping would be
        # baked into the graph of the first measuring iteration and lost for the next ones.
        self._root_hook = _eager(self._on_root_pre, self)
        self._module_hook = _eager(self._on_module, self)
        self._inputs = _Inputs(self) if input_stats else None
        if optimizer is not None:
            self._hook_optimizer(optimizer)
            self._arm(self._measures(0))
        else:
            # Without an optimizer an iteration is a training forward: a pre-hook counts them.
            self._hooks.root = [model.register_forward_pre_hook(self._root_hook)]

    def _model_summary(self, inner: Any) -> None:
        """One ``model`` event: what the watched model is made of, beyond the layers watch() measures.

        ``{"params": trainable parameters, "params_watched": those of the Linear/Conv layers watch()
        measures, "weighted_layers": how many, "modules": {class name: count} of the leaf modules (at most
        32 classes)}``. The server reads a model whose every trainable parameter sits in one Linear layer
        as a linear model (a GRU or an embedding in front of a linear head is not one: its parameters are
        not watched). Never raises: a model it cannot read sends nothing.
        """
        try:
            total = sum(int(p.numel()) for p in inner.parameters() if p.requires_grad)
            watched = 0
            for lay in self._layers:
                watched += sum(int(p.numel()) for p in lay.module.parameters(recurse=False) if p.requires_grad)
            kinds: Dict[str, int] = {}
            for m in inner.modules():
                if next(m.children(), None) is not None:
                    continue  # containers: their leaves say what the model is
                k = type(m).__name__
                if k in kinds or len(kinds) < 32:
                    kinds[k] = kinds.get(k, 0) + 1
            self.run.event("model", {"params": total, "params_watched": watched, "weighted_layers": len(self._layers),
                                     "modules": kinds})
        except Exception as err:  # a model it cannot read: no summary, training goes on
            self._warner.say("watch-summary", "watch(): no model summary sent (%s)" % type(err).__name__)

    def _act_kind(self, m: Any) -> Optional[str]:
        if isinstance(m, self._relu):
            nn = _torch().nn
            # ReLU and ReLU6 give no negative values: a unit is alive where its max is not 0.
            return "relu0" if type(m) in (nn.ReLU, nn.ReLU6) else "relu"
        if isinstance(m, self._tanh):
            return "tanh"
        if isinstance(m, self._sigmoid):
            return "sigmoid"
        return None

    def _measures(self, i: int) -> bool:
        return i % self.every == 0 or (self.hist_every > 0 and i % self.hist_every == 0)

    def _arm(self, on: bool) -> None:
        """With an optimizer: the model's forward pre-hook is on only for the iterations that measure."""
        if on:
            if not self._hooks.root:
                self._hooks.root = [self.model.register_forward_pre_hook(self._root_hook)]
        elif self._hooks.root:
            for h in self._hooks.root:
                h.remove()
            self._hooks.root = []
            self._detach_forward_hooks()

    # ------------------------------------------------------------------ optimizer

    def _hook_optimizer(self, opt: Any) -> None:
        if hasattr(opt, "register_step_pre_hook") and hasattr(opt, "register_step_post_hook"):  # torch >= 2
            def pre(_opt, _args, _kwargs):
                if self._win.open and self.active:
                    self._safe(self._pre_step)

            def post(_opt, _args, _kwargs):
                if self.active:
                    self._safe(self._post_step)

            self._hooks.opt = [opt.register_step_pre_hook(pre), opt.register_step_post_hook(post)]
            return
        # torch 1.x: wrap optimizer.step on the instance. It must stay a bound method with the same
        # _with_counter marker, because LR schedulers inspect and wrap optimizer.step themselves.
        import types

        had_own = "step" in opt.__dict__
        orig = opt.step
        watcher = self

        def step(_opt, *args, **kwargs):
            if watcher._win.open and watcher.active:  # only an iteration that measures opens a window
                watcher._safe(watcher._pre_step)
            out = orig(*args, **kwargs)
            if watcher.active:
                watcher._safe(watcher._post_step)
            return out

        if getattr(orig, "_with_counter", False):
            step._with_counter = True  # type: ignore[attr-defined]
        bound = types.MethodType(step, opt)
        opt.step = bound
        self._hooks.opt_restore = (had_own, orig, bound)

    def _unhook_optimizer(self) -> None:
        for h in self._hooks.opt:
            h.remove()
        self._hooks.opt = []
        if self._hooks.opt_restore is not None and self.optimizer is not None:
            had_own, orig, bound = self._hooks.opt_restore
            if self.optimizer.__dict__.get("step") is bound:
                if had_own:
                    self.optimizer.step = orig
                else:
                    del self.optimizer.__dict__["step"]
            # else something (an LR scheduler) wrapped our wrapper: leave it, it is a no-op when inactive
            self._hooks.opt_restore = None

    def _safe(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as err:  # statistics must never break training
            self._skipped(fn, err)

    def _skipped(self, fn: Any, err: Exception) -> None:
        # one line: torch's dispatcher errors (a model on the meta device) run to several kilobytes
        text = str(err).strip().split("\n", 1)[0]
        if len(text) > 200:
            text = text[:200] + "..."
        self._warner.say("watch:%s:%s" % (getattr(fn, "__name__", "?"), type(err).__name__),
                         "watch() skipped some statistics: %s(%r)" % (type(err).__name__, text))

    # ------------------------------------------------------------------ windows

    def _on_eval_pre(self, module: Any, inputs: Any) -> None:
        """The forward pre-hook of an evaluation pass (see _Inputs)."""
        if self._inputs is not None:
            self._inputs.on_eval_pre(module, inputs)

    def _on_root_pre(self, module: Any, inputs: Any) -> None:
        if not (self.active and module.training and _torch().is_grad_enabled()):
            if self.active and module.training and self._inputs is not None and not getattr(self.run, "_val_inputs_logged", False):
                # an evaluation under torch.no_grad() without model.eval(): its inputs go undescribed
                # (the passes are told by train()/eval()), and the user should hear it once
                self._warner.say("watch-nograd-train", NO_EVAL_MODE)
            return  # evaluation passes are neither measured nor counted
        self._safe(self._root_pre)
        ins = self._inputs
        if ins is not None and ins.train_due:
            ins.train_due = False
            self._safe(ins.send, _batch_of(inputs), None)

    def _root_pre(self) -> None:
        self._detach_forward_hooks()  # those of the previous training forward
        if self.optimizer is None:
            # No optimizer to hook: an iteration runs from one training forward to the next.
            if self._win.open:
                self._close_window()
            self._open_window()
            self._win.count += 1
        else:
            # An iteration runs from one optimizer step to the next. A finished one is logged once
            # the loop's log() call has told its step (see _Probe.filled).
            if self._win.ready is not None and self._win.ready.probe.step is not None:
                self._emit_ready()
            if not self._win.open:
                self._open_window()
            elif self._win.scalars or self._win.hists:
                # Another forward before the step (gradient accumulation, a GAN's discriminator run
                # on fakes then on reals): the last one before the step is the one measured, and the
                # step to use is the one logged after it.
                self._new_probe()
        if self._win.scalars or self._win.hists:
            # One forward hook for every module (one to add and remove, whatever the size of the model)
            # until the optimizer step (or the next training forward): it skips evaluation passes
            # itself, so no post-hook is needed to take it off.
            self._win.last_layer = None
            self._win.used_labels = set()
            if self._hooked:
                self._hooks.fwd.append(_torch().nn.modules.module.register_module_forward_hook(self._module_hook))

    def _detach_forward_hooks(self) -> None:
        if self._hooks.fwd:
            for h in self._hooks.fwd:
                h.remove()
            self._hooks.fwd = []

    def _new_probe(self) -> None:
        run = self.run
        if self._win.probe in run._open_probes:  # identity: _Probe has no __eq__
            run._open_probes.remove(self._win.probe)
        self._win.probe = _Probe(self)
        run._open_probes.append(self._win.probe)

    def _open_window(self) -> None:
        i = self._win.count
        self._win.open = True
        self._win.scalars = i % self.every == 0
        self._win.hists = self.hist_every > 0 and i % self.hist_every == 0
        if not (self._win.scalars or self._win.hists):
            return
        if self._win.ready is not None:  # its step never came: log it with a best guess before measuring again
            self._emit_ready()
        self._win.index = i
        self._new_probe()
        if self.optimizer is None:
            # The update is what changes between this forward and the next one.
            with _torch().no_grad():
                self._measure_before(with_grads=False)
            for lay in self._layers:
                w = lay.module.weight
                if w.requires_grad:
                    self._hooks.grad.append(w.register_hook(self._make_grad_hook(lay)))

    def _finish_window(self) -> None:
        """The measured iteration is complete: pack its measurements, to log once its step is known."""
        if self._win.ready is not None:
            self._emit_ready()
        torch = _torch()
        keys = list(self._it.acts_now)
        keys += self._it.keys
        recipes = list(self._it.acts_now.values())
        recipes += self._it.recipes
        for key, v in self._it.lr:
            keys.append(key)
            if isinstance(v, torch.Tensor):  # a tensor learning rate (capturable optimizers)
                recipes.append((_VALUE, self._put(v.detach().reshape(()).float()), -1, None))
            else:
                recipes.append((_CONST, -1, -1, v))
        hists = self._it.hists
        raw, raw_len, cnt, vec = self._it.raw, self._it.raw_len, self._it.cnt, self._it.vec
        self._it.raw, self._it.raw_len, self._it.cnt, self._it.vec = [], 0, [], []
        self._it.acts_now, self._it.keys, self._it.recipes, self._it.lr, self._it.hists = {}, [], [], [], {}
        self._it.deferred = 0
        self._win.scalars = self._win.hists = False
        release, self._before.release = self._before.release, []
        if not (keys or hists):
            for fn in release:
                fn()
            return
        pack = _Pack(raw + cnt + vec, recipes, raw_len, release)
        hist_items = []
        if hists:
            pos = []
            base = raw_len + len(cnt)
            for v in vec:
                pos.append(base)
                base += v.numel()
            for key, (edges, counts) in hists.items():
                if isinstance(edges, int):  # indexes in vec
                    edges = _Slice(pack, pos[edges], vec[edges].numel())
                if isinstance(counts, int):
                    counts = _Slice(pack, pos[counts], vec[counts].numel())
                hist_items.append((key, edges, counts))
        self._win.ready = _Ready(keys, pack, hist_items, self._win.probe, self._win.index)

    def _close_window(self) -> None:
        """Without optimizer: the next forward closes the iteration; measure the update, log it."""
        for h in self._hooks.grad:
            h.remove()
        self._hooks.grad = []
        measured = self._win.scalars or self._win.hists
        if measured:
            with _torch().no_grad():
                self._safe(self._measure_after)
        self._win.open = False
        if measured:
            self._finish_window()
            self._emit_ready()

    def _pre_step(self) -> None:
        if not self.active or not self._win.open or not (self._win.scalars or self._win.hists):
            return
        self._detach_forward_hooks()  # the forwards of this iteration are over
        with _torch().no_grad():
            self._measure_before(with_grads=True)

    def _post_step(self) -> None:
        if not self.active:
            return
        if self._win.open and (self._win.scalars or self._win.hists):
            with _torch().no_grad():
                self._safe(self._measure_after)  # whatever happens, the iteration is logged below
            if self.log_lr and self._win.scalars:
                for i, group in enumerate(self.optimizer.param_groups):
                    lr = group.get("lr")
                    if lr is not None:
                        key = "lr" if i == 0 else "lr/group%d" % i
                        self._it.lr.append((key if not self._lr_prefix else "%s/%s" % (key, self._lr_prefix[:-1]), lr))
            self._finish_window()
            if self._win.ready is not None and self._win.ready.probe.step is not None:
                self._emit_ready()  # the loop logged before the step: its step is known already
        elif self._win.ready is not None and self._win.count > self._win.ready.index:
            # A whole further iteration went by without a log() call: stop waiting, guess the step.
            self._emit_ready()
        self._win.open = False
        self._win.count += 1
        on = self._measures(self._win.count)
        if on != bool(self._hooks.root):
            self._arm(on)

    # ------------------------------------------------------------------ measurements

    def _put(self, t: Any, size: int = 1) -> int:
        """Keeps a raw device tensor of `size` values; returns the index of its first value."""
        i = self._it.raw_len
        self._it.raw.append(t)
        self._it.raw_len = i + size
        return i

    def _histogram(self, x: Any) -> Tuple[Any, Any]:
        """(edges, counts) parts of a histogram of x: indexes in self._it.vec (computed on the device),
        or objects the sender thread reads (CPU)."""
        x = _hist_input(x)
        sync_free = self._sync_free_hist
        if sync_free if sync_free is not None else x.device.type != "cpu":
            edges, counts = _sync_free_histogram(x, HIST_BINS)
            vec = self._it.vec
            vec.append(edges)
            vec.append(counts)
            return len(vec) - 2, len(vec) - 1
        n = x.numel()
        if self._it.deferred + n <= HIST_DEFER_ELEMENTS:  # a copy, binned by the sender thread
            self._it.deferred += n
            h = _CpuHist(x.clone())
            return _CpuHistPart(h, 0), _CpuHistPart(h, 1)
        lo, hi, counts = _cpu_histogram(x, HIST_BINS)
        if counts is None:
            return [0.0, 1.0], [0.0]
        self._it.vec.append(counts)
        return _RangeEdges(lo, hi), len(self._it.vec) - 1

    def _weights(self) -> List[Any]:
        try:
            return [lay.params["weight"] for lay in self._layers]
        except KeyError:
            return [lay.module.weight for lay in self._layers]

    def _flat_for(self, ws: List[Any]) -> Optional[_Flat]:
        """The padded all-layer buffers for these weights, or None to go layer by layer."""
        f = self._before.flat
        if f is not None and f.matches(ws):
            return f
        # On an accelerator, where every kernel launch costs the loop, two layers already gain.
        min_layers = FLAT_MIN_LAYERS if ws[0].device.type == "cpu" else 2
        self._before.flat = f = _Flat(ws) if self._flat_ok and _Flat.fits(ws, min_layers) else None
        return f

    def _measure_before(self, with_grads: bool) -> None:
        """Before the update: gradients (with an optimizer), weight mean/std and ||W_before||, and a
        snapshot of W. Weight statistics are those of the weights the iteration's forward used."""
        ws = self._weights()
        self._before.kind = None
        if self._win.scalars and ws:
            deferred = self._take_deferred(ws) if self._defer_ok and ws[0].device.type == "cpu" else None
            if deferred is not None:
                self._last_path = "sender"
                self._before_deferred(deferred, ws, with_grads)
            else:
                flat = self._flat_for(ws)
                if flat is not None:
                    self._last_path = "flat"
                    self._before_flat(flat, ws, with_grads)
                else:
                    self._last_path = "layers"
                    self._before_layers(ws, with_grads)
        if self._win.hists:
            for lay, w in zip(self._layers, ws):
                if with_grads:
                    g = w.grad
                    if g is not None and g.numel():
                        self._it.hists[lay.h_grad] = self._histogram(g)
                self._it.hists[lay.h_weight] = self._histogram(w)

    @staticmethod
    def _fill_flat(flat: _Flat, ws: List[Any], with_grads: bool) -> List[bool]:
        """Copies the gradients (row 0) and W_before (row 1) into the all-layer buffers; which layers
        have a gradient."""
        grads = [w.grad for w in ws] if with_grads else []
        have = [g is not None for g in grads]
        if with_grads and all(have):
            _copy_(flat.grad_rows, grads)
        else:
            for row, g in zip(flat.grad_rows, grads):
                if g is not None:
                    row.copy_(g)
        _copy_(flat.weight_rows, ws)  # W_before: the snapshot, and what the weight statistics describe
        return have

    def _flat_recipes(self, flat: _Flat, have: List[bool], s: int, q: int) -> None:
        """Keys and recipes of the sums (from index s) and 2-norms (from q) of the rows of `flat`:
        [gradient rows; weight rows] each."""
        n_layers = len(flat.sizes)
        keys, recipes = self._it.keys, self._it.recipes
        for i, (lay, n) in enumerate(zip(self._layers, flat.sizes)):
            if i < len(have) and have[i]:
                keys += (lay.k_gstd, lay.k_gnorm)
                recipes += ((_STD, s + i, q + i, n), (_NORM, q + i, -1, None))
            j = n_layers + i
            keys += (lay.k_wmean, lay.k_wstd)
            recipes += ((_MEAN, s + j, -1, n), (_STD, s + j, q + j, n))
        self._before.norms = list(range(q + n_layers, q + 2 * n_layers))  # ||W_before||

    def _before_flat(self, flat: _Flat, ws: List[Any], with_grads: bool) -> None:
        torch = _torch()
        have = self._fill_flat(flat, ws, with_grads)
        n_layers = len(ws)
        buf = flat.buf
        s = self._put(buf.sum(2), 2 * n_layers)  # [gradient sums; weight sums]
        q = self._put(torch.linalg.vector_norm(buf, dim=2), 2 * n_layers)  # their 2-norms
        self._flat_recipes(flat, have, s, q)
        self._before.kind = "flat"

    def _take_deferred(self, ws: List[Any]) -> Optional[_Flat]:
        """CPU: three-row all-layer buffers (from the pool, else new) for the sender thread to reduce,
        or None when the model does not suit them or too many copies wait for the sender already."""
        pool = self._before.pool
        f = None
        while pool:
            f = pool.pop()
            if f.matches(ws):
                break
            f = None  # the model changed: buffers of the old shapes go
        if f is None:
            if not _Flat.fits(ws, 1, DEFER_MAX_ELEMENTS):
                return None
            nbytes = 3 * len(ws) * max(w.numel() for w in ws) * ws[0].element_size()
            if not self._budget.take(nbytes):
                return None
            f = _Flat(ws, after=True)
            self._budget.give(nbytes - f.nbytes)  # the same number; kept exact whatever the layout
        elif not self._budget.take(f.nbytes):
            pool.append(f)
            return None
        budget = self._budget

        def release() -> None:
            pool.append(f)
            budget.give(f.nbytes)

        self._before.release.append(release)
        return f

    def _before_deferred(self, flat: _Flat, ws: List[Any], with_grads: bool) -> None:
        """CPU: copies of the gradients and of W_before now; their sums and norms are made by the sender
        thread when it reads the iteration (the buffers are not refilled before: see _take_deferred)."""
        torch = _torch()
        have = self._fill_flat(flat, ws, with_grads)
        n2 = 2 * len(ws)
        both = flat.buf[:2]
        s = self._put(_Later(lambda: both.sum(2), n2), n2)
        q = self._put(_Later(lambda: torch.linalg.vector_norm(both, dim=2), n2), n2)
        self._flat_recipes(flat, have, s, q)
        self._before.snap_flat = flat
        self._before.kind = "deferred"

    def _before_layers(self, ws: List[Any], with_grads: bool) -> None:
        torch = _torch()
        low, f32 = _low(), torch.float32
        layers = self._layers
        keys, recipes = self._it.keys, self._it.recipes
        grads: List[Any] = []
        glayers: List[_Layer] = []
        if with_grads:
            for lay, w in zip(layers, ws):
                g = w.grad
                if g is not None and g.numel():
                    grads.append(g)
                    glayers.append(lay)
        norms = _norms(grads + ws)
        for lay, g, q in zip(glayers, grads, norms):
            s = self._put(g.sum(dtype=f32) if g.dtype in low else g.sum())
            self._put(q)
            keys += (lay.k_gstd, lay.k_gnorm)
            recipes += ((_STD, s, s + 1, g.numel()), (_NORM, s + 1, -1, None))
        snap = []
        for lay, w, q in zip(layers, ws, norms[len(grads):]):
            s = self._put(w.sum(dtype=f32) if w.dtype in low else w.sum())
            self._put(q)
            n = w.numel()
            keys += (lay.k_wmean, lay.k_wstd)
            recipes += ((_MEAN, s, -1, n), (_STD, s, s + 1, n))
            snap.append(s + 1)  # ||W_before||
        self._before.norms = snap
        bufs = self._before.bufs
        if len(bufs) != len(ws):
            bufs = self._before.bufs = [None] * len(ws)
        for i, w in enumerate(ws):
            b = bufs[i]
            if b is None or b.shape != w.shape or b.dtype != w.dtype or b.device != w.device:
                b = bufs[i] = torch.empty_like(w, requires_grad=False)  # once, then reused
        _copy_(bufs, ws)
        self._before.kind = "layers"

    def _measure_after(self) -> None:
        """After the update: ||W_before - W_after|| for update_ratio."""
        snap, self._before.kind = self._before.kind, None
        if not (self._win.scalars and snap):
            return
        ws = self._weights()
        keys, recipes = self._it.keys, self._it.recipes
        if snap == "deferred":
            flat, self._before.snap_flat = self._before.snap_flat, None
            if flat is None or not flat.matches(ws):
                return
            _copy_(flat.after_rows, ws)  # the sender makes W_after - W_before and its norms
            before, after = flat.buf[1], flat.buf[2]
            n = len(ws)
            torch = _torch()
            d = self._put(_Later(lambda: torch.linalg.vector_norm(after.sub_(before), dim=1), n), n)
            for i, (lay, qb) in enumerate(zip(self._layers, self._before.norms)):
                keys.append(lay.k_ratio)
                recipes.append((_RATIO, d + i, qb, None))
            return
        if snap == "flat":
            flat = self._before.flat
            if flat is None or not flat.matches(ws):
                return
            _sub_(flat.weight_rows, ws)  # the rows now hold W_before - W_after (the padding stays 0)
            d = self._put(_torch().linalg.vector_norm(flat.weights, dim=1), len(ws))
            for i, (lay, qb) in enumerate(zip(self._layers, self._before.norms)):
                keys.append(lay.k_ratio)
                recipes.append((_RATIO, d + i, qb, None))
            return
        bufs = self._before.bufs
        if len(bufs) != len(ws):
            return
        before: List[Any] = []
        after: List[Any] = []
        moved: List[Tuple[str, int]] = []
        for lay, w, b, qb in zip(self._layers, ws, bufs, self._before.norms):
            if b.shape == w.shape and b.dtype == w.dtype and b.device == w.device:
                before.append(b)
                after.append(w)
                moved.append((lay.k_ratio, qb))
        if not before:
            return
        _sub_(before, after)  # the buffers now hold W_before - W_after
        for (key, qb), qd in zip(moved, _norms(before)):
            keys.append(key)
            recipes.append((_RATIO, self._put(qd), qb, None))

    def _make_grad_hook(self, lay: _Layer):
        done = [False]

        def hook(grad):
            if done[0] or not self.active:
                return None
            done[0] = True
            with _torch().no_grad():
                self._safe(self._grad_stats, lay, grad)
            return None

        return hook

    def _grad_stats(self, lay: _Layer, g: Any) -> None:
        g = g.detach()
        if not g.numel():
            return
        if self._win.scalars:
            acc = _acc(g)
            s = self._put(g.sum(dtype=acc))
            self._put(_torch().linalg.vector_norm(g, dtype=acc))
            self._it.keys += (lay.k_gstd, lay.k_gnorm)
            self._it.recipes += ((_STD, s, s + 1, g.numel()), (_NORM, s + 1, -1, None))
        if self._win.hists:
            self._it.hists[lay.h_grad] = self._histogram(g)

    def _on_module(self, module: Any, inputs: Any, output: Any) -> None:
        """The forward hook of a measuring iteration, called for every module of every model."""
        what = self._hooked.get(id(module))
        if what is None:
            return
        if what[0]:  # a layer with weights: the activation that follows is named after it
            self._win.last_layer = what[1]
            return
        if not (module.training and _torch().is_grad_enabled()):
            return  # an evaluation pass while the hook of a measuring iteration is on
        try:
            self._act_stats(what[1], what[2], output)
        except Exception as err:  # statistics must never break training
            self._skipped(self._act_stats, err)

    def _act_stats(self, name: str, kind: str, output: Any) -> None:
        torch = _torch()
        if not isinstance(output, torch.Tensor) or not output.is_floating_point():
            return
        n = output.numel()
        if n == 0:
            return
        # A conv layer's activations are (N, C, ...): a unit is a channel, dead only when <= 0 at every
        # position of every example. That holds for every activation after a conv layer, also one that
        # keeps its own name (after a pooling, or a ReLU module used twice): counted per last dim, the
        # "units" would be image columns, and blank border columns would read as dead units.
        last = self._win.last_layer
        label, is_conv = name, last is not None and last[1]
        if last is not None and last[0] not in self._win.used_labels:
            label, is_conv = last
        k = 1
        while label in self._win.used_labels:  # one module used twice in forward() with no layer between
            k += 1
            label = "%s#%d" % (name, k)
        self._win.used_labels.add(label)
        keys = self._it.act_keys.get(label)
        if keys is None:
            keys = self._it.act_keys[label] = ("act/%s/mean" % label, "act/%s/std" % label,
                                               "act/%s/dead_frac" % label, "act/%s/saturated_frac" % label,
                                               "act/" + label)
        x = output.detach()  # no autograd graph for what follows
        if self._win.scalars:
            self._act_scalars(x, n, kind, is_conv, keys)
        if self._win.hists:
            self._it.hists[keys[4]] = self._histogram(x)

    def _act_scalars(self, x: Any, n: int, kind: str, is_conv: bool, keys: Tuple[str, ...]) -> None:
        """mean, std and dead_frac or saturated_frac of an activation, as recipes over raw numbers."""
        torch = _torch()
        acts = self._it.acts_now
        shape = x.shape
        other: Optional[List[int]] = None  # for a dead unit: the dims over which it is <= 0 everywhere
        units = 0
        relu = kind == "relu0" or kind == "relu"
        if relu and len(shape) >= 2:
            unit_dim = 1 if is_conv else len(shape) - 1
            units = shape[unit_dim]
            other = _OTHER_DIMS.get((len(shape), unit_dim))
            if other is None:
                other = _OTHER_DIMS[(len(shape), unit_dim)] = [d for d in range(len(shape)) if d != unit_dim]
        acc = torch.float32 if x.dtype in _low() else None
        fused = self._fused_act if self._fused_act is not None else x.device.type != "cpu"
        count: Any
        if fused and acc is None:
            # Accelerators, where each kernel launch costs the loop more than the kernel itself: mean and
            # variance from one var_mean, and dead units from the units' maxima, which the sender thread
            # counts on the host.
            var, mean = torch.var_mean(x, unbiased=False)
            v = self._put(var)
            self._put(mean)
            acts[keys[0]] = (_VALUE, v + 1, -1, None)
            acts[keys[1]] = (_SQRT, v, -1, None)
            if other is not None:
                acts[keys[2]] = (_ALIVE, self._put(x.amax(dim=other), units), -1, units)
                return
            count = _act_count(x, kind, None)
        else:
            nbytes = n * x.element_size()
            if self._defer_ok and x.device.type == "cpu" and n <= DEFER_MAX_ELEMENTS and self._budget.take(nbytes):
                # A copy now; the sender thread reduces it when it reads the iteration.
                c = x.clone()
                budget = self._budget
                self._before.release.append(lambda: budget.give(nbytes))
                s = self._put(_Later(lambda: c.sum(dtype=acc)))
                self._put(_Later(lambda: torch.linalg.vector_norm(c, dtype=acc)))
                count = _Later(lambda: _act_count(c, kind, other))
            else:
                s = self._put(x.sum(dtype=acc))
                self._put(torch.linalg.vector_norm(x, dtype=acc))
                count = _act_count(x, kind, other)
            acts[keys[0]] = (_MEAN, s, -1, n)
            acts[keys[1]] = (_STD, s, s + 1, n)
        c_i = len(self._it.cnt)
        self._it.cnt.append(count)
        if not relu:
            acts[keys[3]] = (_FRAC, c_i, -1, n)
        elif other is not None:
            acts[keys[2]] = (_DEAD, c_i, -1, units)
        else:
            acts[keys[2]] = (_FRAC, c_i, -1, n)

    # ------------------------------------------------------------------ emit

    def _label(self, probe: "_Probe", index: int) -> int:
        """The step of an iteration: the step the loop logged in it, else a best guess."""
        run = self.run
        if probe in run._open_probes:  # identity: _Probe has no __eq__
            run._open_probes.remove(probe)
        if probe.step is not None:
            step = probe.step
        elif self._win.last_label is not None:
            step = max(run._next_step(), self._win.last_label + (index - self._win.last_label_index))
        else:
            step = run._next_step()
        self._win.last_label, self._win.last_label_index = step, index
        return step

    def _emit_ready(self) -> None:
        ready, self._win.ready = self._win.ready, None
        if ready is None:
            return
        step = self._label(ready.probe, ready.index)
        self.run._log_stats(step, ready.keys, ready.pack, ready.hists)

    def unwatch(self) -> None:
        """Removes every hook and logs what the current iteration had measured so far."""
        if not self.active:
            return
        try:
            if self._inputs is not None:
                self._safe(self._inputs.close)
            self._detach_forward_hooks()
            for h in self._hooks.grad:
                h.remove()
            self._hooks.grad = []
            for h in self._hooks.root:
                h.remove()
            self._hooks.root = []
            self._unhook_optimizer()
            if self.optimizer is None and self._win.open:
                self._close_window()
            else:
                self._emit_ready()
                if self._it.acts_now or self._it.keys or self._it.hists:  # measured a forward, but no step came
                    self._finish_window()
                    self._emit_ready()
        finally:
            self.active = False
            self._before.flat, self._before.bufs, self._before.kind = None, [], None
            self._before.pool, self._before.snap_flat = [], None
            if self._win.probe in self.run._open_probes:
                self.run._open_probes.remove(self._win.probe)

    def __repr__(self) -> str:
        return "<babysit.Watcher %s every=%d hist_every=%d layers=%d activations=%d>" % (
            type(self.model).__name__, self.every, self.hist_every, len(self._layers), len(self._acts))
