"""A run's config as the JSON object the server stores and the diagnostics read.

Training scripts keep hyperparameters in dicts, dataclasses (often nested), argparse Namespaces,
SimpleNamespaces, plain objects, enums, paths and numpy/torch scalars. Each becomes the JSON value a
reader expects (``config.model.num_classes`` stays a number), never its repr. Conversion never
raises and always ends: cycles become a marker string, and a config over the contract's depth or
size limits is cut with markers that say so (the server would refuse the whole run otherwise).
"""

from __future__ import annotations

import dataclasses
import decimal
import enum
import fractions
import json
import os
import sys
import types
from collections.abc import Mapping
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _contract as C
from ._values import encode_number, is_tensor

# Every marker starts with this, so a reader (or a test) can tell a cut from a value. The wording of
# each marker is the TypeScript SDK's (sdk/ts/src/to-json.ts): a config reads the same from either.
MARKER_PREFIX = "[babysit: "


def marker(text: str) -> str:
    return MARKER_PREFIX + text + "]"


CYCLE = marker("circular reference")
TOO_LARGE = marker("truncated, too large")
_SAFE_INT = 2**53 - 1  # JSON readers in JavaScript lose precision beyond this
# A config is settings, not data: past this many values the rest is cut. The count also bounds the
# time spent on a config that shares one object many times (a list holding itself twice, 30 deep).
_MAX_NODES = 100_000
# The server measures the config as JavaScript writes it, which spells a few numbers longer than
# Python does (0.00001 against 1e-05): a margin keeps a config cut here within its limit there.
_CONFIG_BUDGET = C.CONFIG_BYTES - 16 * 1024


class _Converter:
    def __init__(self, max_depth: int = C.CONFIG_DEPTH, max_nodes: int = _MAX_NODES) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.problems: List[str] = []  # distinct problems, for one warning
        self._path: List[int] = []  # ids of the containers being converted: a repeat is a cycle

    def problem(self, what: str) -> None:
        if what not in self.problems:
            self.problems.append(what)

    def value(self, v: Any, depth: int) -> Any:
        """`v` as JSON; `depth` is the level `v` would have if it is a container (config itself is 1)."""
        self.nodes += 1
        t = type(v)
        if t is float:
            return encode_number(v)
        if t is int and -_SAFE_INT <= v <= _SAFE_INT:
            return v
        if t is str:
            return C.well_formed(v)
        if v is None or t is bool:
            return v
        try:
            scalar = _scalar(v)
        except Exception:
            return _text(v)
        if scalar is not _NOT_SCALAR:
            return scalar
        if depth > self.max_depth:
            self.problem("nested deeper than %d levels" % self.max_depth)
            return marker("truncated, deeper than %d levels" % self.max_depth)
        if is_tensor(v) or _is_ndarray(v):
            size = _size(v)
            if size > self.max_nodes:
                self.problem("an array of %d values" % size)
                return TOO_LARGE
            try:
                data = v.detach().cpu().tolist() if is_tensor(v) else v.tolist()
            except Exception:
                return _text(v)
            return self.value(data, depth)
        key = id(v)
        if key in self._path:
            self.problem("a cycle")
            return CYCLE
        try:
            members = _members(v)
        except Exception:  # a mapping or property that raises when read: the value is what it says
            return _text(v)
        if members is None:
            return _text(v)
        is_object, items = members
        self._path.append(key)
        try:
            if not is_object:
                seq: List[Any] = []
                for x in items:
                    if self.nodes >= self.max_nodes:
                        self.problem("more than %d values" % self.max_nodes)
                        seq.append(TOO_LARGE)
                        break
                    seq.append(self.value(x, depth + 1))
                return seq
            out: Dict[str, Any] = {}
            for k, x in items:
                if self.nodes >= self.max_nodes:
                    self.problem("more than %d values" % self.max_nodes)
                    out[marker("truncated")] = TOO_LARGE
                    break
                out[_key(k)] = self.value(x, depth + 1)
            return out
        finally:
            self._path.pop()


_NOT_SCALAR = object()


def _scalar(v: Any) -> Any:
    """The JSON scalar for `v`, or _NOT_SCALAR for containers and objects."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return C.well_formed(v)
    if isinstance(v, enum.Enum):  # before int, which an IntEnum also is
        val = v.value  # a str-valued enum reads as its value ("relu"); others as their name ("ADAM")
        return C.well_formed(val) if isinstance(val, str) else (v.name or str(v))
    if isinstance(v, int):
        # A seed of 2**63 would come back rounded from a JavaScript JSON reader: keep it exact as text.
        return int(v) if -_SAFE_INT <= v <= _SAFE_INT else str(int(v))
    if isinstance(v, float):
        return encode_number(float(v))
    if isinstance(v, (bytes, bytearray)):
        return C.well_formed(bytes(v).decode("utf-8", "replace"))
    if isinstance(v, os.PathLike):
        try:
            return C.well_formed(os.fsdecode(v))
        except Exception:
            return _text(v)
    if isinstance(v, complex):
        return _text(v)
    if (is_tensor(v) or _is_ndarray(v) or _is_numpy_scalar(v)) and _size(v) == 1 and getattr(v, "ndim", 0) == 0:
        try:
            return _scalar(v.item())
        except Exception:
            return _text(v)
    if isinstance(v, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return _qualname(v)
    if isinstance(v, (decimal.Decimal, fractions.Fraction)):
        try:
            return encode_number(float(v))
        except Exception:
            return _text(v)
    return _NOT_SCALAR


def _members(v: Any) -> Optional[Tuple[bool, List[Any]]]:
    """(True, [(name, value), ...]) for object-like values, (False, [value, ...]) for sequences,
    None for anything else."""
    if isinstance(v, Mapping):
        return True, list(v.items())
    if isinstance(v, tuple) and hasattr(v, "_fields"):  # namedtuple: its fields name its values
        return True, list(zip(v._fields, v))
    if isinstance(v, (list, tuple)):
        return False, list(v)
    if isinstance(v, (set, frozenset)):
        return False, sorted(v, key=repr)  # sets have no order; a stable one keeps runs comparable
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return True, [(f.name, getattr(v, f.name, None)) for f in dataclasses.fields(v)]
    if isinstance(v, types.SimpleNamespace) or type(v).__name__ == "Namespace":
        return True, list(vars(v).items())
    d = getattr(v, "__dict__", None)
    if isinstance(d, dict) and not callable(v):
        # A plain object holding settings: its public attributes (a leading _ marks internals).
        public = [(k, x) for k, x in d.items() if not (isinstance(k, str) and k.startswith("_"))]
        return (True, public) if public else None
    return None


def _plain_object(obj: Any) -> bool:
    """A user's own class or instance holding settings (not a mapping, sequence, dataclass or namespace)."""
    if isinstance(obj, (Mapping, list, tuple, set, frozenset, str, bytes)) or dataclasses.is_dataclass(obj):
        return False
    if isinstance(obj, types.SimpleNamespace) or type(obj).__name__ == "Namespace":
        return False
    return (obj if isinstance(obj, type) else type(obj)).__module__ != "builtins"


def _class_settings(obj: Any) -> Dict[str, Any]:
    """Public, non-callable class attributes of obj's class (or of obj, a class), then its own ones."""
    cls = obj if isinstance(obj, type) else type(obj)
    if cls.__module__ == "builtins":
        return {}
    out: Dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # base classes first, object left out
        for k, x in vars(klass).items():
            if isinstance(k, str) and not k.startswith("_") and not callable(x) \
                    and not isinstance(x, (property, staticmethod, classmethod)):
                out[k] = x
    if not isinstance(obj, type):
        out.update((k, x) for k, x in getattr(obj, "__dict__", {}).items() if isinstance(k, str) and not k.startswith("_"))
    return out


def _key(k: Any) -> str:
    if isinstance(k, str):
        return C.well_formed(k)
    if k is None or isinstance(k, (bool, int, float)):
        return json.dumps(k)  # the spelling json.dumps gives dict keys: "true", "1", "0.5", "null"
    if isinstance(k, enum.Enum):
        return C.well_formed(str(k.name))
    return _text(k)


def _text(v: Any) -> str:
    try:
        return C.well_formed(str(v))
    except Exception:
        return "<%s>" % type(v).__name__


def _qualname(v: Any) -> str:
    name = getattr(v, "__qualname__", None) or getattr(v, "__name__", None)
    if not isinstance(name, str):
        return _text(v)
    module = getattr(v, "__module__", None)
    return C.well_formed("%s.%s" % (module, name) if isinstance(module, str) and module != "builtins" else name)


def _is_ndarray(v: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(v, np.ndarray)


def _is_numpy_scalar(v: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(v, np.generic)


def _size(v: Any) -> int:
    try:
        n = v.numel() if is_tensor(v) else getattr(v, "size", 1)
        return int(n)
    except Exception:
        return 0


def _encoded_size(v: Any) -> int:
    return len(json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8"))


def _fit(obj: Dict[str, Any], budget: int, path: str, cut: List[str]) -> Dict[str, Any]:
    """Replaces the largest members of `obj` by markers until it encodes within `budget` bytes.

    A member that is an object itself is cut inside first when that alone makes it fit, so one big
    table deep in a config does not take its small neighbours with it.
    """
    sizes = {k: _encoded_size(v) for k, v in obj.items()}
    total = _encoded_size(obj)
    for k in sorted(sizes, key=lambda k: -sizes[k]):
        if total <= budget:
            break
        v = obj[k]
        here = "%s.%s" % (path, k) if path else k
        inner_budget = sizes[k] - (total - budget)
        if isinstance(v, dict) and v and inner_budget > 256:
            obj[k] = _fit(dict(v), inner_budget, here, cut)
        else:
            obj[k] = marker("truncated, %d bytes" % sizes[k])
            cut.append(here)
        total += _encoded_size(obj[k]) - sizes[k]  # the separators around a member do not change
    return obj


def config_to_json(config: Any, warn: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Turns `config` into a JSON object within the contract's limits; never raises for its contents.

    Accepts a mapping, a dataclass, an argparse.Namespace / SimpleNamespace or any object with
    attributes at the top; anything inside becomes JSON (see sdk/python/README.md). Raises TypeError
    only when the top level is not object-like (a list, a number). `warn` is called once with a
    sentence when something had to be cut.

    Example:
        >>> @dataclasses.dataclass
        ... class Model:
        ...     num_classes: int = 10
        >>> config_to_json({"model": Model(), "lr": 1e-3})
        {'model': {'num_classes': 10}, 'lr': 0.001}
    """
    if config is None:
        return {}
    conv = _Converter()
    if _plain_object(config):
        # settings kept as class attributes (class Cfg: lr = 0.1), passed as the class or an
        # instance: the class's public values, the instance's own over them
        settings = _class_settings(config)
        if settings:
            config = settings
    members = _members(config)
    if members is None or not members[0]:
        raise TypeError("config must be a dict (or a dataclass / namespace / object with attributes), got %s"
                        % type(config).__name__)
    try:
        out = conv.value(config, 1)
    except RecursionError:  # a str() or property that recurses: nothing here may stop the run
        conv.problem("a value that could not be read")
        out = {"config": marker("could not be read")}
    if not isinstance(out, dict):  # a config that is a cycle of itself, say
        out = {"config": out}
    cut: List[str] = []
    if _encoded_size(out) > _CONFIG_BUDGET:
        out = _fit(out, _CONFIG_BUDGET, "", cut)
        conv.problem("over %d bytes of JSON (cut: %s)" % (C.CONFIG_BYTES, ", ".join(cut[:5]) + (" ..." if len(cut) > 5 else "")))
    if conv.problems and warn is not None:
        warn("parts of the config were replaced by %r... markers to fit the server's limits: %s"
             % (MARKER_PREFIX, "; ".join(conv.problems)))
    return out


def data_to_json(data: Mapping, max_depth: int, max_bytes: int, warn: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Event data as a JSON object, converted as a config is (see config_to_json) and cut with the same
    markers to `max_depth` levels (the data object itself is level 1) and `max_bytes` of JSON, as the
    TypeScript SDK does: a value too deep or too large is marked, the rest of the event kept.

    Example:
        >>> data_to_json({"loss": float("nan"), "deep": {"a": {"b": 1}}}, 2, 1 << 20)
        {'loss': 'NaN', 'deep': {'a': '[babysit: truncated, deeper than 2 levels]'}}
    """
    budget = max_bytes - 1024  # the body around the event: its type, step, time and seq

    conv = _Converter(max_depth, max_nodes=max(_MAX_NODES, budget // 2))
    try:
        out = conv.value(data, 1)
    except RecursionError:
        conv.problem("a value that could not be read")
        out = {"data": marker("could not be read")}
    if not isinstance(out, dict):
        out = {"data": out}
    cut: List[str] = []
    if _encoded_size(out) > budget:
        out = _fit(out, budget, "", cut)
        conv.problem("over %d bytes of JSON (cut: %s)" % (max_bytes, ", ".join(cut[:5]) + (" ..." if len(cut) > 5 else "")))
    if conv.problems and warn is not None:
        warn("parts were replaced by %r... markers to fit the server's limits: %s" % (MARKER_PREFIX, "; ".join(conv.problems)))
    return out
