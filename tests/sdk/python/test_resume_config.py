"""Resumed runs continue their steps; configs of any shape arrive as JSON; finish() leaves no socket open."""

import argparse
import collections
import dataclasses
import enum
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import types
import warnings

import pytest

import babysit
from babysit import BabysitWarning
from babysit.__main__ import main
from babysit._spool import parse_spool
from babysit._config import MARKER_PREFIX, config_to_json
from conftest import SDK, wait_for

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "contract.json")) as f:
    LIMIT = {k: v["value"] for k, v in json.load(f)["limits"].items()}


# ------------------------------------------------------------------------------ resume


def test_a_resumed_run_continues_after_its_last_step(server, make_run):
    first = make_run(id="resume-me")
    for i in range(5):
        first.log({"train/loss": 1.0 - i / 10})
    assert first.finish()
    second = make_run(id="resume-me")
    assert second.resumed
    for i in range(3):
        second.log({"train/loss": 0.4 - i / 10})
    second.log_histogram("h", ([0.0, 1.0], [2.0]))  # at the current step, like a row's
    second.event("checkpoint", {"path": "c.pt"})
    assert second.step == 7
    assert second.finish()
    assert sorted(server.series("resume-me", "train/loss")) == list(range(8))
    assert server.series("resume-me", "train/loss")[0] == 1.0  # the start of the curve is untouched
    assert [h["step"] for h in server.histograms("resume-me")] == [7]
    assert [e["step"] for e in server.events("resume-me", "checkpoint")] == [7]


def test_explicit_steps_of_a_resumed_run_are_kept_as_given(server, make_run):
    first = make_run(id="explicit")
    first.log({"x": 1.0}, step=100)
    first.finish()
    second = make_run(id="explicit")
    second.log({"x": 2.0}, step=3)
    second.log({"x": 3.0})
    second.finish()
    assert server.series("explicit", "x") == {3: 2.0, 4: 3.0, 100: 1.0}


def test_a_new_run_with_a_chosen_id_starts_at_step_zero(server, make_run):
    run = make_run(id="fresh-id")
    run.log({"x": 1.0})
    run.log({"x": 2.0})
    run.finish()
    assert server.series("fresh-id", "x") == {0: 1.0, 1: 2.0}


def _spooled(spool_dir):
    """Every record of every spool file in `spool_dir`."""
    names = sorted(os.listdir(spool_dir)) if os.path.isdir(spool_dir) else []
    return [json.loads(line) for name in names if name.endswith(".jsonl")
            for line in open(os.path.join(spool_dir, name)) if line.strip()]


def _spooled_rows(spool_dir):
    return [r for rec in _spooled(spool_dir) if rec.get("kind") == "batch" for r in rec["body"]["rows"]]


def _pending_rows(spool_dir):
    """The rows of the batches a replay would send (a later line of a seq replaces an earlier one)."""
    return [r for name in sorted(os.listdir(spool_dir)) if name.endswith(".jsonl")
            for _, body in parse_spool(open(os.path.join(spool_dir, name), "rb").read()).pending
            for r in json.loads(body)["rows"]]


def _stored_run(make_run, rid, steps):
    first = make_run(id=rid)
    for i in range(steps):
        first.log({"x": float(i)})
    assert first.finish()


def test_resuming_while_the_server_is_away_spools_and_continues_after_the_last_step(server, make_run, spool_dir):
    _stored_run(make_run, "away", 10)
    server.down()
    second = make_run(id="away", init_timeout=0.05)
    for i in range(20):
        second.log({"x": 100.0 + i})  # where the run stopped is not known yet
    second.log_histogram("h", ([0.0, 1.0], [2.0]))
    second.event("checkpoint", {"path": "c.pt"})
    # On disk like any offline run's rows, not held in memory; steps tentative, relative to the
    # resume point, written as the TypeScript SDK writes them.
    wait_for(lambda: len(_spooled_rows(spool_dir)) == 20, what="the rows in the spool")
    rows = _spooled_rows(spool_dir)
    assert [(r["unresolvedAfter"], r["step"]) for r in rows] == [(-1, k) for k in range(20)]
    server.up()
    wait_for(lambda: len(server.series("away", "x")) == 30, timeout=20, what="the spooled rows")
    assert second.step == 29
    second.log({"x": 200.0})  # and on from there
    assert second.finish()
    assert server.series("away", "x") == {**{i: float(i) for i in range(10)}, **{10 + i: 100.0 + i for i in range(20)},
                                          30: 200.0}
    assert [h["step"] for h in server.histograms("away")] == [29]
    assert [e["step"] for e in server.events("away", "checkpoint")] == [29]
    assert os.listdir(spool_dir) == []


def test_explicit_steps_of_a_run_resumed_offline_stay_as_given(server, make_run, spool_dir):
    _stored_run(make_run, "explicit-offline", 10)
    server.down()
    second = make_run(id="explicit-offline", init_timeout=0.05)
    second.log({"x": 50.0})  # relative: after the last step
    second.log({"x": 3.5}, step=3)  # absolute, as given
    second.log({"x": 4.5})  # the step after the one given
    server.up()
    assert second.finish()
    assert server.series("explicit-offline", "x") == {**{i: float(i) for i in range(10)}, 3: 3.5, 4: 4.5, 10: 50.0}


def test_a_resumed_run_that_never_reaches_the_server_is_replayed_by_sync_after_its_last_step(
        server, make_run, spool_dir, capsys):
    _stored_run(make_run, "never", 5)
    server.down()
    second = make_run(id="never", init_timeout=0.05)
    for i in range(3):
        second.log({"x": 10.0 + i})
    second.log_histogram("h", ([0.0, 1.0], [2.0]))
    result = second.finish(timeout=0.5)
    assert result.delivered is False and result.pending_batches >= 1 and result.spool_path
    assert result.rejected_points == 0
    assert [(r["unresolvedAfter"], r["step"]) for r in _spooled_rows(spool_dir)] == [(-1, 0), (-1, 1), (-1, 2)]
    server.up()
    assert main(["sync", "--url", server.url, "--timeout", "10"]) == 0
    # Nothing earlier is overwritten: the run's first points are its own, the new ones follow.
    assert server.series("never", "x") == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 10.0, 6: 11.0, 7: 12.0}
    assert [h["step"] for h in server.histograms("never")] == [7]
    assert server.runs["never"]["status"] == "finished"
    assert os.listdir(spool_dir) == []


def test_the_resume_point_once_learned_is_kept_in_the_spool_for_the_replay(server, make_run, spool_dir):
    _stored_run(make_run, "learned", 10)
    server.down()
    second = make_run(id="learned", init_timeout=0.05)
    for i in range(4):
        second.log({"x": 100.0 + i})
    wait_for(lambda: len(_spooled_rows(spool_dir)) == 4, what="the rows in the spool")
    server.fail_logs = True  # the resume is answered (last step 9), the batches are not
    server.up()
    # resolved and written again with their seqs: a replay sends what this process would have sent
    wait_for(lambda: [r["step"] for r in _pending_rows(spool_dir)] == [10, 11, 12, 13], what="the resolved batches")
    assert second.finish(timeout=0.5).delivered is False
    server.fail_logs = False
    third = make_run(id="learned")  # meanwhile the run went on elsewhere
    third.log({"x": 500.0}, step=50)
    assert third.finish()
    assert babysit.sync(url=server.url, timeout=10)["batches_left"] == 0
    assert {s: v for s, v in server.series("learned", "x").items() if s >= 10} == {
        10: 100.0, 11: 101.0, 12: 102.0, 13: 103.0, 50: 500.0}


def test_resuming_offline_counts_after_steps_an_earlier_spool_still_holds(server, make_run, spool_dir):
    _stored_run(make_run, "two-spools", 5)
    server.down()
    first = make_run(id="two-spools", init_timeout=0.05)
    for i in range(5, 8):
        first.log({"x": float(i)}, step=i)  # steps 5..7, left in its spool when it ends
    assert first.finish(timeout=0.5).delivered is False
    second = make_run(id="two-spools", init_timeout=0.05)
    second.log({"x": 100.0})
    assert second.finish(timeout=0.5).delivered is False
    server.up()
    assert main(["sync", "--url", server.url, "--timeout", "10"]) == 0
    assert server.series("two-spools", "x") == {**{i: float(i) for i in range(8)}, 8: 100.0}


# ------------------------------------------------------------------------------ config


class Act(enum.Enum):
    RELU = "relu"
    TANH = "tanh"


class Opt(enum.Enum):
    ADAM = 1
    SGD = 2


@dataclasses.dataclass
class ModelCfg:
    num_classes: int = 10
    hidden: tuple = (128, 64)
    act: Act = Act.RELU


@dataclasses.dataclass
class TrainCfg:
    model: ModelCfg = dataclasses.field(default_factory=ModelCfg)
    lr: float = 1e-3
    optimizer: Opt = Opt.ADAM
    out_dir: pathlib.Path = pathlib.Path("/tmp/runs")


class Plain:
    def __init__(self):
        self.depth = 4
        self._cache = object()  # internals stay out


Point = collections.namedtuple("Point", "x y")


def _configs():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    return [
        ("nested-dataclass", TrainCfg(),
         {"model": {"num_classes": 10, "hidden": [128, 64], "act": "relu"}, "lr": 1e-3, "optimizer": "ADAM",
          "out_dir": "/tmp/runs"}),
        ("argparse", argparse.Namespace(lr=0.1, model=ModelCfg(num_classes=3)),
         {"lr": 0.1, "model": {"num_classes": 3, "hidden": [128, 64], "act": "relu"}}),
        ("simple-namespace", types.SimpleNamespace(data=types.SimpleNamespace(batch=32, augment={"flip"})),
         {"data": {"batch": 32, "augment": ["flip"]}}),
        ("dict-of-objects", {"plain": Plain(), "point": Point(1, 2), "path": pathlib.PurePosixPath("a/b")},
         {"plain": {"depth": 4}, "point": {"x": 1, "y": 2}, "path": "a/b"}),
        ("scalars", {"np_f": np.float32(0.5), "np_i": np.int64(7), "np_b": np.bool_(True), "t": torch.tensor(2.5),
                     "t_i": torch.tensor(3), "arr": np.arange(3), "nan": float("nan"), "big": 2**64,
                     "set": {3, 1, 2}, "frozen": frozenset(["b", "a"]), "bytes": b"abc"},
         {"np_f": 0.5, "np_i": 7, "np_b": True, "t": 2.5, "t_i": 3, "arr": [0, 1, 2], "nan": "NaN",
          "big": str(2**64), "set": [1, 2, 3], "frozen": ["a", "b"], "bytes": "abc"}),
        ("non-string-keys", {1: "a", 2.5: "b", None: "c", False: "d", Act.TANH: "e", (1, 2): "f"},
         {"1": "a", "2.5": "b", "null": "c", "false": "d", "TANH": "e", "(1, 2)": "f"}),
        ("lone-surrogates", {"k\ud800": "v\udc00"}, {"k\ufffd": "v\ufffd"}),
    ]


CONFIG_LABELS = ["nested-dataclass", "argparse", "simple-namespace", "dict-of-objects", "scalars", "non-string-keys",
                 "lone-surrogates"]


@pytest.mark.parametrize("index", range(len(CONFIG_LABELS)), ids=CONFIG_LABELS)
def test_config_objects_arrive_as_json(server, make_run, index):
    label, config, want = _configs()[index]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BabysitWarning)  # nothing here needs cutting
        run = make_run(config=config)
    run.finish()
    assert server.runs[run.id]["config"] == want
    assert run.config == want


def test_the_diagnostics_can_read_num_classes_of_a_nested_dataclass(server, make_run):
    run = make_run(config=TrainCfg(model=ModelCfg(num_classes=100)))
    run.finish()
    assert server.runs[run.id]["config"]["model"]["num_classes"] == 100


def _deep(n):
    d = leaf = {}
    for _ in range(n - 1):
        leaf["inner"] = {}
        leaf = leaf["inner"]
    return d


def _cyclic_dict():
    d = {"lr": 0.1}
    d["self"] = d
    return d


def _cyclic_list():
    xs = [1]
    xs.append(xs)
    return {"lr": 0.1, "xs": xs}


def _cyclic_object():
    a = types.SimpleNamespace(lr=0.1)
    a.parent = types.SimpleNamespace(child=a)
    return a


def _shared_many_times():
    xs = [0.5]
    for _ in range(40):
        xs = [xs, xs]  # 2^40 leaves if expanded: must be cut, fast
    return {"lr": 0.1, "xs": xs}


def _too_big():
    return {"lr": 0.1, "table": ["x" * 1000] * 2000, "small": {"a": 1}}


OVER_LIMITS = [
    ("deep-10000", lambda: {"lr": 0.1, "deep": _deep(10_000)}),
    ("deep-just-over", lambda: {"lr": 0.1, "deep": _deep(LIMIT["configDepth"])}),
    ("cyclic-dict", _cyclic_dict),
    ("cyclic-list", _cyclic_list),
    ("cyclic-object", _cyclic_object),
    ("shared-2^40-times", _shared_many_times),
    ("2-MB", _too_big),
]


def _markers(v):
    """Every marker string in `v` (values and keys)."""
    if isinstance(v, str):
        return [v] if v.startswith(MARKER_PREFIX) else []
    if isinstance(v, dict):
        return [m for k, x in v.items() for m in _markers(k) + _markers(x)]
    if isinstance(v, list):
        return [m for x in v for m in _markers(x)]
    return []


def _has_marker(v):
    return bool(_markers(v))


# The TypeScript SDK's wording (sdk/ts/src/to-json.ts): a config cut by either SDK reads the same.
# Numbers are written N here; the depth is checked against the contract below.
MARKERS = [
    ("deep-10000", {"[babysit: truncated, deeper than N levels]"}),
    ("deep-just-over", {"[babysit: truncated, deeper than N levels]"}),
    ("cyclic-dict", {"[babysit: circular reference]"}),
    ("cyclic-list", {"[babysit: circular reference]"}),
    ("cyclic-object", {"[babysit: circular reference]"}),
    ("shared-2^40-times", {"[babysit: truncated, N bytes]"}),  # cut at 100,000 values, then to size
    ("2-MB", {"[babysit: truncated, N bytes]"}),
]


@pytest.mark.parametrize("label, want", MARKERS, ids=[x[0] for x in MARKERS])
def test_markers_read_as_the_typescript_sdks(label, want):
    make = dict(OVER_LIMITS)[label]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = config_to_json(make(), warn=lambda msg: warnings.warn(msg, BabysitWarning))
    assert {re.sub(r"[0-9]+", "N", m) for m in _markers(out)} == want
    if label.startswith("deep"):
        assert _markers(out) == ["[babysit: truncated, deeper than %d levels]" % LIMIT["configDepth"]]
    assert "[babysit: " in str(caught[0].message)


@pytest.mark.parametrize("label, make", OVER_LIMITS, ids=[x[0] for x in OVER_LIMITS])
def test_a_config_over_the_limits_is_cut_with_markers_and_one_warning(server, make_run, label, make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = make_run(config=make())
        run.log({"x": 1.0})
        result = run.finish()
    mine = [w for w in caught if issubclass(w.category, BabysitWarning)]
    assert len(mine) == 1 and "to fit the server's limits" in str(mine[0].message)
    assert result.delivered is True  # the run was created: the fake server checks the same limits
    stored = server.runs[run.id]["config"]
    assert stored["lr"] == 0.1 and _has_marker(stored)
    assert len(json.dumps(stored, ensure_ascii=False, separators=(",", ":")).encode()) <= LIMIT["configBytes"]
    if label == "2-MB":
        assert stored["small"] == {"a": 1}  # the big member is cut, its neighbours kept


class Hostile:
    """A settings object whose attributes raise when read, and whose str() raises too."""

    @property
    def __dict__(self):
        raise RuntimeError("no attributes for you")

    def __str__(self):
        raise RuntimeError("no text either")


class BadMapping(dict):
    def items(self):
        raise RuntimeError("unreadable")


def test_a_config_with_values_that_raise_never_raises(server, make_run):
    run = make_run(config={"lr": 0.1, "hostile": Hostile(), "bad": BadMapping(a=1), "ok": [1, Hostile()]})
    assert run.finish().delivered is True
    stored = server.runs[run.id]["config"]
    assert stored["lr"] == 0.1 and stored["hostile"] == "<Hostile>" and stored["ok"][0] == 1
    assert isinstance(stored["bad"], str)


def test_a_config_at_the_depth_limit_is_kept_whole():
    config = {"deep": _deep(LIMIT["configDepth"] - 1)}  # the config itself is level 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert config_to_json(config) == config


class _BaseSettings:
    lr = 0.1
    depth = 3


class _Settings(_BaseSettings):
    batch = 64

    def method(self):
        return 1

    @property
    def derived(self):
        return 2


def _overridden():
    s = _Settings()
    s.batch = 32
    return s


@pytest.mark.parametrize("make, want", [
    (lambda: _Settings, {"lr": 0.1, "depth": 3, "batch": 64}),
    (lambda: _Settings(), {"lr": 0.1, "depth": 3, "batch": 64}),
    (_overridden, {"lr": 0.1, "depth": 3, "batch": 32}),
])
def test_settings_kept_as_class_attributes_become_the_config(make, want):
    # class Cfg: lr = 0.1 -- passed as the class or an instance, base classes included; methods and
    # properties are not settings
    assert config_to_json(make()) == want


def test_a_top_level_config_that_is_not_object_like_is_a_type_error():
    with pytest.raises(TypeError):
        babysit.init(project="p", config=[1, 2], url="http://127.0.0.1:9")


# ------------------------------------------------------------------------------ ResourceWarning


@pytest.mark.parametrize("server_state", ["up", "down"])
def test_finish_closes_the_connection(server, tmp_path, server_state):
    """python -W error::ResourceWarning: an unclosed socket shows on stderr as an ignored exception."""
    script = textwrap.dedent("""
        import gc, sys
        sys.path.insert(0, %r)
        import babysit
        run = babysit.init(project="rw", url=%r, quiet=True, init_timeout=1.0)
        for i in range(50):
            run.log({"x": float(i)})
        result = run.finish(timeout=1.0)
        gc.collect()
        print("delivered", result.delivered)
    """) % (SDK, server.url)
    if server_state == "down":
        server.down()
    env = dict(os.environ, BABYSIT_SPOOL_DIR=str(tmp_path / "spool"), PYTHONDEVMODE="1")
    res = subprocess.run([sys.executable, "-W", "error::ResourceWarning", "-c", script], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "delivered %s" % (server_state == "up")
    assert "ResourceWarning" not in res.stderr and "unclosed" not in res.stderr, res.stderr
