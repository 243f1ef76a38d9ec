"""End-to-end: the Python SDK against a REAL babysit server.

The tests start one themselves from this checkout (the production build: `npm test` builds it first),
or use BABYSIT_TEST_URL when it points at a running server:

    BABYSIT_TEST_URL=http://127.0.0.1:3000 /usr/bin/python3 -m pytest tests/sdk/python/test_e2e_server.py -q

Needs node_modules and .next (npm install, npm run build), torch and scikit-learn (digits ships with
sklearn: no download).
"""

import base64
import json
import re
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

import torch  # noqa: E402,F401  (npm test's machine has Debian's python3-torch; failing here is right)
import sklearn  # noqa: E402,F401

from real_server import RealServer  # noqa: E402

_own = None
URL = os.environ.get("BABYSIT_TEST_URL")
if not URL:
    _own = RealServer(env={"BABYSIT_EVAL_INTERVAL_MS": "200"}).start()
    URL = _own.url


def teardown_module(module):
    if _own is not None:
        _own.close()


import babysit  # noqa: E402
from conftest import SDK, wait_for  # noqa: E402

sys.path.insert(0, os.path.join(SDK, "examples"))
import train_digits  # noqa: E402

PROJECT = "sdk-python-e2e-%s" % uuid.uuid4().hex[:6]


@pytest.fixture(autouse=True)
def loud(monkeypatch):
    monkeypatch.delenv("BABYSIT_QUIET", raising=False)  # these tests read what a user sees


def get(path):
    with urllib.request.urlopen(URL.rstrip("/") + path, timeout=10) as resp:
        return json.loads(resp.read())


def expected_series():
    keys = {"train/loss", "train/acc", "val/acc", "val/loss", "epoch", "lr"}
    for layer in ("fc1", "fc2", "fc3"):
        keys |= {"update_ratio/" + layer, "weight/%s/mean" % layer, "weight/%s/std" % layer,
                 "grad/%s/std" % layer, "grad/%s/norm" % layer}
    return keys


def test_digits_training_with_watch_produces_every_series(capfd):
    run = train_digits.main(["--url", URL, "--project", PROJECT, "--name", "healthy", "--epochs", "6", "--device", "cpu"])
    assert run.finished
    detail = get("/api/v1/runs/%s" % run.id)
    assert detail["run"]["status"] == "finished"
    assert detail["run"]["project"] == PROJECT and detail["run"]["name"] == "healthy"
    keys = {k["key"]: k for k in detail["keys"]}
    want = expected_series() | {"act/%s/%s" % (layer, s) for layer in ("fc1", "fc2") for s in ("mean", "std", "dead_frac")}
    assert want <= set(keys), "missing: %s" % sorted(want - set(keys))
    assert keys["train/loss"]["count"] == 6 * 16 and keys["train/loss"]["firstStep"] == 0
    assert keys["update_ratio/fc1"]["count"] == 6 * 16 // 5 + 1
    hist_keys = {h["key"] for h in detail["histogramKeys"]}
    assert {"act/fc1", "act/fc2", "grad/fc1", "grad/fc3", "weight/fc1", "weight/fc3"} <= hist_keys
    types = {e["type"] for e in detail["events"]}
    assert {"input_stats", "gradcheck"} <= types
    assert [i["key"] for i in detail["images"]] == ["filters/fc1"]
    (image,) = get("/api/v1/runs/%s/images?key=filters/fc1" % run.id)["images"]
    assert (image["width"], image["height"]) == (12 * 9 - 1, 11 * 9 - 1)  # 128 tiles of 8x8, 12 per row
    assert base64.b64decode(image["png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    # the run's page view sends only the latest statistics event of each split whole; ?events=full
    # sends every event as logged
    full = get("/api/v1/runs/%s?events=full" % run.id)
    stats = [e for e in full["events"] if e["type"] == "input_stats"][0]["data"]
    assert len(stats["mean"]) == 64 and len(stats["std"]) == 64
    err = capfd.readouterr().err
    assert "babysit: logging run" in err
    # what the example logs makes each checklist item checkable but the sanity run's and the filters'
    # (pictures are for a person); its config says num_classes, so the first loss is checked against
    # ln 10; and finish() prints the server's line
    checklist = get("/api/v1/runs/%s/checklist" % run.id)
    states = {i["id"]: i["state"] for i in checklist["items"]}
    initial = [i for i in checklist["items"] if i["id"] == "initial_loss"][0]
    assert "ln 10" in initial["evidence"] and initial["how"] is None, initial
    assert states == {"initial_loss": "passed", "gradient_check": "passed", "overfit_tiny": "unknown",
                      "input_preprocessing": "passed", "initialization": "passed", "update_ratios": "passed",
                      "activations_gradients": "passed", "train_val": "passed", "loss_shape": "passed",
                      "first_layer_filters": "unknown"}, checklist
    lines = [line for line in err.splitlines() if line.startswith("babysit: checklist ")]
    assert lines == ["babysit: checklist 8 passed, 0 raised, 2 not checkable -> %s" % run.url]


def test_non_finite_values_survive_the_round_trip():
    run = babysit.init(project=PROJECT, name="nan", url=URL, quiet=True)
    run.log({"train/loss": 1.0}, step=0)
    run.log({"train/loss": float("nan")}, step=1)
    run.log({"train/loss": float("inf")}, step=2)
    assert run.finish().delivered is True
    series = get("/api/v1/runs/%s/series?key=train/loss" % run.id)
    assert [b["last"] for b in series["buckets"]] == [1.0, "NaN", "Infinity"]


def test_tanh_with_a_huge_init_on_raw_inputs_gets_an_alert_in_the_terminal(capfd):
    run = train_digits.main(["--url", URL, "--project", PROJECT, "--name", "saturated-tanh", "--epochs", "30",
                             "--activation", "tanh", "--init-std", "1.0", "--raw-inputs", "--seed", "1003", "--device", "cpu"])
    alerts = wait_for(
        lambda: [a for a in get("/api/v1/runs/%s/alerts" % run.id)["alerts"] if a["code"] == "saturated_activations"],
        timeout=30, what="a saturated_activations alert",
    )
    assert alerts[0]["severity"] in ("warning", "critical")
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("babysit [") and "saturated_activations" in line]
    assert len(lines) == 1, err
    assert lines[0].endswith("-> %s" % run.url)


def test_resuming_a_run_appends_to_it():
    rid = "py-e2e-" + uuid.uuid4().hex[:8]
    first = babysit.init(project=PROJECT, name="resume", url=URL, id=rid, quiet=True)
    first.log({"x": 0.0}, step=0)
    first.finish()
    second = babysit.init(project=PROJECT, url=URL, id=rid, quiet=True)
    assert second.resumed
    second.log({"x": 1.0}, step=1)
    second.finish()
    keys = {k["key"]: k for k in get("/api/v1/runs/%s" % rid)["keys"]}
    assert keys["x"]["count"] == 2


def _readme_example():
    with open(os.path.join(SDK, "README.md")) as f:
        text = f.read()
    section = text.split("## A complete example", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_produces_the_series_its_text_names():
    project = PROJECT + "-readme"
    code = _readme_example()
    assert 'project="digits"' in code
    code = code.replace('project="digits"', "project=%r" % project)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, BABYSIT_URL=URL, PYTHONPATH=SDK))
    assert res.returncode == 0, res.stderr
    runs = get("/api/v1/runs?project=%s" % project)["runs"]
    assert len(runs) == 1
    run = get("/api/v1/runs/%s" % runs[0]["id"])
    keys = {k["key"] for k in run["keys"]}
    # What the README's text says watch() logs, under the layer names the README uses.
    named = {"train/loss", "val/loss", "lr", "act/fc1/mean", "act/fc1/std", "act/fc1/dead_frac"}
    for layer in ("fc1", "fc2"):
        named |= {"update_ratio/" + layer, "weight/%s/mean" % layer, "weight/%s/std" % layer,
                  "grad/%s/std" % layer, "grad/%s/norm" % layer}
    assert named <= keys, sorted(named - keys)
    assert not [k for k in keys if "/0" in k or "/1" in k or "/2" in k], sorted(keys)
    assert {h["key"] for h in run["histogramKeys"]} >= {"act/fc1", "grad/fc1", "weight/fc1"}
    assert [i["key"] for i in run["images"]] == ["filters/fc1"]
    # validation logged at the train step takes no step of its own: 500 train steps, 5 val points on them
    by_key = {k["key"]: k for k in run["keys"]}
    assert by_key["train/loss"]["lastStep"] == 499 and by_key["val/loss"]["count"] == 5
    assert by_key["val/loss"]["lastStep"] == 499


def test_unnamed_runs_created_the_same_second_get_distinct_names():
    runs = [babysit.init(project=PROJECT, url=URL, quiet=True) for _ in range(3)]
    try:
        # The ids start with the date and time: the old name, run-<first 6 characters>, was shared.
        assert len({r.id[:6] for r in runs}) == 1
        names = [r.name for r in runs]
        assert all(n and re.fullmatch(r"[a-z]+-[a-z]+-\d+", n) for n in names), names
        assert len(set(names)) == len(names)
        assert [get("/api/v1/runs/%s" % r.id)["run"]["name"] for r in runs] == names
    finally:
        for r in runs:
            r.finish()


@pytest.mark.parametrize("other", ["elsewhere", PROJECT + "-2"])
def test_resuming_with_another_project_warns_once_and_stays_in_the_run_project(capfd, other):
    rid = "py-e2e-proj-" + uuid.uuid4().hex[:8]
    babysit.init(project=PROJECT, name="home", url=URL, id=rid, quiet=True).finish()
    capfd.readouterr()
    second = babysit.init(project=other, url=URL, id=rid, quiet=True)
    second.log({"x": 1.0})
    second.finish()
    err = capfd.readouterr().err
    assert err.count("belongs to project") == 1
    assert "run %s belongs to project %r, not %r as given to init()" % (rid, PROJECT, other) in err
    assert (second.project, second.name) == (PROJECT, "home")
    assert get("/api/v1/runs/%s" % rid)["run"]["project"] == PROJECT
    assert other not in {p["name"] for p in get("/api/v1/runs")["projects"]}


def _keys_of(run_id):
    return {k["key"]: k for k in get("/api/v1/runs/%s" % run_id)["keys"]}


@pytest.mark.parametrize("n, stored", [(150, True), (200, True), (201, False)])
def test_the_rocket_key_example(n, stored):
    """Issue #8: 150 rockets are 150 code points (300 UTF-16 units): within the 200 limit."""
    run = babysit.init(project=PROJECT, name="rockets-%d" % n, url=URL, quiet=True)
    for step in range(5):
        run.log({"train/loss": 1.0 / (step + 1), "\U0001F680" * n: 2.0})
    result = run.finish()
    keys = _keys_of(run.id)
    assert keys["train/loss"]["count"] == 5
    assert ("\U0001F680" * n in keys) is stored
    if stored:
        assert keys["\U0001F680" * n]["count"] == 5
    assert result.delivered is stored and result.rejected_points == (0 if stored else 5)


def test_a_batch_the_server_refuses_is_counted_in_finish(monkeypatch):
    """A key the SDK's own check lets through (here: the check switched off) is refused by the server
    for the whole batch; finish() reports the points and the server's message, nothing is retried."""
    from babysit import _run

    monkeypatch.setattr(_run.V, "key_problem", lambda key: None)
    run = babysit.init(project=PROJECT, name="refused", url=URL, quiet=True)
    run.log({"ok": 1.0, "k" * 300: 2.0}, step=0)
    result = run.finish()
    assert result.delivered is False and result.pending_batches == 0
    assert result.rejected_points == 2
    (reason, points), = result.rejections
    assert reason.startswith("rejected by the server: 400 invalid_batch") and points == 2
    assert "ok" not in _keys_of(run.id)  # the server wrote nothing of the batch


def test_resuming_without_steps_continues_after_the_last_step():
    rid = "py-e2e-steps-" + uuid.uuid4().hex[:8]
    first = babysit.init(project=PROJECT, name="resume-steps", url=URL, id=rid, quiet=True)
    for i in range(5):
        first.log({"train/loss": 1.0 - i / 10})
    assert first.finish()
    second = babysit.init(project=PROJECT, url=URL, id=rid, quiet=True)
    for i in range(3):
        second.log({"train/loss": 0.4 - i / 10})
    assert second.step == 7
    assert second.finish()
    steps, values = series_steps_from(URL, rid, "train/loss")
    assert steps == list(range(8)) and values[0] == 1.0


@pytest.mark.parametrize("when", ["same-process", "sync"])
def test_resuming_while_the_server_is_down_continues_after_the_last_step(tmp_path, monkeypatch, when):
    """The real server's resume answer resolves the steps spooled while it was down: nothing of the run
    is overwritten, whether it answers later in the same process or only to `python -m babysit sync`."""
    from babysit.__main__ import main

    monkeypatch.setenv("BABYSIT_SPOOL_DIR", str(tmp_path / "spool"))
    server = RealServer().start()
    try:
        rid = "py-e2e-offline-" + uuid.uuid4().hex[:8]
        first = babysit.init(project=PROJECT, url=server.url, id=rid, quiet=True)
        for i in range(10):
            first.log({"train/loss": 1.0 - i / 100})
        assert first.finish()
        server.stop()
        second = babysit.init(project=PROJECT, url=server.url, id=rid, quiet=True, init_timeout=0.1)
        for i in range(20):
            second.log({"train/loss": 0.5 - i / 100})
        if when == "same-process":
            server.start()
            assert second.finish(timeout=30)
        else:
            assert not second.finish(timeout=0.5)
            server.start()
            assert main(["sync", "--url", server.url, "--timeout", "30"]) == 0
        steps, values = series_steps_from(server.url, rid, "train/loss")
        assert steps == list(range(30))
        assert values[:10] == [1.0 - i / 100 for i in range(10)]  # the run's own start, untouched
        assert values[10:] == [0.5 - i / 100 for i in range(20)]
    finally:
        server.close()


def test_a_nested_dataclass_config_reaches_the_server_as_an_object():
    import dataclasses

    @dataclasses.dataclass
    class Model:
        num_classes: int = 10
        hidden: tuple = (128, 64)

    @dataclasses.dataclass
    class Config:
        model: Model = dataclasses.field(default_factory=Model)
        lr: float = 1e-3

    run = babysit.init(project=PROJECT, name="nested-config", url=URL, config=Config(), quiet=True)
    assert run.finish()
    config = get("/api/v1/runs/%s" % run.id)["run"]["config"]
    assert config["model"] == {"num_classes": 10, "hidden": [128, 64]} and config["lr"] == 1e-3


def _deep(n):
    d = leaf = {}
    for _ in range(n - 1):
        leaf["inner"] = {}
        leaf = leaf["inner"]
    return d


def _cyclic():
    d = {"lr": 0.1}
    d["self"] = d
    return d


@pytest.mark.parametrize("label, make", [
    ("deep-10000", lambda: {"lr": 0.1, "x": _deep(10_000)}),
    ("depth-33", lambda: {"lr": 0.1, "x": _deep(32)}),
    ("cyclic", _cyclic),
    ("2-MB", lambda: {"lr": 0.1, "t": ["x" * 1000] * 2000}),
], ids=["deep-10000", "depth-33", "cyclic", "2-MB"])
def test_a_config_over_the_limits_still_creates_the_run(label, make):
    with pytest.warns(babysit.BabysitWarning, match="to fit the server's limits"):
        run = babysit.init(project=PROJECT, name="config-" + label, url=URL, config=make(), quiet=True)
    run.log({"x": 1.0}, step=0)
    assert run.finish()
    detail = get("/api/v1/runs/%s" % run.id)
    assert detail["run"]["config"]["lr"] == 0.1 and "[babysit: " in json.dumps(detail["run"]["config"])
    assert [k["key"] for k in detail["keys"]] == ["x"]


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_server_going_away_mid_training_loses_nothing(how):
    """The server is stopped (or SIGKILLed) half-way; training goes on; it comes back; all is there once."""
    server = RealServer().start()
    try:
        run = babysit.init(project=PROJECT, name="server-away-" + how, url=server.url, quiet=True)
        n = 600
        for step in range(n):
            run.log({"train/loss": 2.3 / (1 + step), "x": float("nan") if step == 300 else step}, step=step)
            if step == 200:
                wait_for(lambda: get_from(server.url, "/api/v1/runs/%s" % run.id)["keys"], what="first points stored")
                getattr(server, how)()
            if step == 400:
                server.start()
            time.sleep(0.002)
        assert run.finish(timeout=30)
        steps, values = series_steps_from(server.url, run.id, "x")
        assert steps == list(range(n))
        assert values[300] == "NaN" and values[599] == 599
        loss_steps, _ = series_steps_from(server.url, run.id, "train/loss")
        assert loss_steps == list(range(n))
        assert get_from(server.url, "/api/v1/runs/%s" % run.id)["run"]["status"] == "finished"
    finally:
        server.close()


def get_from(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as resp:
        return json.loads(resp.read())


def series_steps_from(base, run_id, key):
    body = get_from(base, "/api/v1/runs/%s/series?key=%s&points=10000" % (run_id, key))
    assert body["exact"]
    return [b["step"] for b in body["buckets"]], [b["last"] for b in body["buckets"]]


def test_label_stats_reach_the_server_and_name_the_majority_class():
    # a net that answers class 0 of a 90/5/5 data set: accuracy at the share, loss sliding to the priors
    np = pytest.importorskip("numpy")
    run = babysit.init(project=PROJECT, name="majority", url=URL, quiet=True, config={"num_classes": 3})
    assert babysit.log_label_stats(np.array([0] * 900 + [1] * 50 + [2] * 50)) == {"counts": [900, 50, 50], "n": 1000, "split": "train"}
    assert babysit.log_label_stats(torch.tensor([0] * 270 + [1] * 15 + [2] * 15), split="val")["counts"] == [270, 15, 15]
    for epoch in range(20):
        for i in range(10):
            babysit.log({"train/loss": 0.45 + 0.65 * 0.8 ** (epoch + i / 10)}, step=epoch * 10 + i)
        babysit.log({"train/acc": 0.9, "val/acc": 0.9, "val/loss": 0.46 + 0.6 * 0.8 ** epoch}, step=epoch * 10 + 9)
    result = run.finish()
    assert result and result.rejected_points == 0
    alerts = wait_for(lambda: [a for a in get("/api/v1/runs/%s/alerts" % run.id)["alerts"] if a["code"] == "majority_class"],
                      timeout=30, what="a majority_class alert")
    assert alerts[0]["evidence"]["label_stats"] is True
    assert alerts[0]["evidence"]["majority_class"] == 0 and alerts[0]["evidence"]["majority_share"] == 0.9
    assert "class 0" in alerts[0]["message"]
