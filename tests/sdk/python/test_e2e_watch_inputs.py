"""End-to-end: watch() alone (no log_input_stats call) lets a REAL server see validation inputs
preprocessed differently from the training inputs (train_val_mismatch from the input statistics).

Starts a server from this checkout's production build (`npx next build`), or uses BABYSIT_TEST_URL.
No validation loss or accuracy is logged, so only the input statistics can raise the alert.
"""

import json
import os
import urllib.request
import uuid

import pytest

torch = pytest.importorskip("torch")
datasets = pytest.importorskip("sklearn.datasets")
nn = torch.nn
F = torch.nn.functional

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
from conftest import wait_for  # noqa: E402

PROJECT = "sdk-python-e2e-inputs-%s" % uuid.uuid4().hex[:6]


def get(path):
    with urllib.request.urlopen(URL.rstrip("/") + path, timeout=10) as resp:
        return json.loads(resp.read())


def digits(val_pipeline):
    d = datasets.load_digits()
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(d.data), generator=g)
    x = torch.tensor(d.data, dtype=torch.float32)[order] / 16.0
    y = torch.tensor(d.target)[order]
    xtr, ytr, xva = x[:1400], y[:1400], x[1400:]
    mu, sd = xtr.mean(), xtr.std()
    if val_pipeline == "raw pixels 0..16":
        return (xtr - mu) / sd, ytr, xva * 16.0
    return (xtr - mu) / sd, ytr, (xva - mu) / sd


def train(name, val_pipeline, evaluate, batch):
    torch.manual_seed(0)
    xtr, ytr, xva = digits(val_pipeline)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    run = babysit.init(project=PROJECT, name=name, url=URL, quiet=True, config={"num_classes": 10, "batch_size": batch})
    babysit.watch(model, opt, every=5)
    step = 0
    for _ in range(4):
        model.train()
        for b in range(0, len(xtr), batch):
            loss = F.cross_entropy(model(xtr[b:b + batch]), ytr[b:b + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            babysit.log({"train/loss": loss}, step=step)
            step += 1
        model.eval()
        with torch.no_grad():
            for which in evaluate:
                x = xtr if which == "train" else xva
                for b in range(0, len(x), 100):
                    model(x[b:b + 100])
    result = run.finish()
    assert result and result.rejected_points == 0
    evs = [e for e in get("/api/v1/runs/%s" % run.id)["events"] if e["type"] == "input_stats"]
    assert {e["data"].get("split", "train") for e in evs} == {"train", "val"}
    return run


def mismatch(run):
    return [a for a in get("/api/v1/runs/%s/alerts" % run.id)["alerts"] if a["code"] == "train_val_mismatch"]


def test_validation_pixels_left_unnormalised_raise_train_val_mismatch_from_watch_alone():
    run = train("val-raw", "raw pixels 0..16", ("val",), batch=32)
    alerts = wait_for(lambda: mismatch(run), timeout=30, what="a train_val_mismatch alert")
    assert "features" in alerts[0]["evidence"] and alerts[0]["evidence"]["features"] == 64
    assert "Validation inputs are on another scale" in alerts[0]["title"]


@pytest.mark.parametrize("name, evaluate, batch", [
    ("same-pipeline", ("val",), 32),
    ("same-pipeline-batch-8", ("val",), 8),
    ("train-then-val-in-eval-mode", ("train", "val"), 64),
    ("train-set-in-eval-mode", ("train",), 32),
])
def test_the_same_preprocessing_raises_nothing(name, evaluate, batch):
    run = train(name, "same", evaluate, batch)
    # finish() ran the diagnoses: what they say now is the verdict
    assert mismatch(run) == []
