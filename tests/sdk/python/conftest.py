import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.abspath(os.path.join(HERE, "..", "..", "..", "sdk", "python"))
# Tests run against the source tree (no install needed); PYTHONPATH=sdk/python works too.
for p in (SDK, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import babysit  # noqa: E402
from babysit import _state  # noqa: E402
from fake_server import FakeServer  # noqa: E402


def wait_for(cond, timeout=10.0, interval=0.01, what="condition"):
    """Polls `cond` until it is truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


@pytest.fixture(autouse=True)
def spool_dir(tmp_path, monkeypatch):
    """Every test gets its own spool directory and no inherited server URL."""
    d = tmp_path / "spool"
    monkeypatch.setenv("BABYSIT_SPOOL_DIR", str(d))
    monkeypatch.delenv("BABYSIT_URL", raising=False)
    monkeypatch.setenv("BABYSIT_QUIET", "1")
    yield d
    for run in list(_state._runs):  # a test that failed half-way must not leave a sender behind
        run.finish(timeout=1.0)


@pytest.fixture
def server():
    srv = FakeServer()
    yield srv
    srv.close()


@pytest.fixture
def make_run(server):
    """babysit.init against the fake server, flushing fast so tests stay short."""

    def make(**kw):
        kw.setdefault("project", "test")
        kw.setdefault("url", server.url)
        kw.setdefault("flush_interval", 0.02)
        return babysit.init(**kw)

    yield make
    for run in list(_state._runs):  # finish while the server is still there
        run.finish(timeout=1.0)
