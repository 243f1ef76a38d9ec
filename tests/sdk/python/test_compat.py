"""The drop-in surfaces (babysit.tensorboard, babysit.wandb, babysit.trackio) and BABYSIT_MODE, with
real training scripts written against torch's SummaryWriter, wandb's and trackio's APIs (none of
those trackers installed), run as a user runs them, against a REAL babysit server.

Needs the production build (`NEXT_TELEMETRY_DISABLED=1 npx next build`) and torch.
"""

import base64
import json
import os
import subprocess
import sys
import types
import urllib.request
import uuid
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import babysit
import babysit.tensorboard
import babysit.trackio
import babysit.wandb
from babysit import _mode
from babysit._output import BabysitWarning
from conftest import SDK
from fake_server import FakeServer
from real_server import RealServer

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "compat_scripts")
_server = None


def setup_module(module):
    global _server
    _server = RealServer().start()


def teardown_module(module):
    if _server is not None:
        _server.close()


def get(path, url=None):
    with urllib.request.urlopen((url or _server.url) + path, timeout=10) as resp:
        return json.loads(resp.read())


def run_script(name, args=(), env=None, spool=None, check=True):
    full_env = dict(os.environ, PYTHONPATH=SDK, BABYSIT_URL=_server.url, BABYSIT_SPOOL_DIR=str(spool))
    full_env.pop("BABYSIT_QUIET", None)
    full_env.pop("BABYSIT_MODE", None)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, name)] + list(args), env=full_env,
                          capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def run_id_of(proc):
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("RUN_ID ")]
    return line.split()[1]


def keys_of(run_id, url=None):
    return {k["key"]: k for k in get("/api/v1/runs/%s" % run_id, url)["keys"]}


def steps_of(run_id, key, url=None):
    series = get("/api/v1/runs/%s/series?key=%s" % (run_id, key), url)
    return [(b["step"], b["last"]) for b in series["buckets"]]


# ------------------------------------------------------------------------------------------ tensorboard


def test_tensorboard_script_streams_scalars_histograms_images_text_and_hparams(spool_dir):
    project = "tb-%s" % uuid.uuid4().hex[:6]
    proc = run_script("train_tensorboard.py", ["runs/exp1"], env={"BABYSIT_PROJECT": project}, spool=spool_dir)
    (summary,) = get("/api/v1/runs?project=%s" % project)["runs"]
    detail = get("/api/v1/runs/%s" % summary["id"])
    run = detail["run"]
    assert run["name"] == "runs/exp1" and run["status"] == "finished"
    assert run["config"] == {"lr": 0.1, "batch_size": 32, "optimizer": "sgd"}  # add_hparams' hparam_dict
    keys = {k["key"]: k for k in detail["keys"]}
    assert set(keys) == {"train/loss", "loss/train", "loss/val", "val/acc", "lr", "hparam/acc"}
    assert [s for s, _ in steps_of(run["id"], "train/loss")] == list(range(24))
    assert [s for s, _ in steps_of(run["id"], "loss/val")] == [0, 1, 2]  # add_scalars: main_tag/tag
    assert [s for s, _ in steps_of(run["id"], "lr")] == [0, 1, 2]  # no global_step: counted per tag
    (acc_step, acc), = steps_of(run["id"], "hparam/acc")
    assert acc_step == 23 and acc == steps_of(run["id"], "val/acc")[-1][1]  # the final value, at the last step
    assert {h["key"]: h["count"] for h in detail["histogramKeys"]} == {"fc1/weight": 3}
    hist = get("/api/v1/runs/%s/histograms?key=fc1/weight" % run["id"])["histograms"]
    assert [h["step"] for h in hist] == [0, 1, 2] and sum(hist[0]["counts"]) == 16 * 8
    (img,) = get("/api/v1/runs/%s/images?key=input" % run["id"])["images"]
    assert (img["width"], img["height"]) == (8, 3)  # CHW (1, 3, 8) -> 8 wide, 3 high
    assert base64.b64decode(img["png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    (hwc,) = get("/api/v1/runs/%s/images?key=hwc" % run["id"])["images"]
    assert (hwc["width"], hwc["height"]) == (6, 4)
    (text,) = [e for e in detail["events"] if e["type"] == "text"]
    assert text["data"] == {"tag": "notes", "text": "trained for 3 epochs"} and text["step"] == 2
    assert "BabysitWarning" not in proc.stderr


def test_tensorboard_mirror_without_tensorboard_warns_once_and_streams(spool_dir):
    pytest.importorskip("torch")
    try:
        import torch.utils.tensorboard  # noqa: F401
        pytest.skip("tensorboard is installed: the mirror works, see test_tensorboard_mirror_writes_event_files")
    except ImportError:
        pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = babysit.tensorboard.SummaryWriter("runs/m", url=_server.url, project="tb-mirror", mirror=True)
        w.add_scalar("a", 1.0, 0)
        w.add_scalar("a", 2.0, 1)
        w.close()
    mirror = [c for c in caught if "mirror=True" in str(c.message)]
    assert len(mirror) == 1 and mirror[0].filename == __file__
    assert [s for s, _ in steps_of(w.run.id, "a")] == [0, 1]


def test_tensorboard_mirror_forwards_every_call_to_torchs_writer(monkeypatch):
    """mirror=True hands each call, with its arguments, to torch.utils.tensorboard.SummaryWriter (a
    recording stand-in here: the tensorboard package is not installed on the test machines)."""
    calls = []

    class TorchWriter:
        def __init__(self, **kwargs):
            calls.append(("__init__", (), kwargs))

        def __getattr__(self, name):
            return lambda *args, **kwargs: calls.append((name, args, kwargs))

    module = types.ModuleType("torch.utils.tensorboard")
    module.SummaryWriter = TorchWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", module)
    w = babysit.tensorboard.SummaryWriter("runs/mirrored", url=_server.url, project="tb-mirror", mirror=True, flush_secs=5)
    w.add_scalar("a", 1.0, 3)
    w.add_histogram("h", [1.0, 2.0], 3, bins="auto")
    with pytest.warns(BabysitWarning, match=r"add_graph\(\) is not sent to babysit \(written to the mirrored event files only\)"):
        w.add_graph("model", "input")  # not streamed to babysit: the mirror still gets it
    w.close()
    assert calls[0] == ("__init__", (), {"log_dir": "runs/mirrored", "comment": "", "purge_step": None, "max_queue": 10,
                                         "flush_secs": 5, "filename_suffix": ""})
    assert [c[0] for c in calls[1:]] == ["add_scalar", "add_histogram", "add_graph", "close"]
    assert calls[1][1][:3] == ("a", 1.0, 3) and calls[3][1] == ("model", "input")
    assert steps_of(w.run.id, "a") == [(3, 1.0)]


def test_tensorboard_mirror_writes_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    log_dir = str(tmp_path / "runs" / "m")
    with babysit.tensorboard.SummaryWriter(log_dir, url=_server.url, project="tb-mirror", mirror=True) as w:
        w.add_scalar("a", 1.0, 0)
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(log_dir))
    assert [s for s, _ in steps_of(w.run.id, "a")] == [0]


# ------------------------------------------------------------------------------------------ wandb


def test_wandb_script_with_steps_config_summary_watch_and_alert(spool_dir):
    proc = run_script("train_wandb.py", ["--lr", "0.05"], spool=spool_dir)
    rid = run_id_of(proc)
    detail = get("/api/v1/runs/%s" % rid)
    run = detail["run"]
    assert run["status"] == "finished" and run["project"] == "compat-wandb" and run["name"] == "mlp"
    assert run["tags"] == ["baseline"] and run["notes"] == "from a wandb script"  # the run's own, as on its page
    # argparse config, a key set before init, update() and item assignment after init
    assert run["config"] == {"seed": 0, "lr": 0.05, "epochs": 3, "exit_code": 0, "name": "mlp", "batch_size": 32, "hidden": 16}
    keys = keys_of(rid)
    # W&B's steps: each log() is a step; commit=False joins the next one; nested dicts become "train/loss"
    per_epoch = [e * 9 + i for e in range(3) for i in range(8)]
    assert [s for s, _ in steps_of(rid, "train/loss")] == per_epoch
    assert [s for s, _ in steps_of(rid, "epoch")] == [8, 17, 26]
    val = steps_of(rid, "val/acc")
    assert [s for s, _ in val] == [8, 17, 26]
    assert any(k.startswith("update_ratio/") for k in keys), sorted(keys)  # watch() -> babysit.watch
    hist_keys = {h["key"] for h in detail["histogramKeys"]}
    assert "weights" in hist_keys and any(k.startswith("grad/") for k in hist_keys)
    events = {e["type"]: e for e in detail["events"]}
    assert events["run_info"]["data"] == {"tags": ["baseline"], "notes": "from a wandb script"}
    assert events["alert"]["data"]["title"] == "done" and events["alert"]["data"]["level"] == "INFO"
    summary = events["summary"]["data"]
    assert summary["val/acc"] == max(v for _, v in val)  # define_metric(summary="max")
    assert summary["train/loss"] == steps_of(rid, "train/loss")[-1][1]  # the last value
    assert summary["final_acc"] == val[-1][1]
    assert events["define_metric"]["data"] == {"name": "val/acc", "summary": "max"}
    # the unsupported parts warned once each, and nothing else did
    warned = [ln for ln in proc.stderr.splitlines() if "BabysitWarning" in ln]
    assert len(warned) == 3, proc.stderr  # wandb.Table, wandb.Artifact, run.log_artifact (not what they return)
    assert all("not supported by babysit" in ln for ln in warned)


def test_wandb_finish_with_nonzero_exit_code_marks_the_run_crashed(spool_dir):
    proc = run_script("train_wandb.py", ["--epochs", "1", "--exit-code", "1", "--name", "fails"], spool=spool_dir)
    assert get("/api/v1/runs/%s" % run_id_of(proc))["run"]["status"] == "crashed"


def test_wandb_script_that_dies_without_finish_ends_crashed_with_its_last_step(spool_dir):
    proc = run_script("crash_wandb.py", spool=spool_dir, check=False)
    assert proc.returncode == 1 and "CUDA out of memory (simulated)" in proc.stderr
    rid = run_id_of(proc)
    detail = get("/api/v1/runs/%s" % rid)
    assert detail["run"]["status"] == "crashed"
    assert steps_of(rid, "val/loss") == [(5, 0.5)]  # committed at exit, on the step it was gathered for
    (summary,) = [e for e in detail["events"] if e["type"] == "summary"]
    assert summary["data"] == {"loss": 0.2, "val/loss": 0.5}


def test_summary_writer_into_an_existing_run_leaves_it_running(spool_dir):
    run = babysit.init(project="tb-existing", url=_server.url, config={"a": 1})
    with babysit.tensorboard.SummaryWriter(run=run, config={"b": 2}) as w:
        w.add_scalar("x", 1.0, 0)
        assert w.run is run
    assert not run.finished
    run.log({"y": 2.0}, step=1)
    run.finish()
    detail = get("/api/v1/runs/%s" % run.id)
    assert detail["run"]["config"] == {"a": 1, "b": 2} and set(keys_of(run.id)) == {"x", "y"}


def test_trackio_script(spool_dir):
    proc = run_script("train_trackio.py", spool=spool_dir)
    rid = run_id_of(proc)
    detail = get("/api/v1/runs/%s" % rid)
    assert detail["run"]["status"] == "finished" and detail["run"]["config"] == {"lr": 0.01}
    assert [s for s, _ in steps_of(rid, "train/loss")] == list(range(20))
    assert steps_of(rid, "val/loss") == [(30, 0.1)]


# ------------------------------------------------------------------------------------------ modes


def test_offline_mode_touches_no_network_and_sync_uploads_everything(spool_dir):
    fake = FakeServer()
    try:
        proc = run_script("train_wandb.py", ["--name", "offline"], env={"BABYSIT_MODE": "offline", "BABYSIT_URL": fake.url},
                          spool=spool_dir)
        assert fake.requests == []  # not even the create
    finally:
        fake.close()
    assert "python -m babysit sync" in proc.stderr
    rid = run_id_of(proc)
    assert get("/api/v1/runs?project=compat-wandb&q=offline")["runs"] == []
    (spool,) = os.listdir(spool_dir)
    assert spool == rid + ".jsonl"
    sync = subprocess.run([sys.executable, "-m", "babysit", "sync", "--url", _server.url, "--any-url",
                           "--spool-dir", str(spool_dir)], env=dict(os.environ, PYTHONPATH=SDK),
                          capture_output=True, text=True, timeout=120)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert os.listdir(spool_dir) == []
    # the same script online, for comparison: the synced run holds the same series and config
    online = run_id_of(run_script("train_wandb.py", ["--name", "offline"], spool=spool_dir))
    synced, live = get("/api/v1/runs/%s" % rid), get("/api/v1/runs/%s" % online)
    assert synced["run"]["status"] == "finished" and synced["run"]["name"] == "offline"
    assert synced["run"]["config"] == live["run"]["config"]
    assert synced["run"]["tags"] == live["run"]["tags"] == ["baseline"] and synced["run"]["notes"] == live["run"]["notes"]
    assert {k: (v["count"], v["firstStep"], v["lastStep"]) for k, v in keys_of(rid).items()} == \
        {k: (v["count"], v["firstStep"], v["lastStep"]) for k, v in keys_of(online).items()}
    assert steps_of(rid, "train/loss") == steps_of(online, "train/loss")
    assert {h["key"]: h["count"] for h in synced["histogramKeys"]} == {h["key"]: h["count"] for h in live["histogramKeys"]}
    assert sorted(e["type"] for e in synced["events"]) == sorted(e["type"] for e in live["events"])


def test_offline_run_without_a_url_syncs_to_any_server(spool_dir, monkeypatch):
    monkeypatch.setenv("BABYSIT_MODE", "offline")
    run = babysit.init(project="offline-nourl", config={"a": 1})
    run.log({"x": 1.0})
    run.update_config({"b": 2})  # after the first batch: kept in the spool as a config record
    run.log({"x": 2.0})
    result = run.finish()
    assert not result.delivered and result.spool_path
    res = babysit.sync(url=_server.url)  # no --any-url needed: the spool names no server
    assert res["runs"] == 1 and res["batches_left"] == 0 and res["skipped"] == []
    detail = get("/api/v1/runs/%s" % run.id)
    assert detail["run"]["config"] == {"a": 1, "b": 2} and detail["run"]["status"] == "finished"
    assert steps_of(run.id, "x") == [(0, 1.0), (1, 2.0)]


def test_disabled_mode_does_nothing_quietly(spool_dir):
    fake = FakeServer()
    try:
        for script in ("train_wandb.py", "train_trackio.py", "train_tensorboard.py"):
            proc = run_script(script, ["runs/disabled"] if script == "train_tensorboard.py" else [],
                              env={"BABYSIT_MODE": "disabled", "BABYSIT_URL": fake.url}, spool=spool_dir)
            assert [ln for ln in proc.stderr.splitlines() if "babysit" in ln.lower() and "not supported" not in ln] == []
        assert fake.requests == []
    finally:
        fake.close()
    assert not os.path.exists(spool_dir) or os.listdir(spool_dir) == []


@pytest.mark.parametrize("init, spooled", [
    (lambda url: babysit.wandb.init(project="shim-mode", mode="offline"), True),
    (lambda url: babysit.wandb.init(project="shim-mode", mode="dryrun"), True),
    (lambda url: babysit.wandb.init(project="shim-mode", mode="disabled"), False),
    (lambda url: babysit.trackio.init(project="shim-mode", mode="offline"), True),
    (lambda url: babysit.trackio.init(project="shim-mode", mode="disabled"), False),
    (lambda url: babysit.tensorboard.SummaryWriter("runs/m", project="shim-mode", mode="offline"), True),
    (lambda url: babysit.tensorboard.SummaryWriter("runs/m", project="shim-mode", mode="disabled"), False),
])
def test_the_drop_in_modules_take_mode_as_babysit_mode(spool_dir, monkeypatch, init, spooled):
    fake = FakeServer()
    monkeypatch.setenv("BABYSIT_URL", fake.url)
    try:
        r = init(fake.url)
        writer = isinstance(r, babysit.tensorboard.SummaryWriter)
        for step in range(3):
            if writer:
                r.add_scalar("loss", 1.0 / (step + 1), step)
            else:
                r.log({"loss": 1.0 / (step + 1)})
        (r.close if writer else r.finish)()
        assert fake.requests == []
    finally:
        fake.close()
    files = os.listdir(spool_dir) if os.path.exists(spool_dir) else []
    assert len(files) == (1 if spooled else 0)


def test_disabled_run_returns_sensible_objects(monkeypatch):
    monkeypatch.setenv("BABYSIT_MODE", "disabled")
    with babysit.init(project="p", config={"lr": 0.1}) as run:
        babysit.log({"a": 1.0})
        babysit.log({"a": 2.0}, step=10)
        assert run.step == 10 and run.config == {"lr": 0.1} and run.url is None
        assert babysit.watch(nn.Linear(2, 2)) is None
        assert babysit.log_input_stats(np.ones((4, 2)))["mean"] == [1.0, 1.0]
    assert run.finish().delivered and babysit.get_run() is None


@pytest.mark.parametrize("value, expected", [
    ("offline", "offline"), ("OFFLINE", "offline"), (" disabled ", "disabled"), ("online", "online"),
    ("dryrun", "offline"), ("", "online"),
    ("team", "online"), ("local", "online"),  # the server's BABYSIT_MODE values, often in the same shell
])
def test_mode_values(monkeypatch, value, expected):
    monkeypatch.setenv("BABYSIT_MODE", value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _mode.resolve() == expected


@pytest.mark.parametrize("env, arg", [("offlne", None), ("1", None), (None, "sometimes"), (None, 3)])
def test_invalid_mode_warns_once_and_goes_online(monkeypatch, env, arg):
    if env is None:
        monkeypatch.delenv("BABYSIT_MODE", raising=False)
    else:
        monkeypatch.setenv("BABYSIT_MODE", env)
    _mode._warner._seen.clear()
    fake = FakeServer()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs = [babysit.init(project="modes", url=fake.url, mode=arg) for _ in range(2)]
            for r in runs:
                r.finish()
        msgs = [str(c.message) for c in caught if issubclass(c.category, BabysitWarning)]
        assert len(msgs) == 1 and "must be one of online, offline, disabled" in msgs[0], msgs
        assert caught[0].filename == __file__  # points at the user's line
        assert {r.id for r in runs} <= set(fake.runs)  # default behaviour: online
    finally:
        fake.close()


# ------------------------------------------------------------------------------------------ bad arguments


def _tb():
    return babysit.tensorboard.SummaryWriter("runs/bad", project="bad-args")


def _wb():
    babysit.wandb.init(project="bad-args")
    return babysit.wandb


BAD_CALLS = {
    "tb add_scalar tag None": lambda: _tb().add_scalar(None, 1.0, 0),
    "tb add_scalar a string value": lambda: _tb().add_scalar("x", "abc", 0),
    "tb add_scalar negative step": lambda: _tb().add_scalar("x", 1.0, -1),
    "tb add_scalar step a string": lambda: _tb().add_scalar("x", 1.0, "seven"),
    "tb add_scalar walltime a string": lambda: _tb().add_scalar("x", 1.0, 0, walltime="yesterday"),
    "tb add_scalars a list": lambda: _tb().add_scalars("m", [1, 2], 0),
    "tb add_histogram a string": lambda: _tb().add_histogram("h", "not values", 0),
    "tb add_histogram unknown bin rule": lambda: _tb().add_histogram("h", [1.0, 2.0], 0, bins="nonsense"),
    "tb add_image bad dataformats": lambda: _tb().add_image("i", np.zeros((2, 2)), 0, dataformats="XYZ"),
    "tb add_image 4-d for CHW": lambda: _tb().add_image("i", np.zeros((1, 3, 4, 4)), 0),
    "tb add_hparams not dicts": lambda: _tb().add_hparams([("lr", 1)], {}),
    "tb add_text tag a number": lambda: _tb().add_text(3, "x"),
    "tb add_graph unsupported": lambda: _tb().add_graph(nn.Linear(2, 2), torch.zeros(1, 2)),
    "tb after close": lambda: (lambda w: (w.close(), w.add_scalar("x", 1.0, 0)))(_tb()),
    "wandb log a list": lambda: _wb().log([1, 2]),
    "wandb log an object": lambda: _wb().log({"a": object()}),
    "wandb log negative step": lambda: _wb().log({"a": 1.0}, step=-3),
    "wandb log step a string": lambda: _wb().log({"a": 1.0}, step="x"),
    "wandb log a step back": lambda: (lambda w: (w.log({"a": 1.0}, step=5), w.log({"a": 2.0}, step=1)))(_wb()),
    "wandb log before init": lambda: babysit.wandb.log({"a": 1.0}),
    "wandb watch not a model": lambda: _wb().watch("not a model"),
    "wandb watch bad log": lambda: _wb().watch(nn.Linear(2, 2), log="weird"),
    "wandb watch log_freq 0": lambda: _wb().watch(nn.Linear(2, 2), log_freq=0),
    "wandb define_metric None": lambda: _wb().define_metric(None),
    "wandb config.update a number": lambda: babysit.wandb.config.update(3),
    "wandb config key a number": lambda: babysit.wandb.config.__setitem__(1, 2),
    "wandb init project a number": lambda: babysit.wandb.init(project=123),
    "wandb init name a number": lambda: babysit.wandb.init(project="bad-args", name=5),
    "wandb init project too long": lambda: babysit.wandb.init(project="p" * 500),
    "wandb init bad id": lambda: babysit.wandb.init(project="bad-args", id="no spaces allowed"),
    "wandb init tags a string": lambda: babysit.wandb.init(project="bad-args", tags="abc"),
    "wandb init an empty tag": lambda: babysit.wandb.init(project="bad-args", tags=["ok", "  "]),
    "wandb init a tag too long": lambda: babysit.wandb.init(project="bad-args", tags=["t" * 65]),
    "wandb init 33 tags": lambda: babysit.wandb.init(project="bad-args", tags=["t%d" % i for i in range(33)]),
    "wandb init notes too long": lambda: babysit.wandb.init(project="bad-args", notes="n" * 10_001),
    "wandb init unknown argument": lambda: babysit.wandb.init(project="bad-args", colour="red"),
    "wandb init resume without id": lambda: babysit.wandb.init(project="bad-args", resume="must"),
    "wandb init bad config": lambda: babysit.wandb.init(project="bad-args", config=[1, 2]),
    "wandb Table": lambda: _wb().Table(columns=["a"]).add_data(1),
    "wandb save": lambda: _wb().save("*.pt"),
    "wandb run.log_code": lambda: _wb().init(project="bad-args").log_code("."),
    "wandb Image of a missing file": lambda: _wb().log({"img": babysit.wandb.Image("/nonexistent/x.png")}),
    "wandb Histogram of nothing": lambda: _wb().log({"h": babysit.wandb.Histogram()}),
    "trackio log a number": lambda: (babysit.trackio.init(project="bad-args"), babysit.trackio.log(5)),
    "trackio init name a number": lambda: babysit.trackio.init(project="bad-args", name=7),
    "trackio init resume": lambda: babysit.trackio.init(project="bad-args", resume="must"),
    "trackio log before init": lambda: babysit.trackio.log({"a": 1.0}),
    "babysit init mode": lambda: babysit.init(project="bad-args", mode="sometimes"),
}


@pytest.fixture
def offline_and_clean(monkeypatch):
    """Offline (no server needed), with every warn-once memory cleared and no run left behind."""
    monkeypatch.setenv("BABYSIT_MODE", "offline")
    for warner in (babysit.wandb._warner, _mode._warner):
        warner._seen.clear()
    babysit.wandb.finish()
    babysit.trackio.finish()
    yield
    babysit.wandb.finish()
    babysit.trackio.finish()


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_warn_and_never_raise(offline_and_clean, name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BAD_CALLS[name]()
    msgs = [str(c.message) for c in caught if issubclass(c.category, BabysitWarning)]
    assert msgs, "no warning for %s" % name
    # each points at the user's line (here: the call in BAD_CALLS), not at a line inside babysit
    places = ["%s:%d" % (os.path.basename(c.filename), c.lineno) for c in caught if issubclass(c.category, BabysitWarning)]
    assert all(c.filename == __file__ for c in caught if issubclass(c.category, BabysitWarning)), places


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_arguments_do_not_raise_under_W_error(offline_and_clean, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # python -W error: babysit still must not raise into the loop
        BAD_CALLS[name]()
