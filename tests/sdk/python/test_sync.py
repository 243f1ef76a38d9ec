"""`python -m babysit sync` says what it did not send and why, and exits non-zero when anything is left."""

import fcntl
import json
import os
import socket

import pytest

import babysit
from babysit.__main__ import main
from babysit._spool import LoadedSpool, parse_spool
from conftest import wait_for


def write_spool(spool_dir, run_id, url, steps=3):
    """A spool as a process that died while its server (at `url`) was away leaves it."""
    os.makedirs(spool_dir, exist_ok=True)
    path = os.path.join(str(spool_dir), run_id + ".jsonl")
    lines = [{"kind": "run", "id": run_id, "project": "sync-test", "url": url}]
    for i in range(steps):
        lines.append({"kind": "batch", "seq": i, "body": {"seq": i, "rows": [{"step": i, "time": 1.0, "metrics": {"x": i}}]}})
    with open(path, "w") as f:
        f.write("".join(json.dumps(x) + "\n" for x in lines))
    return path


def sync_cli(capsys, *args):
    code = main(["sync", "--timeout", "10", *args])
    got = capsys.readouterr()
    return code, got.out + got.err


# Each spool that sync leaves alone is listed with its reason; the exit status says something is left.
@pytest.mark.parametrize("other", ["http://127.0.0.1:1", "http://other-host:3000", "https://babysit.example/base"])
def test_a_spool_made_for_another_server_is_listed_and_fails_the_exit_status(server, spool_dir, capsys, other):
    path = write_spool(spool_dir, "run-other", other)
    code, out = sync_cli(capsys, "--url", server.url)
    assert code == 1
    assert "sent 0 batch(es) of 0 run(s)" in out
    assert "%s (run run-other, 3 batch(es)): made for %s, not %s" % (path, other, server.url) in out
    assert "python -m babysit sync --url %s" % other in out
    assert "--any-url" in out
    assert "run-other" not in server.runs and os.path.exists(path)
    res = babysit.sync(url=server.url, timeout=5)
    assert res["skipped"] == [{"path": path, "run": "run-other", "reason": "made for another server",
                               "url": other, "batches": 3}]


def test_any_url_sends_a_foreign_spool_to_the_given_server_with_a_warning(server, spool_dir, capsys):
    path = write_spool(spool_dir, "run-moved", "http://127.0.0.1:1", steps=4)
    code, out = sync_cli(capsys, "--url", server.url, "--any-url")
    assert code == 0, out
    assert "sending run run-moved's spool (made for http://127.0.0.1:1) to %s" % server.url in out
    assert "sent 4 batch(es) of 1 run(s); 0 batch(es) left" in out
    assert server.series("run-moved", "x") == {0: 0, 1: 1, 2: 2, 3: 3}
    assert not os.path.exists(path)


# The same server written differently (a trailing slash) is not "another server".
@pytest.mark.parametrize("suffix", ["", "/"])
def test_a_spool_for_this_server_is_sent_and_sync_exits_0(server, spool_dir, capsys, suffix):
    write_spool(spool_dir, "run-here", server.url + suffix)
    code, out = sync_cli(capsys, "--url", server.url)
    assert (code, out.strip()) == (0, "sent 3 batch(es) of 1 run(s); 0 batch(es) left")  # nothing else said
    assert server.series("run-here", "x") == {0: 0, 1: 1, 2: 2}


def test_a_spool_held_by_a_live_process_is_listed_as_in_use(server, spool_dir, capsys):
    path = write_spool(spool_dir, "run-live", server.url)
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as the writing process holds it
        code, out = sync_cli(capsys, "--url", server.url)
    finally:
        os.close(fd)
    assert code == 1
    assert "%s (0 batch(es)): in use by a running process (it sends them itself)" % path in out
    assert "run-live" not in server.runs


# The TypeScript SDK cannot flock: it names its live writer in <spool>.owner, which sync honours too.
@pytest.mark.parametrize("owner,in_use", [
    (lambda: {"pid": os.getpid(), "host": socket.gethostname()}, True),
    (lambda: {"pid": 2 ** 22 + 12345, "host": socket.gethostname()}, False),  # beyond pid_max: gone
    (lambda: "not an owner", False),
])
def test_a_spool_a_live_typescript_process_owns_is_listed_as_in_use(server, spool_dir, capsys, owner, in_use):
    path = write_spool(spool_dir, "run-ts", server.url)
    with open(path + ".owner", "w") as f:
        json.dump(owner(), f)
    code, out = sync_cli(capsys, "--url", server.url)
    if in_use:
        assert code == 1
        assert "%s (0 batch(es)): in use by a running process (it sends them itself)" % path in out
        assert "run-ts" not in server.runs
    else:
        assert (code, out.strip()) == (0, "sent 3 batch(es) of 1 run(s); 0 batch(es) left")
        assert os.listdir(str(spool_dir)) == []  # the stale owner file goes with its spool


def test_a_server_that_is_away_leaves_batches_and_exits_1(server, spool_dir, capsys):
    write_spool(spool_dir, "run-away", server.url)
    server.down()
    code, out = sync_cli(capsys, "--url", server.url, "--timeout", "1")
    assert code == 1
    assert "3 batch(es) left" in out and "1 run(s) not finished" in out
    # the same words as the TypeScript SDK's, and no promise that the server is only slow
    assert ("1 run(s) not finished: the server at %s could not be reached or did not answer in time; "
            "is it running there (else --url)? Then run sync again" % server.url) in out


def test_init_says_once_that_spools_for_another_server_are_left(server, make_run, spool_dir, capfd):
    write_spool(spool_dir, "run-a", "http://127.0.0.1:1")
    write_spool(spool_dir, "run-b", "http://other-host:3000")
    write_spool(spool_dir, "run-c", server.url)
    run = make_run()
    run.log({"x": 1.0}, step=0)
    wait_for(lambda: server.series("run-c", "x") == {0: 0, 1: 1, 2: 2}, what="the spool for this server to be sent")
    assert run.finish()
    err = capfd.readouterr().err
    assert err.count("made for another server") == 1
    assert "2 spool file(s) in %s were made for another server and are not sent to %s" % (spool_dir, server.url) in err
    assert "run-a" not in server.runs and "run-b" not in server.runs


def _full_disk_for_batches(monkeypatch):
    """A disk that takes the small ack lines but no batch (ENOSPC): the write fails, the ack would not."""
    orig = LoadedSpool._write

    def write(self, line):
        return False if line.startswith(b'{"kind":"batch"') else orig(self, line)

    monkeypatch.setattr(LoadedSpool, "_write", write)


def test_halves_that_cannot_be_spooled_keep_the_old_batch_pending_until_they_are_stored(
        server, spool_dir, monkeypatch, capsys):
    # One batch of 40 rows, too large for the server: split in halves, which the full disk refuses.
    os.makedirs(spool_dir, exist_ok=True)
    path = os.path.join(str(spool_dir), "run-split.jsonl")
    rows = [{"step": i, "time": 1.0, "metrics": {"x": i}} for i in range(40)]
    with open(path, "w") as f:
        f.write(json.dumps({"kind": "run", "id": "run-split", "project": "sync-test", "url": server.url}) + "\n")
        f.write(json.dumps({"kind": "batch", "seq": 7, "body": {"seq": 7, "rows": rows}}) + "\n")
    server.max_body_bytes = 1600
    write_to_disk = LoadedSpool._write
    _full_disk_for_batches(monkeypatch)
    stored = server._log

    def then_away(rid, body):  # the server takes one half, then goes away
        answer = stored(rid, body)
        if answer[0] == 200:
            server.fail_logs = True
        return answer

    server._log = then_away
    res = babysit.sync(url=server.url, timeout=1)
    assert res["batches_left"] >= 1
    assert 0 < len(server.series("run-split", "x")) < 40
    assert "could not write to the spool file %s" % path in capsys.readouterr().err
    # The file still holds the whole batch: what the process held in memory is not lost with it.
    assert parse_spool(open(path, "rb").read()).pending[0][0] == 7
    monkeypatch.setattr(LoadedSpool, "_write", write_to_disk)  # the disk has room again
    server._log = stored
    server.fail_logs = False
    assert babysit.sync(url=server.url, timeout=10)["batches_left"] == 0
    assert server.series("run-split", "x") == {i: i for i in range(40)}
    assert not os.path.exists(path)


def test_halves_that_cannot_be_spooled_are_sent_from_memory(server, spool_dir, monkeypatch):
    os.makedirs(spool_dir, exist_ok=True)
    path = os.path.join(str(spool_dir), "run-mem.jsonl")
    rows = [{"step": i, "time": 1.0, "metrics": {"x": i}} for i in range(40)]
    with open(path, "w") as f:
        f.write(json.dumps({"kind": "run", "id": "run-mem", "project": "sync-test", "url": server.url}) + "\n")
        f.write(json.dumps({"kind": "batch", "seq": 7, "body": {"seq": 7, "rows": rows}}) + "\n")
    server.max_body_bytes = 1600
    _full_disk_for_batches(monkeypatch)
    res = babysit.sync(url=server.url, timeout=10)
    assert res["batches_left"] == 0 and res["rejected_points"] == 0
    assert server.series("run-mem", "x") == {i: i for i in range(40)}
    assert not os.path.exists(path)


def test_tentative_steps_a_typescript_spool_holds_are_resolved_after_the_runs_last_step(server, make_run, spool_dir):
    # The TypeScript SDK's spool of a run resumed offline: steps 5 and 6, "assuming the run stopped at 4".
    first = make_run(id="ts-resumed")
    for i in range(10):
        first.log({"x": float(i)})
    assert first.finish()
    os.makedirs(spool_dir, exist_ok=True)
    path = os.path.join(str(spool_dir), "ts-resumed.jsonl")
    rows = [{"unresolvedAfter": 4, "step": 5 + i, "time": 1.0, "metrics": {"x": 100 + i}} for i in range(2)]
    with open(path, "w") as f:
        f.write(json.dumps({"kind": "run", "id": "ts-resumed", "project": "sync-test", "url": server.url}) + "\n")
        f.write(json.dumps({"kind": "batch", "seq": 3, "body": {"seq": 3, "rows": rows}}) + "\n")
    assert babysit.sync(url=server.url, timeout=10)["batches_left"] == 0
    # the run stopped at 9, not 4: the steps move by 5, after the run's own
    assert server.series("ts-resumed", "x") == {**{i: float(i) for i in range(10)}, 10: 100, 11: 101}
