"""Hyperparameter search (sweeps): search spaces, the seeded sampler, and sweeps that hand out trials.

    import babysit
    sweep = babysit.sweep(project="digits", name="lr-wd", objective="val/acc", goal="max", budget=20,
                          space={"lr": babysit.log_uniform(1e-4, 1e-1), "wd": babysit.log_uniform(1e-6, 1e-2),
                                 "hidden": babysit.choice([64, 128]), "epochs": 3})
    for trial in sweep.trials(10):
        run = trial.init()                     # config = sampled values + {"sweep": {"id", "trial"}}
        ... train with trial.config["lr"] ..., run.log(...), stop early if run.should_stop()
        run.finish()
    fine = sweep.refine(top=3)                 # the next stage: ranges narrowed around the best trials

The sampler is the one of lib/sweeps/types.ts, bit for bit (the server and the TypeScript SDK draw the
same values for the same seed, trial index and parameter name). Each process asks the server for its
next trial (POST /api/v1/sweeps/{id}/trials), so any number of workers share one sweep without
drawing the same trial twice.

When the server cannot be reached, the sweep samples locally from the same seed (trial 0, 1, 2, ...)
and says so once: training goes on, and the runs, spooled like any run, join the sweep when they reach
the server through their config's ``sweep`` entry (which then also carries the space). Workers that
are all cut off at once repeat each other's trials; one that was already sharing the sweep continues
after the last trial it was given.
"""

from __future__ import annotations

import json
import math
import os
import random
import struct
import threading
import time
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

from . import _contract as C
from ._http import Client, KeyRefused, TransportError, error_text
from ._output import OnceWarner, say

__all__ = [
    "log_uniform",
    "uniform",
    "int_uniform",
    "choice",
    "validate_space",
    "sample",
    "sweep",
    "Sweep",
    "Trial",
    "SweepError",
]

_M64 = (1 << 64) - 1
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_GOLDEN = 0x9E3779B97F4A7C15
_TWO_53 = float(1 << 53)

DISTRIBUTIONS = ("log_uniform", "uniform", "int_uniform", "choice")
GOALS = ("max", "min")
# config.sweep links a run to its sweep, config.babysit is babysit's own: no parameter takes these names.
RESERVED_PARAM = "sweep"
RESERVED_PARAM_NAMES = ("sweep", "babysit")
# Limits of a space: the contract's (lib/contract/limits.ts), copied in _contract.py.
SPACE_LIMITS = {k: C.LIMITS[k] for k in ("sweepParamsMax", "sweepParamNameMaxLength", "sweepChoiceValuesMax",
                                         "sweepLogUniformMin", "sweepLogUniformMax")}
MAX_PARAMS = SPACE_LIMITS["sweepParamsMax"]
MAX_CHOICES = SPACE_LIMITS["sweepChoiceValuesMax"]
SWEEP_NAME_MAX_LENGTH = C.LIMITS["sweepNameMaxLength"]
SEED_MAX = 2**32  # exclusive


class SweepError(ValueError):
    """The server refused to create or refine a sweep (e.g. 409 ``sweep_conflict``: a sweep of that
    name exists with another space). A ValueError, raised before training starts; ``code`` and
    ``status`` are the server's error code and HTTP status."""

    def __init__(self, message: str, code: str = "error", status: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


# ---------------------------------------------------------------------- space helpers


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        # numpy / torch scalars: accepted through float(), but never a bool or a string
        if hasattr(x, "__float__") and not isinstance(x, (str, bytes, bool)):
            try:
                x = float(x)
            except Exception:
                raise ValueError("%s must be a number, got %r" % (what, x)) from None
        else:
            raise ValueError("%s must be a number, got %r" % (what, x))
    v = float(x)
    if not math.isfinite(v):
        raise ValueError("%s must be finite, got %r" % (what, x))
    return v


def log_uniform(low: float, high: float) -> Dict[str, Any]:
    """A scale parameter (learning rate, weight decay): sampled uniformly in log space between `low`
    and `high`, so 1e-4..1e-3 gets as many trials as 1e-2..1e-1.

    Args:
        low: smallest value, > 0 (at least 1e-300).
        high: largest value, > low (at most 1e300).

    Returns:
        The wire form ``{"distribution": "log_uniform", "low": low, "high": high}`` (a plain dict).

    Raises:
        ValueError: `low` <= 0, `high` <= `low`, or a bound that is not a finite number.

    Example:
        >>> babysit.log_uniform(1e-4, 1e-1)
        {'distribution': 'log_uniform', 'low': 0.0001, 'high': 0.1}
    """
    lo = _number(low, "log_uniform low")
    hi = _number(high, "log_uniform high")
    if lo <= 0:
        raise ValueError("log_uniform low must be > 0 (it is sampled in log space), got %r" % (low,))
    if not hi > lo:
        raise ValueError("log_uniform high must be > low, got low=%r high=%r" % (low, high))
    if lo < SPACE_LIMITS["sweepLogUniformMin"] or hi > SPACE_LIMITS["sweepLogUniformMax"]:
        raise ValueError("log_uniform bounds must lie within [%g, %g], got low=%r high=%r"
                         % (SPACE_LIMITS["sweepLogUniformMin"], SPACE_LIMITS["sweepLogUniformMax"], low, high))
    return {"distribution": "log_uniform", "low": lo, "high": hi}


def uniform(low: float, high: float) -> Dict[str, Any]:
    """A parameter sampled uniformly between `low` and `high` (dropout, momentum).

    Raises:
        ValueError: `high` <= `low`, or a bound that is not a finite number.

    Example:
        >>> babysit.uniform(0.0, 0.5)
        {'distribution': 'uniform', 'low': 0.0, 'high': 0.5}
    """
    lo = _number(low, "uniform low")
    hi = _number(high, "uniform high")
    if not hi > lo:
        raise ValueError("uniform high must be > low, got low=%r high=%r" % (low, high))
    if not math.isfinite(hi - lo):
        raise ValueError("uniform range is too wide (high - low overflows), got low=%r high=%r" % (low, high))
    return {"distribution": "uniform", "low": lo, "high": hi}


def _integer(x: Any, what: str) -> int:
    if isinstance(x, bool):
        raise ValueError("%s must be an integer, got %r" % (what, x))
    if isinstance(x, int):
        v = x
    else:
        f = _number(x, what)
        if f != math.floor(f):
            raise ValueError("%s must be an integer, got %r" % (what, x))
        v = int(f)
    if abs(v) > 2**53 - 1:
        raise ValueError("%s must be within +-(2^53 - 1), got %r" % (what, x))
    return v


def int_uniform(low: int, high: int) -> Dict[str, Any]:
    """An integer parameter (layers, batch-size exponent): each of low, low + 1, ..., high equally
    likely (both ends included).

    Raises:
        ValueError: a bound that is not an integer, or `high` <= `low` (a single value is a fixed
            value: write it bare).

    Example:
        >>> babysit.int_uniform(1, 4)
        {'distribution': 'int_uniform', 'low': 1, 'high': 4}
    """
    lo = _integer(low, "int_uniform low")
    hi = _integer(high, "int_uniform high")
    if hi <= lo:
        raise ValueError("int_uniform high must be > low (a single value is a fixed value: write it bare), got low=%r high=%r"
                         % (low, high))
    if hi - lo + 1 > 2**53 - 1:
        raise ValueError("int_uniform range is too wide (more than 2^53 - 1 values)")
    return {"distribution": "int_uniform", "low": lo, "high": hi}


def _scalar(v: Any, what: str) -> Any:
    if v is None or isinstance(v, (bool, str)):
        if isinstance(v, str) and not C.is_well_formed(v):
            raise ValueError("%s must be well-formed Unicode, got %r" % (what, v))
        return v
    if isinstance(v, int):
        if abs(v) > 2**53 - 1:
            raise ValueError("%s must be within +-(2^53 - 1), got %r" % (what, v))
        return v
    if isinstance(v, float) or hasattr(v, "__float__"):
        f = _number(v, what)
        return int(f) if hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu" else f
    raise ValueError("%s must be a number, string, bool or None, got %s" % (what, type(v).__name__))


def choice(values: Sequence[Any]) -> Dict[str, Any]:
    """A categorical parameter: one of `values`, each equally likely.

    Args:
        values: 1..1000 numbers, strings, bools or None (e.g. ``["relu", "tanh"]`` or ``[32, 64, 128]``).

    Raises:
        ValueError: no values, too many, or a value that is not a scalar (a list, a dict, NaN).

    Example:
        >>> babysit.choice(["relu", "tanh"])
        {'distribution': 'choice', 'values': ['relu', 'tanh']}
    """
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise ValueError("choice takes a list of values, e.g. choice(['relu', 'tanh']), got %r" % (values,))
    vals = [_scalar(v, "choice values[%d]" % i) for i, v in enumerate(values)]
    if not vals:
        raise ValueError("choice needs at least one value")
    if len(vals) > MAX_CHOICES:
        raise ValueError("choice takes at most %d values, got %d" % (MAX_CHOICES, len(vals)))
    return {"distribution": "choice", "values": vals}


def validate_space(space: Mapping[str, Any]) -> Dict[str, Any]:
    """Checks a search space and returns it in wire form (what the server stores).

    A space maps parameter names to a distribution (`log_uniform`, `uniform`, `int_uniform`,
    `choice`, or their dict form ``{"distribution": ..., ...}``) or to a fixed value (a number,
    string, bool or None, the same in every trial).

    Raises:
        ValueError: the space is not a dict, is empty, has more than 100 parameters, a name that is not a
            valid config key (1..200 code points, no control characters, not ``"sweep"`` or
            ``"babysit"``), or a bad spec.

    Example:
        >>> babysit.validate_space({"lr": babysit.log_uniform(1e-4, 1e-1), "epochs": 3})
        {'lr': {'distribution': 'log_uniform', 'low': 0.0001, 'high': 0.1}, 'epochs': 3}
    """
    if not isinstance(space, Mapping):
        raise ValueError("space must be a dict of parameter name -> distribution or fixed value, got %s"
                         % type(space).__name__)
    if not space:
        raise ValueError("space must name at least one parameter")
    if len(space) > MAX_PARAMS:
        raise ValueError("space may have at most %d parameters, got %d" % (MAX_PARAMS, len(space)))
    out: Dict[str, Any] = {}
    for name, spec in space.items():
        problem = C.name_problem(name, SPACE_LIMITS["sweepParamNameMaxLength"], "parameter names")
        if problem:
            raise ValueError("space: %s, got %r" % (problem, name))
        if name in RESERVED_PARAM_NAMES:
            raise ValueError("space: the parameter name %r is reserved in a run's config (config.sweep links a run to its "
                             "sweep); name the parameter otherwise" % name)
        out[name] = _spec(name, spec)
    return out


def _spec(name: str, spec: Any) -> Any:
    if isinstance(spec, Mapping):
        kind = spec.get("distribution")
        if kind not in DISTRIBUTIONS:
            raise ValueError("space[%r]: distribution must be one of %s, got %r" % (name, ", ".join(DISTRIBUTIONS), kind))
        want = {"values"} if kind == "choice" else {"low", "high"}
        extra = set(spec) - want - {"distribution"}
        missing = want - set(spec)
        if missing or extra:
            got = ", ".join(sorted(str(k) for k in spec))
            raise ValueError("space[%r]: a %s takes %s, got %s" % (name, kind, " and ".join(sorted(want)), got))
        try:
            if kind == "choice":
                return choice(spec["values"])
            return {"log_uniform": log_uniform, "uniform": uniform, "int_uniform": int_uniform}[kind](spec["low"], spec["high"])
        except ValueError as err:
            raise ValueError("space[%r]: %s" % (name, err)) from None
    if isinstance(spec, (list, tuple, set)):
        raise ValueError("space[%r]: a list is not a distribution; use babysit.choice(%r) to pick one of its values"
                         % (name, list(spec)))
    try:
        return _scalar(spec, "space[%r]" % name)
    except ValueError as err:
        raise ValueError("%s (a fixed value, or a distribution from log_uniform / uniform / int_uniform / choice)" % err) from None


# ---------------------------------------------------------------------- the sampler (lib/sweeps/types.ts)


def _fnv1a64(text: str) -> int:
    h = _FNV_OFFSET
    for b in text.encode("utf-8"):
        h = ((h ^ b) * _FNV_PRIME) & _M64
    return h


def _unit(seed: int, index: int, name: str) -> float:
    state = ((seed << 32) ^ index ^ _fnv1a64(name)) & _M64
    z = (state + _GOLDEN) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    z = z ^ (z >> 31)
    return (z >> 11) / _TWO_53


# ln and exp of lib/sweeps/sampler.ts, operation for operation: math.log / math.exp (the C library's)
# and JavaScript's Math.log / Math.exp differ by an ulp now and then, so the sampler uses its own,
# built from + - * / only, which IEEE 754 rounds the same everywhere.
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_INV_LN2 = 1.4426950408889634
_SQRT2 = 1.4142135623730951
_LN_TERMS = 12
_EXP_TERMS = 16


def _pow2(k: int) -> float:
    """2**k for an integer k in [-1022, 1023], exactly."""
    return struct.unpack("<d", struct.pack("<Q", (k + 1023) << 52))[0]


def _ln(x: float) -> float:
    """ln x for a normal x > 0: x = m 2^e with m in [sqrt(1/2), sqrt 2), ln m = 2 atanh((m-1)/(m+1))."""
    e = ((struct.unpack("<Q", struct.pack("<d", x))[0] >> 52) & 0x7FF) - 1023
    m = x / _pow2(e)
    if m > _SQRT2:
        m = m / 2
        e = e + 1
    s = (m - 1) / (m + 1)
    s2 = s * s
    p = 1 / (2 * _LN_TERMS + 1)
    for k in range(_LN_TERMS - 1, -1, -1):
        p = 1 / (2 * k + 1) + s2 * p
    return e * _LN2_HI + (e * _LN2_LO + 2 * s * p)


def _exp(y: float) -> float:
    """e^y for y in [-700, 700]: y = k ln2 + r with |r| <= ln2 / 2, e^r by its Taylor series."""
    k = math.floor(y * _INV_LN2 + 0.5)
    r = y - k * _LN2_HI - k * _LN2_LO
    p = 1.0
    for n in range(_EXP_TERMS, 0, -1):
        p = 1 + (r * p) / n
    return p * _pow2(k)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_MAX:
        raise ValueError("seed must be an integer with 0 <= seed < 2**32, got %r" % (seed,))
    return seed


def sample(space: Mapping[str, Any], seed: int, index: int) -> Dict[str, Any]:
    """Trial `index` of a sweep with this `space` and `seed`: the values the server hands out too.

    Args:
        space: a search space (see `validate_space`).
        seed: integer, 0 <= seed < 2**32.
        index: trial index, integer >= 0.

    Returns:
        ``{name: value}``: floats for log_uniform/uniform, ints for int_uniform, one of the values
        for choice, fixed values as they are.

    Example:
        >>> babysit.sample({"lr": babysit.log_uniform(1e-4, 1e-1), "epochs": 3}, seed=7, index=0)  # doctest: +SKIP
        {'lr': 0.0021..., 'epochs': 3}
    """
    seed = _check_seed(seed)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0 or index > 2**53 - 1:
        raise ValueError("index must be an integer >= 0, got %r" % (index,))
    space = validate_space(space)
    out: Dict[str, Any] = {}
    for name, spec in space.items():
        if not isinstance(spec, dict):
            out[name] = spec
            continue
        u = _unit(seed, index, name)
        kind = spec["distribution"]
        if kind == "uniform":
            out[name] = spec["low"] + u * (spec["high"] - spec["low"])
        elif kind == "log_uniform":
            a = _ln(spec["low"])
            v = _exp(a + u * (_ln(spec["high"]) - a))
            out[name] = min(spec["high"], max(spec["low"], v))
        elif kind == "int_uniform":
            out[name] = min(spec["high"], spec["low"] + int(math.floor(u * (spec["high"] - spec["low"] + 1))))
        else:
            vals = spec["values"]
            out[name] = vals[int(math.floor(u * len(vals)))]
    return out


def default_seed(project: str, name: str) -> int:
    """The seed of a sweep created without one: derived from its project and name, so every worker
    (and a rerun of the script) draws the same trials, with or without the server."""
    return _fnv1a64(project + "\u0000" + name) >> 32


# ---------------------------------------------------------------------- sweeps and trials


def _goal_for(metric: str) -> str:
    low = metric.lower()
    return "min" if any(w in low for w in ("loss", "err", "perplexity", "mse", "mae", "rmse")) else "max"


def _early_stop(opts: Any) -> Optional[Dict[str, Any]]:
    if opts is None:
        return None
    if opts is False:
        return {"rule": "none"}
    if not isinstance(opts, Mapping):
        raise ValueError("early_stop must be a dict like {'rule': 'median', 'min_trials': 4, 'warmup_steps': 0}, or False")
    names = {"rule": "rule", "min_trials": "minTrials", "minTrials": "minTrials",
             "warmup_steps": "warmupSteps", "warmupSteps": "warmupSteps"}
    out: Dict[str, Any] = {}
    for k, v in opts.items():
        if k not in names:
            raise ValueError("early_stop takes rule, min_trials and warmup_steps, got %r" % (k,))
        out[names[k]] = v
    rule = out.get("rule", "median")
    if rule not in ("median", "none"):
        raise ValueError("early_stop rule must be 'median' or 'none', got %r" % (rule,))
    out["rule"] = rule
    for k, least in (("minTrials", 1), ("warmupSteps", 0)):
        if k in out and (isinstance(out[k], bool) or not isinstance(out[k], int) or out[k] < least):
            raise ValueError("early_stop %s must be an integer >= %d, got %r" % (k, least, out[k]))
    return out


class Trial:
    """One trial of a sweep: its index and sampled hyperparameters. Get them from `Sweep.trials()`.

    Attributes:
        index: the trial's index in the sweep (0, 1, 2, ...): the sampler's input, unique in the sweep.
        config: ``{name: value}``, the sampled values (fixed values of the space included).
        sweep: the `Sweep` it belongs to.
        run: the Run made by `init()` (None before).
        local: True when the trial was sampled here because the server could not be reached.
    """

    def __init__(self, sweep: "Sweep", index: int, config: Dict[str, Any], local: bool) -> None:
        self.sweep = sweep
        self.index = index
        self.config = config
        self.local = local
        self.run: Any = None

    def init(self, **kwargs: Any):
        """Starts this trial's run: `babysit.init` in the sweep's project, on its server, with
        ``config = {**your config, **trial.config, "sweep": {"id": <sweep name>, "trial": index}}``
        (plus the space when the trial was sampled locally, so the server can make the sweep).

        Args:
            **kwargs: what `babysit.init` takes besides `project` and `url` (name: default
                ``"<sweep name>-<index>"``; config: more values to record, e.g. ``{"epochs": 3}``).

        Returns:
            The Run (also the current run of babysit.log() & co.).

        Example:
            >>> for trial in sweep.trials(10):           # doctest: +SKIP
            ...     with trial.init() as run:
            ...         train(lr=trial.config["lr"], run=run)
        """
        from . import init as _init

        for k in ("project", "url"):
            if k in kwargs:
                raise ValueError("trial.init(): %s comes from the sweep (%r); do not pass it" % (k, getattr(self.sweep, k)))
        config = kwargs.pop("config", None)
        merged: Dict[str, Any] = {}
        if config is not None:
            from ._config import config_to_json

            merged.update(config_to_json(config, warn=lambda msg: self.sweep._warner.warn("config", msg)))
            clash = sorted(k for k in merged if k in self.config or k == RESERVED_PARAM)
            if clash:
                self.sweep._warner.warn("clash:" + ",".join(clash)[:100],
                                        "trial.init(): config keys %s are the sweep's; the trial's values are used" % ", ".join(clash))
        merged.update(self.config)
        link: Dict[str, Any] = {"id": self.sweep.name, "trial": self.index}
        if self.local:
            link["space"] = self.sweep.space
        merged[RESERVED_PARAM] = link
        kwargs.setdefault("name", ("%s-%d" % (self.sweep.name, self.index))[: C.RUN_NAME_MAX_LENGTH])
        self.run = _init(self.sweep.project, config=merged, url=self.sweep.base_url, **kwargs)
        return self.run

    def __repr__(self) -> str:
        return "<babysit.Trial %s #%d %r%s>" % (self.sweep.name, self.index, self.config, " (local)" if self.local else "")


class Sweep:
    """A hyperparameter search: a space, an objective, and the trials drawn from it. Make one with
    `babysit.sweep()`.

    Attributes:
        id: the server's sweep id (None while the server could not be reached).
        name, project: as given; ``name`` is what a run's ``config.sweep.id`` refers to.
        space: the space in wire form. objective, goal: the metric and "max"/"min" (None: the server's
            default, best val/acc, else lowest val/loss, else lowest train/loss).
        seed, budget, stage, parent_id: as stored (stage 1 for a first sweep, parent's + 1 for refine()).
        url: the sweep's page, e.g. ``http://127.0.0.1:3000/sweeps/<id>`` (None while offline).
        offline: True when the trials are sampled locally (the server could not be reached).
    """

    def __init__(self, project: str, name: str, space: Dict[str, Any], objective: Optional[str], goal: Optional[str],
                 seed: int, budget: Optional[int], early_stop: Optional[Dict[str, Any]], base_url: str,
                 timeout: float, quiet: bool) -> None:
        self.project = project
        self.name = name
        self.space = space
        self.objective = objective
        self.goal = goal
        self.seed = seed
        self.budget = budget
        self.early_stop = early_stop
        self.base_url = base_url
        self.id: Optional[str] = None
        self.url: Optional[str] = None
        self.stage = 1
        self.parent_id: Optional[str] = None
        self.offline = False
        self._timeout = timeout
        self._quiet = quiet
        self._warner = OnceWarner()
        self._client = Client(base_url)
        self._next_local = 0
        self._current: Optional[Trial] = None
        self._seed_given = True

    # -- HTTP

    def _call(self, method: str, path: str, body: Any, deadline: float) -> Tuple[int, Any]:
        """One request, retried with backoff while the server is away or busy (5xx, 408, 429) until
        `deadline` (time.monotonic()); raises TransportError / KeyRefused when it gives up."""
        delay = 0.1
        while True:
            left = deadline - time.monotonic()
            try:
                data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
                status, payload = self._client.request(method, path, data, timeout=max(0.2, min(10.0, left)),
                                                       connect_timeout=min(2.0, max(0.2, left)))
                if status < 500 and status not in (408, 429):
                    return status, payload
                why = error_text(status, payload)
            except KeyRefused:
                raise
            except TransportError as err:
                why = str(err)
            if time.monotonic() + delay > deadline:
                raise TransportError(why)
            time.sleep(delay * (0.75 + random.random() * 0.5))
            delay = min(2.0, delay * 2)

    def _adopt(self, view: Any) -> None:
        if not isinstance(view, Mapping):
            return
        if isinstance(view.get("id"), str):
            self.id = view["id"]
            rel = view.get("url")
            self.url = self.base_url + (rel if isinstance(rel, str) and rel.startswith("/") else "/sweeps/" + quote(self.id, safe=""))
        for attr, key in (("name", "name"), ("project", "project")):
            if isinstance(view.get(key), str) and view[key]:
                setattr(self, attr, view[key])
        if isinstance(view.get("space"), Mapping) and view["space"]:
            self.space = dict(view["space"])
        obj = view.get("objective")
        if isinstance(obj, Mapping) and isinstance(obj.get("metric"), str) and obj.get("goal") in GOALS:
            self.objective, self.goal = obj["metric"], obj["goal"]
        for attr, key in (("seed", "seed"), ("stage", "stage")):
            if isinstance(view.get(key), int) and not isinstance(view.get(key), bool):
                setattr(self, attr, view[key])
        if "budget" in view and (view["budget"] is None or isinstance(view["budget"], int)):
            self.budget = view["budget"]
        if "parentId" in view and (view["parentId"] is None or isinstance(view["parentId"], str)):
            self.parent_id = view["parentId"]

    def _create(self, parent: Optional[str] = None) -> None:
        body: Dict[str, Any] = {"project": self.project, "name": self.name, "space": self.space}
        if self._seed_given:
            # else the server picks one (and every later worker gets the stored one): a derived seed
            # sent by a script would contradict the seed of a sweep that runs made on the fly
            body["seed"] = self.seed
        if self.objective is not None:
            body["objective"] = {"metric": self.objective, "goal": self.goal}
        if self.budget is not None:
            body["budget"] = self.budget
        if self.early_stop is not None:
            body["earlyStop"] = self.early_stop
        if parent is not None:
            body["parent"] = parent
        try:
            status, payload = self._call("POST", "/api/v1/sweeps", body, time.monotonic() + self._timeout)
        except KeyRefused as err:
            self._go_offline("the server refused the API key: %s; its runs are spooled until the key is fixed"
                             % err.problem(self.base_url))
            return
        except TransportError as err:
            self._go_offline("the server at %s could not be reached (%s)" % (self.base_url, err))
            return
        if status in (200, 201) and isinstance(payload, Mapping) and isinstance(payload.get("sweep"), Mapping):
            self._adopt(payload["sweep"])
            if not self._quiet:
                say("babysit: sweep %s / %s (stage %d) -> %s" % (self.project, self.name, self.stage, self.url))
            return
        if status == 404 and not (isinstance(payload, Mapping) and "error" in payload):
            self._go_offline("the server at %s has no sweeps API (an older babysit?)" % self.base_url)
            return
        code = payload["error"].get("code", "error") if isinstance(payload, Mapping) and isinstance(payload.get("error"), Mapping) else "error"
        raise SweepError("babysit.sweep(%r): the server refused it: %s" % (self.name, error_text(status, payload)), code, status)

    def _go_offline(self, why: str) -> None:
        self.offline = True
        self._warner.say("offline", "sweep %s: %s; sampling its trials here from seed %d (trial 0, 1, 2, ...); "
                         "the runs are spooled and join the sweep once they reach the server" % (self.name, why, self.seed))

    # -- trials

    def _local_trial(self) -> Optional[Trial]:
        index = self._next_local
        if self.budget is not None and index >= self.budget:
            return None
        self._next_local += 1
        return Trial(self, index, sample(self.space, self.seed, index), local=True)

    def _claim(self) -> Optional[Trial]:
        """The next trial: claimed from the server, or sampled here when it cannot be reached."""
        if self.offline or self.id is None:
            return self._local_trial()
        try:
            status, payload = self._call("POST", "/api/v1/sweeps/%s/trials" % quote(self.id, safe=""), {},
                                         time.monotonic() + self._timeout)
        except (TransportError, KeyRefused) as err:
            self._go_offline("the server stopped answering (%s)" % err)
            return self._local_trial()
        if status == 201 and isinstance(payload, Mapping) and isinstance(payload.get("trial"), Mapping):
            t = payload["trial"]
            index, config = t.get("index"), t.get("config")
            if isinstance(index, int) and isinstance(config, Mapping):
                self._next_local = max(self._next_local, index + 1)
                return Trial(self, index, dict(config), local=False)
        if status == 409 and isinstance(payload, Mapping) and (payload.get("error") or {}).get("code") == "sweep_complete":
            return None
        # Not a trial and not "complete" (the sweep was deleted, a key that may not write...): the
        # loop stops here rather than train trials nobody will see.
        self._warner.say("claim:%d" % status, "sweep %s: the server gave no trial (%s); no more trials from this process"
                         % (self.name, error_text(status, payload)))
        return None

    def trials(self, n: Optional[int] = None) -> Iterator[Trial]:
        """Yields up to `n` trials, one at a time, each claimed from the server when the previous one is
        done (a run left unfinished by the loop body is finished first).

        Stops early when the sweep's budget is used up (over all workers: the server answers 409
        ``sweep_complete``). With the server away, samples locally (see the module docstring).

        Args:
            n: trials for this process to run (default: until the sweep's budget is used up).

        Raises:
            ValueError: neither `n` nor the sweep's budget is given, or `n` is not an integer >= 0.

        Example:
            >>> for trial in sweep.trials(5):                       # doctest: +SKIP
            ...     run = trial.init(config={"epochs": 3})
            ...     train(trial.config, run)
            ...     run.finish()
        """
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ValueError("trials(n): n must be an integer >= 0, got %r" % (n,))
        if n is None and self.budget is None:
            raise ValueError("trials(): give the number of trials, trials(n), or create the sweep with a budget")
        return self._iterate(n)

    def _iterate(self, n: Optional[int]) -> Iterator[Trial]:
        count = 0
        while n is None or count < n:
            self._end_current()
            trial = self._claim()
            if trial is None:
                return
            self._current = trial
            count += 1
            yield trial
        self._end_current()

    def _end_current(self) -> None:
        t, self._current = self._current, None
        run = t.run if t is not None else None
        if run is not None and not run.finished:
            try:
                run.finish()
            except Exception:
                pass

    # -- stages

    def refine(self, top: int = 3, name: Optional[str] = None, budget: Optional[int] = None) -> Optional["Sweep"]:
        """Creates the next stage (coarse to fine): a child sweep whose ranges are narrowed around the
        `top` best trials (in log space for log_uniform), widened past an edge where the best sit on it.

        Args:
            top: how many of the best trials the new ranges are built around (default 3).
            name: the child's name (default ``"<name>-s<stage>"``).
            budget: the child's budget (default: none).

        Returns:
            The child `Sweep`, or None (with a warning) when there is none to make yet: fewer than 2
            trials have an objective (409 ``too_few_trials``), or the server cannot be reached.

        Example:
            >>> fine = sweep.refine(top=3)             # doctest: +SKIP
            >>> fine.space["lr"]                       # doctest: +SKIP
            {'distribution': 'log_uniform', 'low': 0.0021, 'high': 0.019}
        """
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise ValueError("refine(top=): an integer >= 1, got %r" % (top,))
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
            raise ValueError("refine(budget=): an integer >= 1, got %r" % (budget,))
        if name is not None:
            _check_name(name)
        self._end_current()
        if self.id is None:
            self._warner.say("refine-offline", "sweep %s: refine() needs the server, which could not be reached; "
                             "nothing refined" % self.name)
            return None
        body: Dict[str, Any] = {"top": top}
        if name is not None:
            body["name"] = C.trim(name)
        if budget is not None:
            body["budget"] = budget
        try:
            status, payload = self._call("POST", "/api/v1/sweeps/%s/refine" % quote(self.id, safe=""), body,
                                         time.monotonic() + self._timeout)
        except (TransportError, KeyRefused) as err:
            self._warner.say("refine", "sweep %s: refine() could not reach the server (%s); nothing refined" % (self.name, err))
            return None
        if status in (200, 201) and isinstance(payload, Mapping) and isinstance(payload.get("sweep"), Mapping):
            child = Sweep(self.project, self.name, self.space, self.objective, self.goal, self.seed, budget,
                          self.early_stop, self.base_url, self._timeout, self._quiet)
            child._adopt(payload["sweep"])
            if not self._quiet:
                say("babysit: sweep %s / %s (stage %d, refined from %s) -> %s"
                    % (child.project, child.name, child.stage, self.name, child.url))
            return child
        if status == 400:
            raise SweepError("refine(): the server refused it: %s" % error_text(status, payload), "invalid_body", status)
        self._warner.say("refine:%d" % status, "sweep %s: nothing refined (%s)" % (self.name, error_text(status, payload)))
        return None

    def get(self) -> Optional[Dict[str, Any]]:
        """The server's view of the sweep (GET /api/v1/sweeps/{id}: space, objective, every trial
        with its params, status, objective value and alerts, the best trials, the suggested next
        space), or None when the server cannot be reached (never raises).

        Example:
            >>> view = sweep.get()                                   # doctest: +SKIP
            >>> [t["objective"] for t in view["trials"]]             # doctest: +SKIP
        """
        if self.id is None:
            return None
        try:
            status, payload = self._call("GET", "/api/v1/sweeps/%s" % quote(self.id, safe=""), None, time.monotonic() + self._timeout)
        except (TransportError, KeyRefused):
            return None
        if status == 200 and isinstance(payload, Mapping) and isinstance(payload.get("sweep"), dict):
            return payload["sweep"]
        return None

    def __repr__(self) -> str:
        where = "offline" if self.offline else self.url
        return "<babysit.Sweep %s/%s stage=%d %s>" % (self.project, self.name, self.stage, where)


def _check_name(name: Any) -> str:
    problem = C.name_problem(C.trim(name) if isinstance(name, str) else name, SWEEP_NAME_MAX_LENGTH, "sweep names")
    if problem:
        raise ValueError("%s, got %r" % (problem, name))
    return C.trim(name)


def sweep(
    project: str,
    name: str,
    space: Mapping[str, Any],
    objective: Optional[str] = None,
    goal: Optional[str] = None,
    seed: Optional[int] = None,
    budget: Optional[int] = None,
    early_stop: Any = None,
    url: Optional[str] = None,
    timeout: float = 5.0,
    quiet: Optional[bool] = None,
    parent: Any = None,
) -> Sweep:
    """Creates a sweep (or joins it: every worker calls this with the same arguments) and returns it.

    POST /api/v1/sweeps; the same (project, name) again is the same sweep when space, objective and
    budget agree. Runs of its trials are linked to it through their config's ``sweep`` entry.
    The API key, like babysit.init()'s, comes from ``$BABYSIT_API_KEY``.

    Args:
        project: project name (as for babysit.init).
        name: sweep name, unique in the project, 1..200 code points.
        space: ``{name: distribution or fixed value}``, see `validate_space`.
        objective: the metric to optimise, e.g. ``"val/acc"`` (default: the server's choice, best
            ``val/acc`` if logged, else lowest ``val/loss``, else lowest ``train/loss``).
        goal: ``"max"`` or ``"min"``; default ``"min"`` when the metric's name says loss/err/mse/mae/
            perplexity, else ``"max"``.
        seed: 0 <= seed < 2**32 (default: the server picks one; every worker gets the stored seed. While
            the server cannot be reached: one derived from project and name, the same in every worker).
        budget: most trials over all workers (default: no limit; then give trials(n)).
        early_stop: ``{"rule": "median", "min_trials": 4, "warmup_steps": 0}`` (the default) configures
            run.should_stop(); ``False`` turns it off.
        url: server address (default ``$BABYSIT_URL``, else ``http://127.0.0.1:3000``).
        timeout: seconds to keep trying the server when creating the sweep or claiming a trial before
            sampling locally (default 5).
        quiet: do not print the sweep's address (default ``$BABYSIT_QUIET``).
        parent: the sweep this one refines, by id (a string) or as a `Sweep`: the new sweep is the
            parent's next stage (``stage`` = the parent's + 1), linked to it on the sweep pages. The
            parent must be a sweep of the same project (else the server refuses: 400 ``invalid_body``).
            ``sweep.refine()`` does this for you; ``parent=`` is for a next stage written by hand (the
            sweep page's snippet).

    Returns:
        The `Sweep`. When the server cannot be reached it samples locally (``sweep.offline``), with a
        warning; training goes on and its runs join the sweep when they sync.

    Raises:
        ValueError: a bad argument (space, name, goal, seed, budget), or `SweepError` (a ValueError)
            when the server refuses the sweep, e.g. 409 ``sweep_conflict``: that name exists with
            another space, objective or budget.

    Example:
        >>> sweep = babysit.sweep(project="digits", name="coarse", objective="val/acc", goal="max",   # doctest: +SKIP
        ...                       space={"lr": babysit.log_uniform(1e-4, 1), "wd": babysit.log_uniform(1e-6, 1e-2)})
    """
    from ._run import DEFAULT_URL

    problem = C.name_problem(C.trim(project) if isinstance(project, str) else project, C.PROJECT_MAX_LENGTH, "project names")
    if problem is not None:
        raise ValueError("%s, got %r" % (problem, project))
    project = C.trim(project)
    name = _check_name(name)
    clean = validate_space(space)
    if objective is not None:
        problem = C.name_problem(objective, C.KEY_MAX_LENGTH, "objective metric keys")
        if problem:
            raise ValueError("%s, got %r" % (problem, objective))
    if goal is not None and goal not in GOALS:
        raise ValueError("goal must be 'max' or 'min', got %r" % (goal,))
    if goal is not None and objective is None:
        raise ValueError("goal=%r needs the objective metric it applies to, e.g. objective='val/acc'" % (goal,))
    if objective is not None and goal is None:
        goal = _goal_for(objective)
    if seed is not None:
        _check_seed(seed)
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise ValueError("budget must be an integer >= 1 (trials over all workers), got %r" % (budget,))
    stop = _early_stop(early_stop)
    parent_id = _parent_id(parent)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError("timeout must be a number of seconds >= 0, got %r" % (timeout,))
    base = (url or os.environ.get("BABYSIT_URL") or DEFAULT_URL).rstrip("/")
    if quiet is None:
        quiet = os.environ.get("BABYSIT_QUIET", "").lower() in ("1", "true", "yes")
    s = Sweep(project, name, clean, objective, goal, default_seed(project, name) if seed is None else seed, budget, stop, base,
              float(timeout), quiet)
    s._seed_given = seed is not None
    s._create(parent_id)
    return s


def _parent_id(parent: Any) -> Optional[str]:
    if parent is None:
        return None
    if isinstance(parent, Sweep):
        if parent.id is None:
            raise ValueError("parent=%r has no id: it was made while the server could not be reached" % (parent,))
        return parent.id
    if isinstance(parent, str) and parent.strip():
        return parent.strip()
    raise ValueError("parent must be a sweep id (a non-empty string) or a Sweep, got %r" % (parent,))


class StopAsker:
    """run.should_stop(): asks GET /api/v1/runs/{id}/should-stop in a background thread, at most once a
    second, and waits for the answer only briefly, so the training loop is never held up for long."""

    MIN_INTERVAL = 1.0  # seconds between two questions of one run
    MAX_BACKOFF = 30.0  # seconds between attempts while the server is away

    def __init__(self, base_url: str) -> None:
        self._client = Client(base_url)
        self._lock = threading.Lock()
        self._answer = False
        self._asked_at = -math.inf
        self._failures = 0
        self._inflight: Optional[threading.Event] = None
        self.reason: Optional[str] = None
        self.evidence: Dict[str, Any] = {}

    def ask(self, run_id: str, wait: float) -> bool:
        with self._lock:
            now = time.monotonic()
            gap = self.MIN_INTERVAL if not self._failures else min(self.MAX_BACKOFF, 2.0 ** self._failures)
            done = self._inflight
            if done is None and now - self._asked_at >= gap:
                self._asked_at = now
                done = self._inflight = threading.Event()
                threading.Thread(target=self._fetch, args=(run_id, done), name="babysit-should-stop", daemon=True).start()
        if done is not None and wait > 0:
            done.wait(wait)
        return self._answer

    def _fetch(self, run_id: str, done: threading.Event) -> None:
        try:
            status, payload = self._client.get("/api/v1/runs/%s/should-stop" % quote(run_id, safe=""), timeout=5.0)
            if status == 200 and isinstance(payload, Mapping) and isinstance(payload.get("stop"), bool):
                self._answer = payload["stop"]
                self.reason = payload.get("reason") if isinstance(payload.get("reason"), str) else None
                self.evidence = payload["evidence"] if isinstance(payload.get("evidence"), dict) else {}
                self._failures = 0
            elif status == 404:
                self._failures = 0  # the run is not on the server yet (spooled): nothing to stop
            else:
                self._failures += 1
        except Exception:
            self._failures += 1  # away, or a refused key: False, asked again later
        finally:
            with self._lock:
                self._inflight = None
            done.set()

    def close(self) -> None:
        self._client.shutdown()
