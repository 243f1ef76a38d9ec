"""The Python SDK logging to a run that is deleted from the dashboard while the script runs.

The server answers the late batch 404 and the SDK's re-create 410 run_deleted: the SDK counts the
points as rejected, warns, does not retry forever (finish returns before its timeout) and the run
stays deleted.
"""

import json
import os
import time
import urllib.request

import pytest

import babysit
from conftest import wait_for
from real_server import RealServer


@pytest.fixture(scope="module")
def real():
    srv = RealServer().start()
    yield srv
    srv.close()


def call(url, method, path):
    req = urllib.request.Request(url + path, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def call_json(url, method, path, body):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_run_deleted_mid_training_rejects_later_points_and_stays_deleted(real, capsys, monkeypatch):
    monkeypatch.delenv("BABYSIT_QUIET", raising=False)
    run = babysit.init(project="sdk-py", name="doomed", url=real.url, flush_interval=0.02)
    run.log({"loss": 1.0}, step=0)
    wait_for(lambda: call(real.url, "GET", "/api/v1/runs/%s" % run.id)[1].get("keys"), what="the first point stored")
    status, _ = call(real.url, "DELETE", "/api/v1/runs/%s" % run.id)
    assert status == 200
    run.log({"loss": 0.5}, step=1)
    run.log({"loss": 0.25}, step=2)
    t0 = time.monotonic()
    result = run.finish(timeout=10)
    assert time.monotonic() - t0 < 10  # settled by the answers, not by the timeout
    assert result.delivered is False
    assert result.rejected_points == 2
    assert "run_deleted" in capsys.readouterr().err
    status, body = call(real.url, "GET", "/api/v1/runs/%s" % run.id)
    assert status == 404


def test_sync_of_a_spool_left_for_a_deleted_run_counts_it_rejected_and_recreates_nothing(real, spool_dir):
    status, _ = call_json(real.url, "POST", "/api/v1/runs", {"project": "sdk-py", "id": "spooled-gone"})
    assert status == 201
    assert call(real.url, "DELETE", "/api/v1/runs/spooled-gone")[0] == 200
    # what a process that died while its server was away leaves behind
    os.makedirs(str(spool_dir), exist_ok=True)
    lines = [{"kind": "run", "id": "spooled-gone", "project": "sdk-py", "url": real.url}]
    lines += [{"kind": "batch", "seq": i, "body": {"seq": i, "rows": [{"step": i, "time": 1.0, "metrics": {"x": i}}]}} for i in range(3)]
    with open(os.path.join(str(spool_dir), "spooled-gone.jsonl"), "w") as f:
        f.write("".join(json.dumps(x) + "\n" for x in lines))
    res = babysit.sync(url=real.url, spool_dir=str(spool_dir), timeout=10)
    assert (res["rejected_points"], res["batches_left"], res["runs_left"]) == (3, 0, 0)
    assert call(real.url, "GET", "/api/v1/runs/spooled-gone")[0] == 404
