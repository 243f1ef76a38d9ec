"""The Python SDK logging to a run that is deleted from the dashboard while the script runs.

The server answers the late batch 404 and the SDK's re-create 410 run_deleted: the SDK counts the
points as rejected, warns, does not retry forever (finish returns before its timeout) and the run
stays deleted.
"""

import json
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
