"""The SDK's delivery guarantees, against the in-process fake server (fake_server.py)."""

import json
from collections import deque
import math
import os
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import babysit
from babysit import BabysitWarning
from babysit import _transport as T
from conftest import SDK, wait_for


def spool_files(d):
    return sorted(p for p in os.listdir(d) if p.endswith(".jsonl")) if os.path.isdir(d) else []


def assert_no_duplicates(server, run_id):
    pts = [(k, s) for k, s, _ in server.points(run_id)]
    assert len(pts) == len(set(pts)), "a point was stored twice"


# ---------------------------------------------------------------------------------------- batching


def test_many_log_calls_travel_in_few_batches_with_increasing_seq(server, make_run):
    run = make_run(flush_interval=0.2)
    for i in range(2000):
        run.log({"train/loss": 1.0 / (i + 1), "train/acc": i / 2000})
    assert run.finish().delivered is True
    assert server.series(run.id, "train/loss") == {i: 1.0 / (i + 1) for i in range(2000)}
    seqs = [s for rid, s in server.log_requests if rid == run.id]
    assert 1 <= len(seqs) <= 20, "%d requests for 2000 log() calls" % len(seqs)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert server.runs[run.id]["status"] == "finished"


def test_batch_is_sent_when_enough_points_wait_before_the_flush_interval(server, make_run):
    run = make_run(flush_interval=30.0, batch_points=100)
    for i in range(100):
        run.log({"x": i})
    wait_for(lambda: len(server.series(run.id, "x")) == 100, timeout=5, what="a full batch to be sent early")


def test_steps_auto_increment_and_time_is_taken_at_log(server, make_run):
    run = make_run()
    stamps = []
    for i in range(5):
        before = time.time()
        run.log({"a": i})
        stamps.append((before, time.time()))
    run.log({"b": 1}, step=100)
    run.log({"b": 2})
    run.log({"c": 1}, step=7, epoch=0.5)
    run.finish()
    assert server.series(run.id, "a") == {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}
    assert server.series(run.id, "b") == {100: 1, 101: 2}
    assert server.series(run.id, "epoch") == {7: 0.5}
    rows = [r for r in server.rows(run.id) if "a" in r["metrics"]]
    for row, (lo, hi) in zip(rows, stamps):
        assert lo - 1e-3 <= row["time"] <= hi + 1e-3


def test_create_sends_project_name_config_and_client_id(server, make_run):
    run = make_run(project="digits", name="mlp", config={"lr": 1e-3, "layers": (64, 10), "nan": float("nan")})
    run.finish()
    stored = server.runs[run.id]
    assert (stored["project"], stored["name"]) == ("digits", "mlp")
    assert stored["config"] == {"lr": 1e-3, "layers": [64, 10], "nan": "NaN"}
    assert run.url == server.url + "/runs/" + run.id


# ---------------------------------------------------------------------------------------- values


def test_non_finite_values_travel_as_strings(server, make_run):
    np = pytest.importorskip("numpy")
    run = make_run()
    run.log({"nan": float("nan"), "inf": math.inf, "ninf": -math.inf, "np_nan": np.float32("nan"), "ok": 1.5}, step=3)
    run.finish()
    row = server.rows(run.id)[0]["metrics"]
    assert row == {"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity", "np_nan": "NaN", "ok": 1.5}


def test_numpy_and_torch_scalars_are_accepted(server, make_run):
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    run = make_run()
    loss = (torch.ones(3, requires_grad=True) * 2).mean()
    t = torch.tensor(4.0)
    run.log({
        "np32": np.float32(0.25), "np64": np.int64(7), "npbool": np.bool_(True), "np0d": np.array(2.5),
        "np1": np.array([3.5]), "loss": loss, "t1": torch.tensor([1.25]), "int_t": torch.tensor(3),
        "bool": True, "t": t,
    }, step=0)
    t.add_(1)  # a later in-place change must not change what was logged
    run.finish()
    assert server.rows(run.id)[0]["metrics"] == {
        "np32": 0.25, "np64": 7.0, "npbool": 1.0, "np0d": 2.5, "np1": 3.5, "loss": 2.0, "t1": 1.25,
        "int_t": 3.0, "bool": 1.0, "t": 4.0,
    }


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_log_never_raises_on_garbage_and_keeps_the_good_fields(server, make_run):
    torch = pytest.importorskip("torch")
    run = make_run()

    class Weird:
        def __float__(self):
            raise RuntimeError("boom")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # even `-W error` must not turn babysit's warnings into exceptions
        run.log("not a dict")
        run.log(None)
        run.log({"s": "1.5", "none": None, "obj": object(), "weird": Weird(), "vec": torch.ones(3),
                 "": 1.0, "k" * 201: 1.0, "ctl\x07": 1.0, 5: 1.0, "cplx": 1j, "huge": 10**400, "good": 2.0}, step=1)
        run.log({"good": 3.0}, step=-5)
        run.log({"good": 4.0}, step="ten")
        run.log({"good": 5.0}, step=2.5)
        run.log({"good": 6.0}, epoch="x")
        run.log_histogram("h", ([0, 1], [1, 2]))  # bad: edges/counts mismatch
        run.log_histogram("", [1, 2])
        run.event("", {})
        run.event("x" * 65, {})
        run.event("ok", {"obj": object()})
        run.event("not-a-dict", [1, 2])
        run.log_image("img", "not an image")
    result = run.finish()
    assert server.series(run.id, "good") == {1: 2.0, 2: 3.0, 3: 4.0, 4: 5.0, 5: 6.0}
    assert server.keys(run.id) == {"good"}
    # Everything dropped is counted: 2 non-dict calls, 11 metrics, 1 epoch, 2 histograms, 3 events, 1 image.
    assert result.delivered is False and not result
    assert result.rejected_points == 20 and result.pending_batches == 0
    # event data is converted as config is (as the TypeScript SDK does): an object is kept as its text
    (ok,) = server.events(run.id, "ok")
    assert ok["data"]["obj"].startswith("<object object at ")
    reasons = dict(result.rejections)
    assert reasons["dropped by the SDK: keys must be at most 200 code points"] == 1
    assert reasons["dropped by the SDK: event types must be at most 64 code points"] == 1


def test_each_problem_is_warned_once(server, make_run):
    run = make_run()
    with pytest.warns(BabysitWarning) as record:
        for i in range(50):
            run.log({"bad": "text", "good": i})
    msgs = [str(w.message) for w in record if "bad" in str(w.message)]
    assert len(msgs) == 1 and "dropped metric 'bad'" in msgs[0]
    run.finish()
    assert len(server.series(run.id, "good")) == 50


def test_log_before_init_and_after_finish_is_ignored_with_a_warning(server, make_run):
    from babysit import _state

    assert _state.current is None
    with pytest.warns(BabysitWarning, match="before babysit.init"):
        babysit.log({"a": 1})
    run = make_run()
    run.finish()
    with pytest.warns(BabysitWarning, match="after finish"):
        run.log({"a": 1})
    assert server.points(run.id) == []


# ---------------------------------------------------------------------------------------- retries


def test_a_batch_whose_answer_was_lost_is_retried_with_the_same_seq(server, make_run):
    server.drop_next_log_responses = 1
    run = make_run()
    for i in range(10):
        run.log({"x": i})
    assert run.finish().delivered is True
    seqs = [s for rid, s in server.log_requests if rid == run.id]
    assert len(seqs) > len(set(seqs)), "the unanswered batch was not retried"
    assert seqs[0] == seqs[1], "the retry used a new seq"
    assert server.series(run.id, "x") == {i: i for i in range(10)}
    assert_no_duplicates(server, run.id)


def test_server_503_then_back_loses_nothing(server, make_run):
    run = make_run()
    run.log({"x": 0})
    wait_for(lambda: server.series(run.id, "x"), what="first point")
    server.mode = "503"
    for i in range(1, 20):
        run.log({"x": i})
    wait_for(lambda: spool_files(os.environ["BABYSIT_SPOOL_DIR"]), what="data to be spooled")
    server.mode = "up"
    assert run.finish().delivered is True
    assert server.series(run.id, "x") == {i: i for i in range(20)}
    assert_no_duplicates(server, run.id)


def test_server_away_then_back_nothing_lost_no_duplicates_spool_removed(server, make_run, capfd, spool_dir):
    run = make_run()
    for i in range(50):
        run.log({"x": i})
    wait_for(lambda: len(server.series(run.id, "x")) == 50, what="first 50 points")
    server.down()
    for i in range(50, 150):
        run.log({"x": i})
        if i % 25 == 0:
            time.sleep(0.03)  # let several batches be formed and spooled while the server is away
    wait_for(lambda: spool_files(spool_dir), what="a spool file")
    spooled = open(os.path.join(spool_dir, spool_files(spool_dir)[0])).read().splitlines()
    assert json.loads(spooled[0])["kind"] == "run" and json.loads(spooled[0])["id"] == run.id
    assert any(json.loads(line)["kind"] == "batch" for line in spooled[1:])
    server.up()
    wait_for(lambda: len(server.series(run.id, "x")) == 150, timeout=15, what="spooled points to be replayed")
    for i in range(150, 200):
        run.log({"x": i})
    assert run.finish().delivered is True
    assert server.series(run.id, "x") == {i: i for i in range(200)}
    assert_no_duplicates(server, run.id)
    assert spool_files(spool_dir) == []
    err = capfd.readouterr().err
    assert err.count("is unreachable") == 1
    assert "reachable again" in err


def test_init_while_server_down_creates_the_run_with_its_client_id_later(server, make_run, spool_dir):
    server.down()
    t0 = time.monotonic()
    run = make_run(project="p", name="offline-start", config={"a": 1})
    assert time.monotonic() - t0 < 2.0, "init() waited for a server that refuses connections"
    assert run.id and run.url.endswith("/runs/" + run.id)
    for i in range(30):
        run.log({"x": i})
    wait_for(lambda: spool_files(spool_dir), what="a spool file")
    server.up()
    wait_for(lambda: len(server.series(run.id, "x")) == 30, timeout=15, what="the run to be created and filled")
    assert server.runs[run.id]["name"] == "offline-start" and server.runs[run.id]["config"] == {"a": 1}
    assert run.finish().delivered is True
    assert server.runs[run.id]["status"] == "finished"


def test_log_does_not_block_while_the_server_hangs(server, make_run):
    run = make_run()
    server.mode = "hang"
    run.log({"x": -1})
    time.sleep(0.1)  # the sender is now stuck in a request
    t0 = time.perf_counter()
    for i in range(5000):
        run.log({"x": i})
    assert time.perf_counter() - t0 < 2.0
    server.mode = "up"
    assert run.finish().delivered is True
    assert len(server.series(run.id, "x")) == 5001


# ---------------------------------------------------------------------------------------- finish


def test_finish_gives_up_at_its_deadline_when_the_server_hangs(server, make_run, spool_dir):
    run = make_run()
    run.log({"x": 1})
    wait_for(lambda: server.series(run.id, "x"), what="first point")
    server.mode = "hang"
    for i in range(10):
        run.log({"y": i})
    t0 = time.monotonic()
    called = time.time()
    assert run.finish(timeout=1.0).delivered is False
    assert time.monotonic() - t0 < 2.0
    lines = [json.loads(x) for f in spool_files(spool_dir) for x in open(os.path.join(spool_dir, f))]
    finishes = [rec for rec in lines if rec["kind"] == "finish"]
    # the finish is kept with when finish() ran, which sync replays as the run's end
    assert finishes == [{"kind": "finish", "status": "finished", "finishedAt": finishes[0]["finishedAt"]}]
    assert called - 0.01 <= finishes[0]["finishedAt"] <= time.time()
    ys = [row["metrics"]["y"] for rec in lines if rec["kind"] == "batch" for row in rec["body"]["rows"] if "y" in row["metrics"]]
    assert sorted(ys) == list(range(10))
    server.mode = "up"


def test_finish_returns_fast_when_the_server_is_already_away(server, make_run, spool_dir):
    run = make_run()
    server.down()
    for i in range(10):
        run.log({"x": i})
    wait_for(lambda: spool_files(spool_dir), what="a spool file")
    t0 = time.monotonic()
    assert run.finish(timeout=10.0).delivered is False
    assert time.monotonic() - t0 < 3.0


def test_finish_right_after_the_server_came_back_waits_for_its_slow_answers(server, make_run, spool_dir):
    # The server was away, is back, and answers slowly (just restarted, on a loaded machine): finish()
    # hurries only to reach it, then gives it its whole timeout instead of spooling everything.
    run = make_run(flush_interval=30.0)
    run.log({"x": -1}, step=0)
    run._transport.wake.set()
    wait_for(lambda: server.series(run.id, "x"), what="first point")
    server.down()
    for i in range(1, 11):
        run.log({"x": i}, step=i)
    run._transport.wake.set()
    wait_for(lambda: spool_files(spool_dir), what="a spool file")
    server.answer_delay = T.FINISH_CONNECT_WAIT + 0.5
    server.up()
    result = run.finish(timeout=30.0)
    assert result.delivered is True and result.pending_batches == 0
    assert server.series(run.id, "x") == {i: (-1 if i == 0 else i) for i in range(11)}
    assert server.runs[run.id]["status"] == "finished"
    assert spool_files(spool_dir) == []


def test_context_manager_finishes_and_marks_exceptions_crashed(server, make_run):
    with make_run() as ok_run:
        ok_run.log({"x": 1})
    assert server.runs[ok_run.id]["status"] == "finished"
    with pytest.raises(ZeroDivisionError):
        with make_run() as bad_run:
            bad_run.log({"x": 1})
            1 / 0
    assert server.runs[bad_run.id]["status"] == "crashed"
    assert server.series(bad_run.id, "x") == {0: 1}


def _script(body, url):
    return textwrap.dedent(
        """
        import sys
        sys.path.insert(0, %r)
        import babysit
        run = babysit.init(project="sub", name="child", url=%r, flush_interval=0.02)
        print(run.id, flush=True)
        """ % (SDK, url)
    ) + textwrap.dedent(body)


def _run_child(body, url, env_extra=None, **kw):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-c", _script(body, url)], capture_output=True, text=True, env=env, timeout=60, **kw)


def test_uncaught_exception_marks_the_run_crashed_at_exit(server):
    res = _run_child("""
        for i in range(5):
            babysit.log({"x": i})
        raise RuntimeError("training blew up")
    """, server.url)
    run_id = res.stdout.split()[0]
    assert "training blew up" in res.stderr  # the user's traceback is still printed
    assert server.runs[run_id]["status"] == "crashed"
    assert len(server.series(run_id, "x")) == 5


def test_script_that_forgets_finish_is_finished_at_exit(server):
    res = _run_child("""
        for i in range(5):
            babysit.log({"x": i})
    """, server.url)
    run_id = res.stdout.split()[0]
    assert res.returncode == 0
    assert server.runs[run_id]["status"] == "finished"
    assert len(server.series(run_id, "x")) == 5


# ---------------------------------------------------------------------------------------- spool replay


def test_spool_of_an_earlier_process_is_replayed_by_the_next_run(server, make_run, spool_dir):
    server.down()
    res = _run_child("""
        for i in range(40):
            babysit.log({"x": i}, step=i)
        babysit.event("input_stats", {"mean": [0.5], "std": [1.0]}, step=0)
        print(babysit.finish(timeout=2.0).delivered)
    """, server.url)
    child_id, finished = res.stdout.split()
    assert finished == "False" and child_id not in server.runs
    assert len(spool_files(spool_dir)) == 1
    server.up()
    run = make_run()  # a later run in another process replays what the first one left
    wait_for(lambda: server.runs.get(child_id, {}).get("status") == "finished", timeout=15, what="the child's run")
    assert server.runs[child_id]["name"] == "child"
    assert server.series(child_id, "x") == {i: i for i in range(40)}
    assert len(server.events(child_id, "input_stats")) == 1
    wait_for(lambda: spool_files(spool_dir) == [], what="the replayed spool to be deleted")
    run.finish()
    assert_no_duplicates(server, child_id)


def test_spool_of_a_killed_process_is_replayed_by_sync(server, spool_dir):
    server.down()
    child = subprocess.Popen([sys.executable, "-c", _script("""
        for i in range(25):
            babysit.log({"x": i}, step=i)
        import time
        print("logged", flush=True)
        time.sleep(60)
    """, server.url)], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        child_id = child.stdout.readline().split()[0]
        assert child.stdout.readline().strip() == "logged"

        def spooled():
            files = spool_files(spool_dir)
            text = open(os.path.join(spool_dir, files[0])).read() if files else ""
            return text.count('"x":24')
        wait_for(spooled, what="the child's points to be spooled")
        # While the child lives, its spool is locked: nobody else replays it.
        server.up()
        live = babysit.sync(url=server.url, timeout=5)
        assert live["runs"] == 0
        assert [s["reason"] for s in live["skipped"]] == ["in use by a running process (it sends them itself)"]
        server.down()
    finally:
        child.kill()  # SIGKILL: no atexit, no finish
        child.wait()
    server.up()
    res = babysit.sync(url=server.url, timeout=10)
    assert res == {"runs": 1, "batches": res["batches"], "batches_left": 0, "runs_left": 0, "rejected_points": 0,
                   "skipped": [], "refused": None}
    assert res["batches"] >= 1
    assert server.series(child_id, "x") == {i: i for i in range(25)}
    assert server.runs[child_id]["status"] == "running"  # never finished: the server will call it stale
    assert spool_files(spool_dir) == []


def test_a_resumed_run_never_reuses_an_accepted_seq(server, make_run):
    first = make_run(id="resume-me")
    for i in range(10):
        first.log({"x": i})
    first.finish()
    second = make_run(id="resume-me")
    assert second.resumed is True
    for i in range(10, 20):
        second.log({"x": i}, step=i)
    second.finish()
    assert server.series("resume-me", "x") == {i: i for i in range(20)}


# ---------------------------------------------------------------------------------------- alerts


def test_each_alert_is_printed_once_with_the_run_url(server, make_run, capfd):
    server.alerts = [
        {"code": "divergence", "severity": "critical", "title": "Loss is NaN", "message": "train/loss became NaN", "step": 120},
        {"code": "lr_too_low", "severity": "warning", "title": "Learning rate too low", "message": "loss barely moves", "step": 50},
    ]
    run = make_run()
    for i in range(20):
        run.log({"x": i})
        time.sleep(0.005)
    run.finish()
    assert len([s for r, s in server.log_requests if r == run.id]) > 1
    err = capfd.readouterr().err
    line = "babysit [critical] divergence at step 120: Loss is NaN: train/loss became NaN -> %s" % run.url
    assert err.count(line) == 1
    assert err.count("babysit [warning] lr_too_low at step 50") == 1


@pytest.mark.parametrize("alerts, lines", [
    (  # a critical symptom after the warning that caused it: indented under it, naming it
        [{"code": "lr_too_high", "severity": "warning", "title": "LR too high", "message": "", "step": 35,
          "symptoms": ["dead_relu"]},
         {"code": "dead_relu", "severity": "critical", "title": "Dead ReLUs", "message": "", "step": 40,
          "causedBy": "lr_too_high"}],
        ["babysit [warning] lr_too_high at step 35: LR too high -> {url}",
         "babysit [critical]   \\_ dead_relu at step 40 (caused by lr_too_high): Dead ReLUs -> {url}"],
    ),
    (  # two symptoms, one cause
        [{"code": "unshuffled_data", "severity": "info", "title": "Unshuffled", "message": "", "step": 1,
          "symptoms": ["noisy_loss", "loss_plateau"]},
         {"code": "noisy_loss", "severity": "warning", "title": "Noisy", "message": "", "step": 2, "causedBy": "unshuffled_data"},
         {"code": "loss_plateau", "severity": "info", "title": "Plateau", "message": "", "step": 3, "causedBy": "unshuffled_data"}],
        ["babysit [info] unshuffled_data at step 1: Unshuffled -> {url}",
         "babysit [warning]   \\_ noisy_loss at step 2 (caused by unshuffled_data): Noisy -> {url}",
         "babysit [info]   \\_ loss_plateau at step 3 (caused by unshuffled_data): Plateau -> {url}"],
    ),
    (  # an alert without a cause prints as before
        [{"code": "overfitting", "severity": "warning", "title": "Overfitting", "message": "", "step": 9}],
        ["babysit [warning] overfitting at step 9: Overfitting -> {url}"],
    ),
])
def test_a_symptom_is_printed_indented_under_its_root_cause(server, make_run, capfd, alerts, lines):
    server.finish_alerts = alerts
    run = make_run()
    run.log({"x": 1})
    run.finish()
    err = capfd.readouterr().err
    printed = [line for line in err.splitlines() if line.startswith("babysit [")]
    assert printed == [x.format(url=run.url) for x in lines]


# ---------------------------------------------------------------------------------------- histograms, events


def test_histograms_and_events_arrive_in_the_contract_shape(server, make_run):
    np = pytest.importorskip("numpy")
    run = make_run()
    run.log({"x": 1}, step=4)
    run.log_histogram("ready", ([0.0, 0.5, 1.0], [3, 4]), step=2)
    run.log_histogram("values", np.array([0.0, 1.0, 1.0, 2.0, np.nan]), bins=2)
    run.log_histogram("constant", [5.0, 5.0])
    run.event("lr_drop", {"from": 0.1, "to": np.float64(0.01), "vec": np.arange(3)}, step=3)
    run.finish()
    h = {x["key"]: x for x in server.histograms(run.id)}
    assert h["ready"] == {"step": 2, "key": "ready", "edges": [0.0, 0.5, 1.0], "counts": [3.0, 4.0]}
    assert h["values"]["step"] == 4 and h["values"]["edges"] == [0.0, 1.0, 2.0] and h["values"]["counts"] == [1.0, 3.0]
    assert sum(h["constant"]["counts"]) == 2 and h["constant"]["edges"][0] < 5.0 < h["constant"]["edges"][-1]
    assert server.events(run.id, "lr_drop") == [{"type": "lr_drop", "step": 3, "data": {"from": 0.1, "to": 0.01, "vec": [0, 1, 2]}}]


def test_spooled_batches_are_not_kept_in_memory(server, make_run, spool_dir):
    run = make_run()
    server.down()
    for i in range(200):
        run.log({"x": i})
        if i % 50 == 0:
            time.sleep(0.03)
    transport = run._transport
    wait_for(lambda: transport.queue == deque() and len(transport._spooled) >= 2, what="batches in the spool")
    with transport._lock:
        assert all(b.body is None and b.ref is not None for b in transport._spooled)
    server.up()
    assert run.finish().delivered is True
    assert server.series(run.id, "x") == {i: i for i in range(200)}


def test_alerts_of_the_final_diagnosis_are_printed_at_finish(server, make_run, capfd):
    server.finish_alerts = [{"code": "overfitting", "severity": "warning", "title": "Overfitting",
                             "message": "val/loss rises while train/loss falls", "step": 300}]
    run = make_run()
    run.log({"x": 1})
    run.finish()
    err = capfd.readouterr().err
    assert err.count("babysit [warning] overfitting at step 300: Overfitting: val/loss rises while train/loss falls -> %s" % run.url) == 1


@pytest.mark.parametrize("alert_step, logged, expected", [
    (0, 141, "lr_too_low at step 140 (evidence from step 0):"),  # a whole-run pattern: raised at the end, not "at step 0"
    (None, 141, "lr_too_low at step 140:"),  # no evidence step: where it was raised
    (37, 141, "lr_too_low at step 140 (evidence from step 37):"),
    (140, 141, "lr_too_low at step 140:"),  # borderline: the evidence is the latest step
    (0, 1, "lr_too_low at step 0:"),  # borderline: raised at step 0 indeed
])
def test_the_terminal_names_the_step_an_alert_was_raised_at(server, make_run, capfd, alert_step, logged, expected):
    alert = {"code": "lr_too_low", "severity": "warning", "title": "LR too low", "message": ""}
    if alert_step is not None:
        alert["step"] = alert_step
    server.finish_alerts = [alert]
    run = make_run()
    for i in range(logged):
        run.log({"x": i})
    run.finish()
    printed = [line for line in capfd.readouterr().err.splitlines() if line.startswith("babysit [")]
    assert printed == ["babysit [warning] %s LR too low -> %s" % (expected, run.url)]


def test_a_non_finite_epoch_is_dropped_and_the_row_kept(server, make_run):
    run = make_run()
    with pytest.warns(BabysitWarning, match="epoch must be finite"):
        run.log({"x": 1.0}, step=0, epoch=float("nan"))
    run.finish()
    assert server.rows(run.id) == [{"step": 0, "time": server.rows(run.id)[0]["time"], "metrics": {"x": 1.0}}]


def test_many_histograms_and_events_are_split_into_batches_the_server_takes(server, make_run):
    run = make_run(flush_interval=30.0)
    for i in range(1500):
        run.log_histogram("h", ([0.0, 1.0], [i]), step=i)
        run.event("tick", {"i": i}, step=i)
    assert run.finish().delivered is True
    assert len(server.histograms(run.id)) == 1500 and len(server.events(run.id, "tick")) == 1500


def test_a_second_finish_while_the_first_is_still_sending_gets_the_first_ones_result(server, make_run):
    # atexit or another thread calling finish() while the first call waits for a server that does
    # not answer must not report everything delivered
    import threading

    run = make_run()
    run.log({"loss": 1.0}, step=0)
    server.mode = "hang"
    first = {}
    t = threading.Thread(target=lambda: first.setdefault("r", run.finish(timeout=1.5)))
    t.start()
    wait_for(lambda: run.finished, what="the first finish() under way")
    second = run.finish(timeout=5)
    t.join()
    server.mode = "up"
    assert second is first["r"]
    assert second.delivered is False


# ---------------------------------------------------------------------------------------- a spool that cannot be written


def _spool_disk_full(monkeypatch):
    from babysit._spool import Spool

    def write(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Spool, "_write", write)


def test_a_spool_that_cannot_be_written_keeps_the_data_in_memory_until_the_server_is_back(
        server, make_run, spool_dir, monkeypatch, capfd):
    _spool_disk_full(monkeypatch)
    run = make_run()
    run.log({"x": -1}, step=0)
    wait_for(lambda: server.series(run.id, "x"), what="first point")
    server.down()
    for i in range(1, 51):
        run.log({"x": i}, step=i)
    wait_for(lambda: run._transport.stats["spooled"] > 0, what="batches kept while the server is away")
    server.up()
    result = run.finish(timeout=20)
    assert result.delivered is True and result.rejected_points == 0
    assert server.series(run.id, "x") == {0: -1, **{i: i for i in range(1, 51)}}
    err = capfd.readouterr().err
    assert err.count("could not write to the spool file") == 1


def test_what_a_spool_that_cannot_be_written_still_holds_at_the_end_is_counted_as_lost(
        server, make_run, spool_dir, monkeypatch):
    _spool_disk_full(monkeypatch)
    run = make_run()
    run.log({"x": -1}, step=0)
    wait_for(lambda: server.series(run.id, "x"), what="first point")
    server.down()
    for i in range(1, 11):
        run.log({"x": i, "y": i}, step=i)
    result = run.finish(timeout=0.5)
    assert result.delivered is False and result.pending_batches == 0 and result.spool_path is None
    assert result.rejected_points == 20
    assert result.rejections == [("lost: the spool file could not be written", 20)]
    assert spool_files(spool_dir) == []


def test_memory_kept_for_a_spool_that_cannot_be_written_is_bounded_and_what_is_dropped_counted(
        server, make_run, spool_dir, monkeypatch):
    _spool_disk_full(monkeypatch)
    monkeypatch.setattr(T, "MEMORY_POINTS_MAX", 10)
    run = make_run(flush_interval=30.0)
    run.log({"x": -1}, step=0)
    run._transport.wake.set()
    wait_for(lambda: server.series(run.id, "x"), what="first point")
    server.down()
    for i in range(1, 5):  # four batches of 5 points: two fit in memory
        for k in range(5):
            run.log({"k%d" % k: float(i)}, step=i * 10 + k)
        run._transport.wake.set()
        wait_for(lambda: run._transport.queue == deque(), what="the batch formed")
    wait_for(lambda: run._transport.rejections.total == 10, what="two batches dropped")
    server.up()
    result = run.finish(timeout=20)
    assert result.rejections == [("lost: the spool file could not be written and memory was full", 10)]
    assert len(server.points(run.id)) == 1 + 10
