"""The Python SDK against a REAL team-mode server: BABYSIT_API_KEY is sent as a bearer token; a missing
or revoked key never crashes the loop, the SDK warns once and keeps the data spooled, and
`python -m babysit sync` delivers all of it once a valid key is back."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

import babysit
from conftest import wait_for
from real_server import ROOT, RealServer

_server = None
_cookie = None


def setup_module(module):
    global _server, _cookie
    _server = RealServer(env={"BABYSIT_MODE": "team"})
    out = subprocess.run(["node", "--import", "tsx", "scripts/admin.ts", "create", "admin"], cwd=ROOT,
                         env=dict(os.environ, DATABASE_URL="file:" + _server.db), check=True,
                         capture_output=True, text=True).stdout
    password = re.search(r"^ {4}(\S+)$", out, re.M).group(1)
    _server.start()
    _cookie = _login(password)
    # the printed password works once: the admin sets their own before anything else
    req = urllib.request.Request(_server.url + "/api/v1/auth/password", method="POST",
                                 data=json.dumps({"current": password, "password": "the admin's own password"}).encode(),
                                 headers={"Content-Type": "application/json", "Cookie": _cookie})
    urllib.request.urlopen(req, timeout=10).close()
    _cookie = _login("the admin's own password")


def _login(password):
    req = urllib.request.Request(_server.url + "/api/v1/auth/login", method="POST",
                                 data=json.dumps({"name": "admin", "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["Set-Cookie"].split(";", 1)[0]


def teardown_module(module):
    if _server is not None:
        _server.close()


def call(method, path, body=None):
    req = urllib.request.Request(_server.url + path, method=method, headers={"Cookie": _cookie, "Content-Type": "application/json"},
                                 data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def new_key():
    made = call("POST", "/api/v1/keys", {"name": "sdk-test"})
    return made["key"]["id"], made["token"]


def count(run_id, key="x"):
    keys = call("GET", "/api/v1/runs/%s" % run_id)["keys"]
    return next((k["count"] for k in keys if k["key"] == key), 0)


@pytest.fixture
def loud(monkeypatch):
    monkeypatch.delenv("BABYSIT_QUIET", raising=False)


def test_a_valid_key_delivers_everything(monkeypatch):
    _, token = new_key()
    monkeypatch.setenv("BABYSIT_API_KEY", token)
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    for i in range(20):
        run.log({"x": i}, step=i)
    assert run.finish(timeout=10)
    assert count(run.id) == 20


def test_without_a_key_the_loop_goes_on_warns_once_and_sync_delivers_with_a_key(monkeypatch, capfd, loud, spool_dir):
    monkeypatch.delenv("BABYSIT_API_KEY", raising=False)
    run_id = "py-nokey-%s" % uuid.uuid4().hex[:8]
    run = babysit.init(project="team-py", url=_server.url, id=run_id, flush_interval=0.02)
    for i in range(10):
        run.log({"x": i}, step=i)
    result = run.finish(timeout=2)
    assert not result
    err = capfd.readouterr().err
    # one warning, naming what is missing: no key was sent, so none was "refused"
    assert err.count("needs an API key") == 1, err
    assert "BABYSIT_API_KEY is not set" in err and "/account page" in err
    assert "refused the API key" not in err
    assert "401 unauthenticated" in err
    assert "unreachable" not in err, err
    assert os.listdir(str(spool_dir))
    _, token = new_key()
    monkeypatch.setenv("BABYSIT_API_KEY", token)
    res = babysit.sync(url=_server.url, timeout=10)
    assert not res["skipped"], res
    assert points(run_id) == [(i, i, 1) for i in range(10)]


def points(run_id, key="x"):
    """(step, value, count) of every stored point of `key`: a point stored twice shows as a count of 2."""
    series = call("GET", "/api/v1/runs/%s/series?key=%s&points=10000" % (run_id, key))
    assert series["exact"], series
    return [(b["step"], b["last"], b["count"]) for b in series["buckets"]]


def value(i):
    return 1.0 / (i + 3)


def test_a_key_revoked_mid_run_loses_nothing_once_a_valid_key_is_back(monkeypatch, capfd, loud, spool_dir):
    key_id, token = new_key()
    monkeypatch.setenv("BABYSIT_API_KEY", token)
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    for i in range(5):
        run.log({"x": value(i)}, step=i)
    wait_for(lambda: count(run.id) == 5, what="the first five points")
    call("DELETE", "/api/v1/keys/%d" % key_id)
    for i in range(5, 12):
        run.log({"x": value(i)}, step=i)  # never raises
    # several flushes are refused (the spool holds them), and the loop goes on logging meanwhile
    wait_for(lambda: os.path.isdir(str(spool_dir)) and os.listdir(str(spool_dir)), what="the spool")
    for i in range(12, 30):
        run.log({"x": value(i)}, step=i)
    assert not run.finish(timeout=2)
    err = capfd.readouterr().err
    assert err.count("refused the API key") == 1, err
    assert "was revoked" in err
    # the server answered: the warnings say the key was refused and what to do, never "unreachable"
    assert "unreachable" not in err, err
    assert "refused the API key" in err and "BABYSIT_API_KEY" in err and "python -m babysit sync" in err, err
    assert count(run.id) == 5
    # the data comes back with another key through the command line, as a user would send it
    _, fresh = new_key()
    env = dict(os.environ, BABYSIT_API_KEY=fresh, BABYSIT_URL=_server.url, PYTHONPATH=os.path.join(ROOT, "sdk", "python"))
    done = subprocess.run([sys.executable, "-m", "babysit", "sync"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not os.listdir(str(spool_dir)), os.listdir(str(spool_dir))
    # every point once, with its value
    assert points(run.id) == [(i, value(i), 1) for i in range(30)]
    assert call("GET", "/api/v1/runs/%s" % run.id)["run"]["status"] == "finished"


def test_a_key_that_may_not_write_the_project_says_so_and_keeps_the_data(monkeypatch, capfd, loud):
    made = call("POST", "/api/v1/keys", {"name": "other project", "projects": ["somewhere-else"]})
    monkeypatch.setenv("BABYSIT_API_KEY", made["token"])
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    for i in range(4):
        run.log({"x": i}, step=i)  # never raises
    result = run.finish(timeout=2)
    assert not result and result.rejected_points == 0
    assert "403 forbidden: this API key may not write to the project" in capfd.readouterr().err
    assert result.spool_path and os.path.exists(result.spool_path)  # a refused run is kept, as without keys


# ---- a refused key (401) is not a server that is away: every message says so, nothing waits for it

def _no_key(monkeypatch):
    monkeypatch.delenv("BABYSIT_API_KEY", raising=False)
    return "needs an API key"


def _revoked_key(monkeypatch):
    key_id, token = new_key()
    call("DELETE", "/api/v1/keys/%d" % key_id)
    monkeypatch.setenv("BABYSIT_API_KEY", token)
    return "refused the API key (401 unauthenticated: this API key was revoked"


REFUSALS = [pytest.param(_no_key, id="no key"), pytest.param(_revoked_key, id="revoked key")]


def _other_project_key(monkeypatch):
    made = call("POST", "/api/v1/keys", {"name": "elsewhere", "projects": ["somewhere-else"]})
    monkeypatch.setenv("BABYSIT_API_KEY", made["token"])
    return "refused the API key (403 forbidden: this API key may not write to the project"


# a key that may not write the project can be replaced too: sync keeps the data (never drops it)
SYNC_REFUSALS = REFUSALS + [pytest.param(_other_project_key, id="key for another project")]
NOT_THE_KEY = ("unreachable", "could not reach", "did not answer", "will not take", "run sync again")


@pytest.mark.parametrize("refuse", REFUSALS)
def test_a_refused_key_gives_one_line_naming_it_and_finish_does_not_wait_out_its_timeout(monkeypatch, capfd, loud, spool_dir, refuse):
    reason = refuse(monkeypatch)
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    for i in range(50):
        run.log({"x": i}, step=i)
    started = time.monotonic()
    result = run.finish(timeout=120)
    # nothing will be taken until the key changes: finish() spools and returns instead of waiting 120 s
    assert time.monotonic() - started < 60
    assert not result and result.spool_path and os.path.exists(result.spool_path)
    lines = [ln for ln in capfd.readouterr().err.splitlines() if ln.startswith("babysit:")]
    assert len(lines) == 1, lines
    assert reason in lines[0] and result.spool_path in lines[0], lines
    assert "set BABYSIT_API_KEY" in lines[0] and "python -m babysit sync" in lines[0], lines
    assert not any(s in lines[0] for s in NOT_THE_KEY), lines


def _sync_cli(**env):
    full = dict(os.environ, BABYSIT_URL=_server.url, PYTHONPATH=os.path.join(ROOT, "sdk", "python"), **env)
    return subprocess.run([sys.executable, "-m", "babysit", "sync"], env=full, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("refuse", SYNC_REFUSALS)
def test_sync_with_a_refused_key_names_it_exits_3_and_keeps_the_spool(monkeypatch, spool_dir, refuse):
    monkeypatch.delenv("BABYSIT_API_KEY", raising=False)
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    run.log({"x": 1.0}, step=0)
    assert not run.finish(timeout=10)
    reason = refuse(monkeypatch)  # the key the command line inherits: none, or a revoked one
    done = _sync_cli()
    out = done.stdout + done.stderr
    assert done.returncode == 3, out
    assert "1 run(s) not sent: " in out and reason in out and "set BABYSIT_API_KEY" in out, out
    assert not any(s in out for s in NOT_THE_KEY), out
    assert os.listdir(str(spool_dir))
    # with a valid key the same command sends it all and exits 0
    _, token = new_key()
    done = _sync_cli(BABYSIT_API_KEY=token)
    assert done.returncode == 0, done.stdout + done.stderr
    assert count(run.id) == 1


def test_sync_against_a_server_that_is_away_still_says_run_sync_again_and_exits_1(spool_dir, monkeypatch):
    monkeypatch.delenv("BABYSIT_API_KEY", raising=False)
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    run.log({"x": 1.0}, step=0)
    assert not run.finish(timeout=10)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = "http://127.0.0.1:%d" % s.getsockname()[1]
    full = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "sdk", "python"))
    done = subprocess.run([sys.executable, "-m", "babysit", "sync", "--url", dead, "--any-url", "--timeout", "3"],
                          env=full, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "run sync again" in done.stdout and "API key" not in done.stdout, done.stdout


def test_a_run_spooled_for_its_key_and_synced_later_shows_when_it_trained(monkeypatch, spool_dir):
    monkeypatch.delenv("BABYSIT_API_KEY", raising=False)
    before_init = time.time()
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    after_init = time.time()
    run.log({"x": 1.0}, step=0)
    before_finish = time.time()
    assert not run.finish(timeout=10)
    after_finish = time.time()
    # the sync comes later: its own clock must not become the run's start or end
    wait_for(lambda: time.time() > after_finish + 1.5, what="a later sync")
    _, token = new_key()
    monkeypatch.setenv("BABYSIT_API_KEY", token)
    res = babysit.sync(url=_server.url, timeout=10)
    assert res["runs_left"] == 0 and res["refused"] is None, res
    got = call("GET", "/api/v1/runs/%s" % run.id)["run"]
    assert before_init - 0.01 <= got["createdAt"] <= after_init + 0.01, (got, before_init, after_init)
    assert before_finish - 0.01 <= got["finishedAt"] <= after_finish + 0.01, (got, before_finish, after_finish)


def test_a_key_that_may_not_write_the_project_gives_one_line_and_finish_does_not_wait(monkeypatch, capfd, loud, spool_dir):
    made = call("POST", "/api/v1/keys", {"name": "elsewhere", "projects": ["somewhere-else"]})
    monkeypatch.setenv("BABYSIT_API_KEY", made["token"])
    run = babysit.init(project="team-py", url=_server.url, flush_interval=0.02)
    for i in range(4):
        run.log({"x": i}, step=i)
    started = time.monotonic()
    result = run.finish(timeout=120)
    # the server answered 403: finish() spools and returns instead of waiting 120 s for an answer that will not change
    assert time.monotonic() - started < 60
    assert not result and result.spool_path and os.path.exists(result.spool_path)
    lines = [ln for ln in capfd.readouterr().err.splitlines() if ln.startswith("babysit:")]
    assert len(lines) == 1, lines
    assert "403 forbidden: this API key may not write to the project" in lines[0] and result.spool_path in lines[0], lines
    assert not any(s in lines[0] for s in NOT_THE_KEY), lines
