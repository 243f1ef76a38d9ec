"""babysit: log a training run to a self-hosted babysit server and get told when it goes wrong.

    import babysit
    run = babysit.init(project="digits", config={"lr": 1e-3})
    babysit.watch(model, optimizer)            # layer statistics every 10 steps (PyTorch)
    for step in range(1000):
        ...
        babysit.log({"train/loss": loss}, step=step)
    babysit.finish()

Logging never raises into the training loop and never waits for the network: values go to a queue
that a background thread sends in batches, retrying and spooling to disk while the server is away.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, Optional

from . import _contract, _mode, _state
from ._disabled import DisabledRun
from ._output import BabysitWarning, OnceWarner
from ._result import DeliveryResult
from ._run import DEFAULT_URL, Run
from ._spool import default_spool_dir
from ._watch import Watcher
from .images import encode_png, filters_grid
from .sweeps import Sweep, SweepError, Trial, choice, int_uniform, log_uniform, sample, sweep, uniform, validate_space

__all__ = [
    "init",
    "log",
    "log_histogram",
    "log_image",
    "event",
    "finish",
    "watch",
    "unwatch",
    "log_input_stats",
    "log_output_stats",
    "log_label_stats",
    "gradcheck",
    "filters_grid",
    "encode_png",
    "sync",
    "get_run",
    "sweep",
    "log_uniform",
    "uniform",
    "int_uniform",
    "choice",
    "sample",
    "validate_space",
    "should_stop",
    "Sweep",
    "Trial",
    "SweepError",
    "Run",
    "Watcher",
    "BabysitWarning",
    "DeliveryResult",
]
__version__ = "0.1.0"

_warner = OnceWarner()


def init(
    project: str,
    name: Optional[str] = None,
    config: Any = None,
    url: Optional[str] = None,
    id: Optional[str] = None,
    *,
    spool_dir: Optional[str] = None,
    flush_interval: float = 0.2,
    batch_points: int = 1000,
    init_timeout: float = 3.0,
    quiet: Optional[bool] = None,
    mode: Optional[str] = None,
) -> Run:
    """Starts a run (or resumes one) and makes it the current run of the module-level functions.

    Never needs the server to be up: the run id is made here, and the run is created on the server
    (POST /api/v1/runs with that id) as soon as it answers; until then everything is kept on disk.

    Args:
        project: project name, 1..100 code points, e.g. ``"digits"``.
        name: run name shown in the UI, at most 200 code points (default: one the server makes up).
        config: hyperparameters: a dict, dataclass, argparse.Namespace or object with attributes.
            Nested dataclasses, namespaces, objects, enums, paths, numpy/torch scalars, tuples and
            sets become JSON objects, arrays and scalars; what is cut to fit the server's limits
            (32 levels, 1 MiB of JSON) is marked, with one warning.
        url: server address; default ``$BABYSIT_URL``, else ``http://127.0.0.1:3000``.
        id: resume the run with this id (``[A-Za-z0-9_-]{1,64}``); default: a new id. log() without
            step= then continues after the run's last stored step.
        spool_dir: where unsent data waits; default ``$BABYSIT_SPOOL_DIR``, else ``~/.babysit/spool``.
        flush_interval: seconds between two batches (default 0.2).
        batch_points: send at once when this many points are waiting (default 1000).
        init_timeout: seconds to wait for the server to create the run before going on (default 3).
        quiet: do not print the run's URL, nor the checklist line at finish (default ``$BABYSIT_QUIET``).
        mode: ``"online"`` (send to the server), ``"offline"`` (keep everything in the spool directory
            for a later ``python -m babysit sync``; no request is made) or ``"disabled"`` (a run whose
            methods do nothing). Default ``$BABYSIT_MODE``, else online; an invalid value warns once and
            falls back to ``$BABYSIT_MODE``, then online.

    Returns:
        The Run. Also a context manager: ``with babysit.init(...) as run:`` finishes it at the end of
        the block (status ``crashed`` if the block raised).

    Raises:
        ValueError: `project`, `name` or `id` is malformed.
        TypeError: `config` is not object-like (a list, a number). These are the only errors babysit
            ever raises; a config too deep or too large is cut with a warning instead.

    Example:
        >>> run = babysit.init(project="digits", name="mlp-lr1e-3", config={"lr": 1e-3})  # doctest: +SKIP
    """
    chosen = _mode.resolve(mode)
    if chosen == _mode.DISABLED:
        # Nothing is checked either: switching monitoring off must not make a script fail.
        disabled = DisabledRun(project, name=name, config=config, id=id)
        _state.register(disabled)
        return disabled  # type: ignore[return-value]
    run = Run(
        project,
        name=name,
        config=config,
        url=url,
        id=id,
        spool_dir=spool_dir,
        flush_interval=flush_interval,
        batch_points=batch_points,
        init_timeout=init_timeout,
        quiet=quiet,
        offline=chosen == _mode.OFFLINE,
    )
    _state.register(run)
    return run


def get_run() -> Optional[Run]:
    """The current run (the latest init() not finished yet), or None.

    Example:
        >>> babysit.get_run().url   # doctest: +SKIP
        'http://127.0.0.1:3000/runs/20250101-120000-1a2b3c4d'
    """
    return _state.current


def _current(what: str) -> Optional[Run]:
    run = _state.current
    if run is None:
        _warner.warn("norun:" + what, "%s() called before babysit.init(); ignored" % what)
    return run


def log(metrics: Mapping[str, Any], step: Optional[int] = None, epoch: Optional[float] = None) -> None:
    """Logs metric values to the current run. Returns at once and never raises.

    Args:
        metrics: maps keys (``"train/loss"``, ``"val/acc"``, ...) to numbers: Python or numpy numbers,
            or one-element torch tensors (read back in the background: no GPU sync in your loop).
            NaN and +-inf are kept (they are how divergence shows); non-numbers are dropped with a warning.
        step: integer step >= 0; default: previous step + 1 (0 for the first call; for a run resumed
            with init(id=...), the step after its last stored one).
        epoch: optional epoch number (float), stored as the metric ``epoch``.

    Example:
        >>> babysit.log({"train/loss": loss, "train/acc": acc}, step=it, epoch=it / iters_per_epoch)  # doctest: +SKIP
    """
    run = _current("log")
    if run is not None:
        run.log(metrics, step=step, epoch=epoch)


def should_stop(wait: float = 0.5) -> bool:
    """Whether the current run (a trial of a sweep) should stop early; see `Run.should_stop`.
    False when no run is active or the server cannot be reached; never raises.

    Example:
        >>> if babysit.should_stop():   # doctest: +SKIP
        ...     break
    """
    run = _state.current
    return run.should_stop(wait) if run is not None else False


def log_histogram(key: str, values: Any, step: Optional[int] = None, bins: int = 30) -> None:
    """Logs a histogram to the current run; see `Run.log_histogram`.

    Example:
        >>> babysit.log_histogram("weight/fc1", model.fc1.weight, step=it)   # doctest: +SKIP
    """
    run = _current("log_histogram")
    if run is not None:
        run.log_histogram(key, values, step=step, bins=bins)


def log_image(key: str, image: Any, step: Optional[int] = None) -> None:
    """Logs an image (sent as PNG) to the current run; see `Run.log_image`.

    Example:
        >>> babysit.log_image("filters/fc1", babysit.filters_grid(model.fc1.weight))   # doctest: +SKIP
    """
    run = _current("log_image")
    if run is not None:
        run.log_image(key, image, step=step)


def event(type: str, data: Optional[Mapping[str, Any]] = None, step: Optional[int] = None) -> None:
    """Logs an event to the current run; see `Run.event`.

    Example:
        >>> babysit.event("lr_drop", {"from": 0.1, "to": 0.01}, step=3000)   # doctest: +SKIP
    """
    run = _current("event")
    if run is not None:
        run.event(type, data, step=step)


def finish(status: str = "finished", timeout: float = 10.0) -> DeliveryResult:
    """Finishes the current run: flushes with a deadline, never hangs, closes the connection.

    Returns a `DeliveryResult` (true when everything was delivered and nothing rejected); see
    `Run.finish`.

    Example:
        >>> result = babysit.finish()                            # doctest: +SKIP
        >>> result.delivered, result.rejected_points             # doctest: +SKIP
        (True, 0)
    """
    run = _state.current
    if run is None:
        return DeliveryResult(delivered=True)
    return run.finish(status, timeout=timeout)


def watch(model: Any, optimizer: Any = None, every: int = 10, hist_every: Optional[int] = None, log_lr: bool = True,
          name: Optional[str] = None, input_stats: bool = True):
    """Logs per-layer statistics of a PyTorch model every `every` training steps.

    Every `every` iterations (counted in optimizer steps when `optimizer` is given, else in forward
    passes of `model` in training mode with autograd on), logs:

    - ``update_ratio/<layer>`` (||W_after - W_before|| / ||W_before||, around the optimizer step),
      ``weight/<layer>/{mean,std}`` and ``grad/<layer>/{std,norm}`` for every Linear/Conv layer;
    - ``act/<layer>/{mean,std}`` and ``act/<layer>/dead_frac`` (ReLU family: share of units <= 0 for
      the whole minibatch) or ``act/<layer>/saturated_frac`` (tanh: |a| > 0.99, sigmoid: a < 0.01 or
      a > 0.99) for every activation *module* (nn.ReLU, nn.Tanh, ...; ``F.relu`` calls are invisible),
      named after the Linear/Conv layer whose output it activates;
    - ``lr`` when an optimizer is given;
    - every `hist_every` iterations: histograms ``act/<layer>``, ``grad/<layer>``, ``weight/<layer>``;
    - once, a ``model`` event ``{params, params_watched, weighted_layers, modules}``: trainable
      parameters in all and in the measured layers, and the leaf module classes with their counts
      (the server tells a linear model, whose capacity is the finding when it sits near chance);
    - ``input_stats`` events (as `log_input_stats` sends them, with ``"source": "watch"``) of the
      model's inputs — the first positional tensor of its forward, when it is floating-point with a
      batch dimension: a training batch at the first measured iteration and at the first one after
      each evaluation pass, and with ``split="val"`` one batch per evaluation pass (from
      ``model.eval()`` to ``model.train()``: its last batch of at least 32 examples, or of its largest
      size). The server compares them (``train_val_mismatch``: validation data preprocessed
      differently; ``input_not_normalized``). Integer inputs (token ids) send nothing.

    The statistics land on the step the training loop logs during the same iteration. Reductions run
    on the model's device and are read back by the background thread: no GPU sync in the loop.

    Args:
        model: the torch.nn.Module being trained (CPU or CUDA; DataParallel/DDP wrappers and torch.compile'd models are fine).
        optimizer: its optimizer, to measure the actual update of each step (recommended). Without
            it, the update is measured between two forward passes.
        every: measure one iteration in `every` (default 10).
        hist_every: histograms one iteration in `hist_every` (default ``every * 10``; 0: never).
        log_lr: also log the optimizer's learning rate as ``lr`` (default True).
        name: prefix for the layer names, to watch two models in one run (a GAN's ``"gen"`` and
            ``"disc"`` give ``update_ratio/gen.fc1``, ``act/disc.fc1/dead_frac``, ``lr/gen``).
        input_stats: send the input statistics above (default True). To see evaluation passes,
            watch() puts its own ``train`` on the model instance (``unwatch()`` takes it off; a copied
            or pickled model gets the plain one). False: no statistics, ``model.train`` untouched.

    Returns:
        A Watcher; ``babysit.unwatch()`` (or finish()) removes all its hooks.

    Example:
        >>> babysit.init(project="digits")                         # doctest: +SKIP
        >>> babysit.watch(model, optimizer, every=10)              # doctest: +SKIP
    """
    run = _current("watch")
    if run is None:
        return None
    try:
        return run.watch(model, optimizer=optimizer, every=every, hist_every=hist_every, log_lr=log_lr, name=name,
                         input_stats=input_stats)
    except (TypeError, ValueError):
        raise
    except Exception as err:
        _warner.warn("watch", "watch() failed and is off for this run: %r" % (err,))
        return None


def unwatch(model: Any = None) -> None:
    """Removes the hooks watch() added (to every model, or to `model` only).

    Example:
        >>> babysit.unwatch(model)   # doctest: +SKIP
    """
    run = _state.current
    if run is not None:
        run.unwatch(model)


def log_input_stats(x: Any, step: Optional[int] = None, split: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """Logs per-feature mean and std of the inputs exactly as they are fed to the net.

    The server uses it to tell un-normalised inputs (e.g. raw 0..255 pixels) and, given the statistics
    of a validation batch too (``split="val"``), validation data processed differently from training
    data. Sent as the event ``input_stats`` with data ``{"mean": [...], "std": [...], "n": N}`` (plus
    ``"split"`` when given). Features are the columns of a 2-D input (N, F) and the channels of an
    (N, C, H, W) one; at most 100,000 features (``statsFeaturesMax``), more are dropped with a warning.

    Args:
        x: a batch or the whole data set: torch tensor, numpy array or list of lists.
        step: step it belongs to (default: the current step, or 0).
        split: which data ``x`` comes from: ``None`` or ``"train"`` for training data, ``"val"`` for
            validation data (1..64 code points).

    Returns:
        The statistics (also when no run is active), or None if `x` could not be read (warned).

    Example:
        >>> babysit.log_input_stats(X_train)                 # doctest: +SKIP
        >>> babysit.log_input_stats(X_val, split="val")      # doctest: +SKIP
    """
    from .checks import input_stats

    try:
        stats = input_stats(x)
    except Exception as err:
        _warner.warn("input_stats", "log_input_stats() could not read its input: %s" % err)
        return None
    if split is not None:
        problem = _contract.name_problem(split, _contract.LIMITS["statsSplitMaxLength"], "split names")
        if problem:
            _warner.warn("input_stats:split:" + problem, "log_input_stats(): %s; statistics not sent" % problem)
            return stats
        stats["split"] = split
    if len(stats["mean"]) > _contract.LIMITS["statsFeaturesMax"]:
        _warner.warn("input_stats:features", "log_input_stats(): %d features, at most %d (statsFeaturesMax); statistics not sent"
                     % (len(stats["mean"]), _contract.LIMITS["statsFeaturesMax"]))
        return stats
    if split == "val" and _state.current is not None:
        _state.current._val_inputs_logged = True  # watch() need not ask for model.eval() to see them
    _send_stats("input_stats", stats, step)
    return stats


def log_output_stats(pred: Any, target: Any, step: Optional[int] = None, split: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """Logs the range, mean and std of a model's predictions and of its targets (regression outputs).

    The server uses it to tell an output layer that cannot reach the targets: a ReLU (or softplus) on
    a regression output never predicts below 0, a sigmoid stays inside [0, 1]. Sent as the event
    ``output_stats`` with data ``{"pred_min", "pred_max", "pred_mean", "pred_std", "target_min",
    "target_max", "target_mean", "target_std", "n"}`` (plus ``"split"`` when given). Call it once an
    epoch on a validation batch, or on a training batch; it never raises into the training loop.

    Args:
        pred: the model's outputs (torch tensor, numpy array, list or number).
        target: the targets, in the same units.
        step: step it belongs to (default: the current step, or 0).
        split: ``None``/``"train"`` or ``"val"`` (1..64 code points).

    Returns:
        The statistics (also when no run is active), or None if the inputs could not be read (warned).

    Example:
        >>> babysit.log_output_stats(model(X_val), y_val, split="val")   # doctest: +SKIP
    """
    from .checks import output_stats

    try:
        stats = output_stats(pred, target)
    except Exception as err:
        _warner.warn("output_stats", "log_output_stats() could not read its inputs: %s" % err)
        return None
    if split is not None:
        problem = _contract.name_problem(split, _contract.LIMITS["statsSplitMaxLength"], "split names")
        if problem:
            _warner.warn("output_stats:split:" + problem, "log_output_stats(): %s; statistics not sent" % problem)
            return stats
        stats["split"] = split
    _send_stats("output_stats", stats, step)
    return stats


def _send_stats(etype: str, stats: Dict[str, Any], step: Optional[int]) -> None:
    run = _state.current
    if run is not None:
        run.event(etype, stats, step=step if step is not None else run._current_step())


def log_label_stats(y: Any, split: str = "train", num_classes: Optional[int] = None,
                    step: Optional[int] = None) -> Optional[Dict[str, Any]]:
    """Logs how many labels of a split fall in each class (counted here, only the counts are sent).

    The server uses it to tell a model that answers the majority class (diagnosis
    ``majority_class``): accuracy at the majority share while the loss sits at the entropy of the
    class priors. Sent as the event ``label_stats`` with data
    ``{"counts": [n_0, n_1, ...], "n": N, "split": "train"}``. Call it once per split with all its
    labels (e.g. ``dataset.targets``, ``y_train``); it never raises.

    Args:
        y: class indices 0..C-1 (torch tensor, numpy array or list), or (N, C) one-hot rows or
            probabilities (each row's largest entry counts).
        split: ``"train"`` (default) or ``"val"`` (also ``"validation"``, ``"valid"``, ``"test"``...).
        num_classes: C, so that classes absent from `y` are counted as 0.
        step: step it belongs to (default: the current step, or 0).

    Returns:
        The statistics (also when no run is active), or None if `y` could not be read or has more
        classes than the server takes (100,000; warned once).

    Example:
        >>> babysit.log_label_stats(y_train)                  # doctest: +SKIP
        >>> babysit.log_label_stats(y_val, split="val")      # doctest: +SKIP
    """
    from . import _contract as C
    from .checks import label_stats

    try:
        stats = label_stats(y, num_classes=num_classes)
    except Exception as err:
        # once per reason: another reason (a later call on other labels) is worth its own warning
        _warner.warn("label_stats:%s" % str(err)[:60], "log_label_stats() could not read its labels: %s" % err)
        return None
    if len(stats["counts"]) > C.LIMITS["labelStatsClasses"]:
        _warner.warn("label_stats:classes", "log_label_stats(): %d classes, at most %d are sent; not logged"
                     % (len(stats["counts"]), C.LIMITS["labelStatsClasses"]))
        return None
    if not isinstance(split, str) or not split.strip() or len(split) > C.LIMITS["labelStatsSplitMaxLength"]:
        _warner.warn("label_stats:split:%r" % (split,), "log_label_stats(): split must be a name of 1 to %d characters, got %r; not logged"
                     % (C.LIMITS["labelStatsSplitMaxLength"], split))
        return None
    stats["split"] = split
    run = _state.current
    if run is not None:
        run.event("label_stats", stats, step=step if step is not None else run._current_step())
    return stats


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    loss_fn: Optional[Callable[[Any], Any]] = None,
    eps: float = 1e-6,
    max_entries: int = 20,
    seed: int = 0,
    step: Optional[int] = None,
) -> Dict[str, float]:
    """Checks analytic gradients (autograd, your custom backward()s) against numeric ones.

    Runs in float64 on a copy (a Module is deep-copied; your model and its weights are untouched):
    for up to `max_entries` sampled entries of each parameter, the numeric gradient is the centred
    difference (f(w + eps) - f(w - eps)) / (2 eps), and the relative error is
    ``||analytic - numeric|| / max(||analytic|| + ||numeric||, tiny)`` over those entries. Around
    1e-7 or less is right; 1e-2 or more is a bug. Each result is also logged to the current run as
    an event ``gradcheck`` with data ``{"param", "rel_error"}``.

    Args:
        fn: an ``nn.Module`` (its parameters are checked) or a function of tensors (its floating-point
            tensor inputs are checked). Its output is reduced to a scalar by `loss_fn`, else by a fixed
            random projection (a plain sum would hide errors, e.g. softmax outputs sum to 1).
        *inputs: the arguments of `fn` (a small batch is enough).
        loss_fn: optional ``output -> scalar`` (e.g. ``lambda out: F.cross_entropy(out, y)``).
        eps: finite-difference step (default 1e-6).
        max_entries: entries sampled per parameter (default 20).
        seed: seed for the sampling, the projection and the model's random ops (dropout).
        step: step of the logged events (default: the current step).

    Returns:
        ``{param name: relative error}`` (inputs of a plain function are named ``input0``, ...).

    Example:
        >>> errors = babysit.gradcheck(model, x[:8], loss_fn=lambda out: F.cross_entropy(out, y[:8]))  # doctest: +SKIP
        >>> assert max(errors.values()) < 1e-5                                                          # doctest: +SKIP
    """
    from .checks import gradcheck as _gradcheck

    results = _gradcheck(fn, *inputs, loss_fn=loss_fn, eps=eps, max_entries=max_entries, seed=seed)
    run = _state.current
    if run is not None:
        for name, rel, checked in results:
            run.event("gradcheck", {"param": name, "rel_error": rel, "entries": checked}, step=step)
    return {name: rel for name, rel, _ in results}


def sync(url: Optional[str] = None, spool_dir: Optional[str] = None, timeout: float = 60.0,
         any_url: bool = False) -> Dict[str, Any]:
    """Sends what earlier runs left in the spool directory (their server was away when they ended).

    babysit.init() does this in the background anyway; this is for when no new run is coming, also
    available as ``python -m babysit sync``. A spool is sent to the server it was made for: spools
    made for another server URL are left alone and listed under ``"skipped"``, unless `any_url`.

    Args:
        url: server address (default ``$BABYSIT_URL``, else ``http://127.0.0.1:3000``).
        spool_dir: default ``$BABYSIT_SPOOL_DIR``, else ``~/.babysit/spool``.
        timeout: give up after this many seconds; what is left stays for next time.
        any_url: send every spool to `url`, whatever server it was made for (e.g. the server moved
            to another port); prints a warning for each such spool.

    Returns:
        ``{"runs", "batches", "batches_left", "runs_left", "rejected_points", "skipped", "refused"}``:
        ``rejected_points`` counts points of batches the server refused for good (not retried, not
        kept); ``skipped`` lists the spools not sent, each ``{"path", "run", "reason", "url",
        "batches"}`` (``reason`` e.g. ``"made for another server"``, with that server's ``url``);
        ``refused`` is None, or ``{"message", "missing"}`` when the server refused the API key (or
        needs one, ``missing``): sync stopped at once, since nothing is taken until the key changes.

    Example:
        >>> babysit.sync()   # doctest: +SKIP
        {'runs': 1, 'batches': 42, 'batches_left': 0, 'runs_left': 0, 'rejected_points': 0, 'skipped': []}
    """
    from ._transport import replay_spools

    base = (url or os.environ.get("BABYSIT_URL") or DEFAULT_URL).rstrip("/")
    return replay_spools(base, spool_dir or default_spool_dir(), timeout, any_url=any_url)
