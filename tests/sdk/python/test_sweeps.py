"""Sweeps in the Python SDK: the sampler (the cross-language vectors, statistics, reproducibility),
argument errors, the fallback to local sampling when the server is away, and, against a REAL server,
two worker processes sharing one sweep, refine() and should_stop().

Needs the production build (`NEXT_TELEMETRY_DISABLED=1 npx next build`) for the real-server tests:
    PYTHONPATH=sdk/python /usr/bin/python3 -m pytest tests/sdk/python/test_sweeps.py -q
"""

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

import babysit
from babysit import sweeps as S
from conftest import HERE, SDK, wait_for
from real_server import ROOT, RealServer

VECTORS = json.load(open(os.path.join(ROOT, "tests", "fixtures", "sweeps", "sampler-vectors.json")))["cases"]
CONTRACT = json.load(open(os.path.join(ROOT, "docs", "contract.json")))


# ------------------------------------------------------------------------------ the sampler


def _same(want, got):
    """Numbers compared as float64 (the vector file's rule), everything else exactly."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return type(got) is type(want) and got == want
    return not isinstance(got, bool) and isinstance(got, (int, float)) and float(got) == float(want)


@pytest.mark.parametrize("case", VECTORS, ids=lambda c: "seed%d-i%d-%s" % (c["seed"], c["index"], "+".join(sorted(c["space"]))[:40]))
def test_the_sampler_reproduces_the_cross_language_vectors(case):
    got = babysit.sample(case["space"], case["seed"], case["index"])
    assert list(got) == list(case["config"])
    bad = {k: (v, got[k]) for k, v in case["config"].items() if not _same(v, got[k])}
    assert not bad
    for name, u in case["units"].items():
        assert S._unit(case["seed"], case["index"], name) == u


def test_int_uniform_draws_are_ints_and_fixed_values_stay_as_given():
    space = {"n": babysit.int_uniform(1, 4), "act": "relu", "flag": True, "none": None, "x": 2.5}
    for i in range(50):
        t = babysit.sample(space, 3, i)
        assert type(t["n"]) is int and 1 <= t["n"] <= 4
        assert (t["act"], t["flag"], t["none"], t["x"]) == ("relu", True, None, 2.5)


def test_the_same_seed_and_index_give_the_same_trial_and_other_seeds_other_trials():
    space = {"lr": babysit.log_uniform(1e-5, 1), "wd": babysit.uniform(0, 1)}
    a = [babysit.sample(space, 42, i) for i in range(20)]
    assert a == [babysit.sample(space, 42, i) for i in range(20)]
    b = [babysit.sample(space, 43, i) for i in range(20)]
    assert all(x != y for x, y in zip(a, b))
    assert len({t["lr"] for t in a}) == 20  # indexes draw independently: no repeats


N = 4000


def test_log_uniform_is_uniform_in_log_space():
    # each decade of 1e-4..1 gets a quarter of the trials (a plain uniform would put 90% in the last)
    draws = [babysit.sample({"lr": babysit.log_uniform(1e-4, 1.0)}, 11, i)["lr"] for i in range(N)]
    assert all(1e-4 <= v <= 1.0 for v in draws)
    per_decade = [sum(1 for v in draws if 10 ** (d - 4) <= v < 10 ** (d - 3)) / N for d in range(4)]
    assert all(abs(p - 0.25) < 0.03 for p in per_decade), per_decade
    logs = sorted(math.log10(v) for v in draws)
    # Kolmogorov-Smirnov distance to the uniform on [-4, 0]: 1.36 / sqrt(N) is the 5% critical value
    ks = max(max(abs((i + 1) / N - (x + 4) / 4), abs(i / N - (x + 4) / 4)) for i, x in enumerate(logs))
    assert ks < 1.36 / math.sqrt(N), ks


def test_uniform_int_uniform_and_choice_spread_evenly():
    space = {"p": babysit.uniform(-1, 3), "n": babysit.int_uniform(2, 5), "c": babysit.choice(["a", "b", "c"])}
    draws = [babysit.sample(space, 5, i) for i in range(N)]
    ps = [d["p"] for d in draws]
    assert all(-1 <= p < 3 for p in ps)
    assert abs(sum(ps) / N - 1.0) < 0.06
    for value in (2, 3, 4, 5):
        assert abs(sum(1 for d in draws if d["n"] == value) / N - 0.25) < 0.03
    for value in "abc":
        assert abs(sum(1 for d in draws if d["c"] == value) / N - 1 / 3) < 0.03


# ------------------------------------------------------------------------------ argument errors


@pytest.mark.parametrize("make, message", [
    (lambda: babysit.log_uniform(0, 1), "low must be > 0"),
    (lambda: babysit.log_uniform(-1e-3, 1), "low must be > 0"),
    (lambda: babysit.log_uniform(1e-2, 1e-3), "high must be > low"),
    (lambda: babysit.log_uniform(1e-3, 1e-3), "high must be > low"),
    (lambda: babysit.log_uniform(1e-320, 1), r"within \[1e-300, 1e\+300\]"),
    (lambda: babysit.log_uniform(1e-3, float("inf")), "must be finite"),
    (lambda: babysit.log_uniform("1e-3", 1), "must be a number"),
    (lambda: babysit.uniform(1, 0), "high must be > low"),
    (lambda: babysit.uniform(float("nan"), 1), "must be finite"),
    (lambda: babysit.uniform(True, 2), "must be a number"),
    (lambda: babysit.uniform(-1e308, 1e308), "too wide"),
    (lambda: babysit.int_uniform(1, 1), "high must be > low"),
    (lambda: babysit.int_uniform(1.5, 3), "must be an integer"),
    (lambda: babysit.int_uniform(3, 1), "high must be > low"),
    (lambda: babysit.choice([]), "at least one value"),
    (lambda: babysit.choice("relu"), "takes a list"),
    (lambda: babysit.choice([[1, 2]]), r"values\[0\] must be a number, string, bool or None"),
    (lambda: babysit.choice([1, float("nan")]), r"values\[1\] must be finite"),
    (lambda: babysit.choice(list(range(1001))), "at most 1000 values"),
    (lambda: babysit.validate_space([]), "space must be a dict"),
    (lambda: babysit.validate_space({}), "at least one parameter"),
    (lambda: babysit.validate_space({"sweep": 1}), "'sweep' is reserved"),
    (lambda: babysit.validate_space({"babysit": 1}), "'babysit' is reserved"),
    (lambda: babysit.validate_space({"": 1}), "must not be empty"),
    (lambda: babysit.validate_space({"a\nb": 1}), "control characters"),
    (lambda: babysit.validate_space({"x" * 201: 1}), "at most 200 code points"),
    (lambda: babysit.validate_space({"p%d" % i: 1 for i in range(101)}), "at most 100 parameters"),
    (lambda: babysit.validate_space({"lr": [1e-3, 1e-2]}), r"use babysit.choice\(\[0.001, 0.01\]\)"),
    (lambda: babysit.validate_space({"lr": {"distribution": "loguniform", "low": 1, "high": 2}}), "distribution must be one of"),
    (lambda: babysit.validate_space({"lr": {"distribution": "uniform", "low": 1}}), "takes high and low"),
    (lambda: babysit.validate_space({"lr": {"distribution": "uniform", "low": 0, "high": 1, "step": 2}}), "takes high and low"),
    (lambda: babysit.validate_space({"lr": {"distribution": "log_uniform", "low": 0, "high": 1}}), r"space\['lr'\]: log_uniform low"),
    (lambda: babysit.validate_space({"opt": object()}), "a fixed value, or a distribution"),
    (lambda: babysit.sample({"a": 1}, -1, 0), "seed must be an integer"),
    (lambda: babysit.sample({"a": 1}, 2**32, 0), "seed must be an integer"),
    (lambda: babysit.sample({"a": 1}, 0, -1), "index must be an integer"),
], ids=lambda x: x if isinstance(x, str) else "")
def test_space_errors_say_what_is_wrong(make, message):
    with pytest.raises(ValueError, match=message):
        make()


SPACE = {"lr": babysit.log_uniform(1e-4, 1e-1)}


@pytest.mark.parametrize("kwargs, message", [
    (dict(project="", name="s", space=SPACE), "project names must not be empty"),
    (dict(project="p", name="  ", space=SPACE), "sweep names must not be empty"),
    (dict(project="p", name="x" * 201, space=SPACE), "at most 200 code points"),
    (dict(project="p", name="s", space={}), "at least one parameter"),
    (dict(project="p", name="s", space=SPACE, goal="up", objective="val/acc"), "goal must be 'max' or 'min'"),
    (dict(project="p", name="s", space=SPACE, goal="max"), "needs the objective metric"),
    (dict(project="p", name="s", space=SPACE, objective=""), "objective metric keys must not be empty"),
    (dict(project="p", name="s", space=SPACE, seed=2**32), "seed must be an integer"),
    (dict(project="p", name="s", space=SPACE, seed=1.5), "seed must be an integer"),
    (dict(project="p", name="s", space=SPACE, budget=0), "budget must be an integer >= 1"),
    (dict(project="p", name="s", space=SPACE, early_stop={"rule": "hyperband"}), "rule must be 'median' or 'none'"),
    (dict(project="p", name="s", space=SPACE, early_stop={"min_trials": 0}), "minTrials must be an integer >= 1"),
    (dict(project="p", name="s", space=SPACE, early_stop={"patience": 3}), "takes rule, min_trials and warmup_steps"),
    (dict(project="p", name="s", space=SPACE, url="localhost:3000"), "url must look like"),
    (dict(project="p", name="s", space=SPACE, parent=""), "parent must be a sweep id"),
    (dict(project="p", name="s", space=SPACE, parent="   "), "parent must be a sweep id"),
    (dict(project="p", name="s", space=SPACE, parent=7), "parent must be a sweep id"),
    (dict(project="p", name="s", space=SPACE, parent={"id": "x"}), "parent must be a sweep id"),
])
def test_sweep_argument_errors_raise_before_anything_is_sent(kwargs, message):
    with pytest.raises(ValueError, match=message):
        babysit.sweep(**kwargs)


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % s.getsockname()[1]


def test_trials_needs_a_count_or_a_budget():
    sw = babysit.sweep(project="p", name="s", space=SPACE, url=_closed_port_url(), timeout=0)
    with pytest.raises(ValueError, match=r"give the number of trials, trials\(n\)"):
        sw.trials()
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        sw.trials(-1)


# ------------------------------------------------------------------------------ server away


def test_with_the_server_away_the_sweep_samples_locally_and_its_runs_carry_the_sweep(capsys):
    url = _closed_port_url()
    space = {"lr": babysit.log_uniform(1e-4, 1e-1), "act": babysit.choice(["relu", "tanh"]), "epochs": 2}
    sw = babysit.sweep(project="offline", name="coarse", space=space, budget=3, url=url, timeout=0.3)
    assert sw.offline and sw.id is None and sw.url is None
    assert "could not be reached" in capsys.readouterr().err
    seen = []
    for trial in sw.trials():
        assert trial.local
        run = trial.init(config={"batch": 32}, init_timeout=0)
        # the same values a server with this seed hands out, and the link that makes the run join it
        assert trial.config == babysit.sample(space, S.default_seed("offline", "coarse"), trial.index)
        assert run.config == {"batch": 32, **trial.config, "sweep": {"id": "coarse", "trial": trial.index, "space": sw.space}}
        assert run.name == "coarse-%d" % trial.index
        run.log({"val/acc": 0.5})
        result = run.finish(timeout=0.2)
        assert result.pending_batches >= 1 and result.spool_path  # kept for sync, not dropped
        seen.append(trial.index)
    assert seen == [0, 1, 2]  # the budget holds offline too
    assert sw.refine() is None  # needs the server: a warning, no exception
    assert "refine() needs the server" in capsys.readouterr().err


def test_should_stop_is_false_and_fast_when_the_server_is_away(make_run):
    run = babysit.init(project="p", url=_closed_port_url(), init_timeout=0)
    for _ in range(5):
        assert run.should_stop() is False
    assert babysit.should_stop() is False
    run.finish(timeout=0.1)
    assert run.should_stop() is False


def test_should_stop_asks_the_server_at_most_once_a_second(server, make_run):
    run = make_run()
    start = time.monotonic()
    calls = 0
    while time.monotonic() - start < 1.5:
        assert run.should_stop(wait=0) is False  # the fake server has no such route: 404, not stopped
        calls += 1
    elapsed = time.monotonic() - start
    asked = [p for m, p in server.requests if p.endswith("/should-stop")]
    assert calls > 100 and 1 <= len(asked) <= int(elapsed) + 1, (calls, asked)
    assert asked[0] == "/api/v1/runs/%s/should-stop" % run.id


# ------------------------------------------------------------------------------ a real server


@pytest.fixture(scope="module")
def real():
    srv = RealServer().start()
    yield srv
    srv.close()


def _get(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as resp:
        return json.loads(resp.read())


def test_two_worker_processes_share_one_sweep_without_repeating_a_trial(real):
    project, name, budget = "sdk-py-sweep-%s" % uuid.uuid4().hex[:6], "coarse", 8
    env = dict(os.environ, PYTHONPATH=SDK, BABYSIT_SPOOL_DIR=os.environ["BABYSIT_SPOOL_DIR"])
    worker = os.path.join(HERE, "sweep_worker.py")
    procs = [subprocess.Popen([sys.executable, worker, real.url, project, name, str(budget)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    a, b = outs
    assert not a["offline"] and not b["offline"] and a["sweep"] == b["sweep"]
    assert not set(a["indices"]) & set(b["indices"])  # disjoint
    assert sorted(a["indices"] + b["indices"]) == list(range(budget))  # together: the whole budget
    view = _get(real.url, "/api/v1/sweeps/%s" % a["sweep"])["sweep"]
    assert sorted(t["runId"] for t in view["trials"]) == sorted(a["runs"] + b["runs"])
    space = {"lr": babysit.log_uniform(1e-4, 1.0), "hidden": babysit.choice([32, 64]), "epochs": 3}
    for t in view["trials"]:
        assert t["params"] == babysit.sample(space, 1234, t["index"])  # what the SDK's own sampler draws
        assert t["objective"] is not None
    listed = _get(real.url, "/api/v1/sweeps?project=%s" % project)["sweeps"]
    assert [(s["name"], s["trials"]) for s in listed] == [(name, budget)]

    # the next stage: a child sweep, linked to its parent, its lr range narrowed around the best trials
    sw = babysit.sweep(project=project, name=name, space=space, objective="val/acc", goal="max", seed=1234,
                       budget=budget, url=real.url, quiet=True)
    assert sw.id == a["sweep"] and sw.stage == 1
    assert list(sw.trials(3)) == []  # the budget is used up: 409 sweep_complete ends the loop cleanly
    fine = sw.refine(top=3)
    assert fine is not None and fine.id != sw.id
    assert (fine.name, fine.stage, fine.parent_id) == ("coarse-s2", 2, sw.id)
    lr = fine.space["lr"]
    assert lr["distribution"] == "log_uniform"
    assert math.log(lr["high"] / lr["low"]) < math.log(1.0 / 1e-4)
    child = _get(real.url, "/api/v1/sweeps/%s" % fine.id)["sweep"]
    assert child["parentId"] == sw.id and child["stage"] == 2
    t = next(iter(fine.trials(1)))
    assert lr["low"] <= t.config["lr"] <= lr["high"]


@pytest.mark.parametrize("as_object", [False, True], ids=["parent-id", "parent-sweep"])
def test_a_sweep_made_with_parent_is_the_next_stage_linked_to_it(real, as_object):
    # what the sweep page's snippet runs: babysit.sweep(..., parent="<id>") for a next stage written by hand
    project = "sdk-py-parent-%s" % uuid.uuid4().hex[:6]
    coarse = babysit.sweep(project=project, name="coarse", space=SPACE, url=real.url, quiet=True)
    fine = babysit.sweep(project=project, name="fine", space={"lr": babysit.log_uniform(1e-3, 1e-2)}, url=real.url,
                         quiet=True, parent=coarse if as_object else coarse.id)
    assert (fine.stage, fine.parent_id) == (2, coarse.id)
    view = _get(real.url, "/api/v1/sweeps/%s" % fine.id)["sweep"]
    assert (view["parentId"], view["stage"]) == (coarse.id, 2)
    assert _get(real.url, "/api/v1/sweeps/%s" % coarse.id)["sweep"]["children"] == [{"id": fine.id, "name": "fine", "stage": 2}]
    # every worker of the next stage passes the same parent: the same sweep again
    again = babysit.sweep(project=project, name="fine", space={"lr": babysit.log_uniform(1e-3, 1e-2)}, url=real.url,
                          quiet=True, parent=coarse.id)
    assert again.id == fine.id and again.stage == 2


@pytest.mark.parametrize("where", ["unknown", "other-project"])
def test_a_parent_that_is_no_sweep_of_the_project_is_refused(real, where):
    project = "sdk-py-badparent-%s" % uuid.uuid4().hex[:6]
    other = babysit.sweep(project=project + "-other", name="coarse", space=SPACE, url=real.url, quiet=True)
    parent = "no-such-sweep" if where == "unknown" else other.id
    with pytest.raises(babysit.SweepError, match="parent") as info:
        babysit.sweep(project=project, name="fine", space=SPACE, url=real.url, quiet=True, parent=parent)
    assert (info.value.status, info.value.code) == (400, "invalid_body")
    assert _get(real.url, "/api/v1/sweeps?project=%s" % project)["sweeps"] == []


def test_a_second_sweep_of_that_name_with_another_space_is_refused(real):
    project = "sdk-py-conflict-%s" % uuid.uuid4().hex[:6]
    babysit.sweep(project=project, name="s", space=SPACE, url=real.url, quiet=True)
    with pytest.raises(babysit.SweepError, match="sweep_conflict") as info:
        babysit.sweep(project=project, name="s", space={"lr": babysit.log_uniform(1e-3, 1)}, url=real.url, quiet=True)
    assert (info.value.status, info.value.code) == (409, "sweep_conflict")


def test_refine_with_too_few_trials_warns_and_returns_none(real, capsys):
    sw = babysit.sweep(project="sdk-py-few-%s" % uuid.uuid4().hex[:6], name="s", space=SPACE, url=real.url, quiet=True)
    assert sw.refine(top=2) is None
    assert "too_few_trials" in capsys.readouterr().err


def test_should_stop_answers_true_for_a_diverging_trial_and_false_for_a_run_in_no_sweep(real):
    sw = babysit.sweep(project="sdk-py-stop-%s" % uuid.uuid4().hex[:6], name="s", space=SPACE, objective="val/loss",
                       url=real.url, quiet=True)
    plain = babysit.init(project="sdk-py-plain", url=real.url, flush_interval=0.02, quiet=True)
    runs = []
    for trial in sw.trials(1):
        run = trial.init(flush_interval=0.02, quiet=True)
        for step, loss in enumerate([2.3, 5.0, 40.0, float("inf"), float("nan")]):
            run.log({"train/loss": loss, "val/loss": loss}, step=step)
            plain.log({"train/loss": loss}, step=step)
        assert wait_for(lambda: run.should_stop(), timeout=30, interval=0.2, what="should_stop() to say the trial diverged")
        assert run.stop_reason.startswith("diverged")
        runs.append(run)
    # leaving the loop body finished the trial's run
    assert len(runs) == 1 and runs[0].finished
    assert _get(real.url, "/api/v1/runs/%s" % runs[0].id)["run"]["status"] == "finished"
    assert plain.should_stop(wait=5) is False
    plain.finish(timeout=10)


def test_the_digits_example_runs_a_coarse_stage_and_refines_it(real):
    project = "sdk-py-example-%s" % uuid.uuid4().hex[:6]
    res = subprocess.run([sys.executable, os.path.join(SDK, "examples", "sweep_digits.py"), "--url", real.url,
                          "--project", project, "--coarse", "4", "--fine", "2",
                          # seed 0 draws lr 4.7, 0.011, 0.0091, 0.00033: one diverges, three score (with the
                          # server's random seed, 3 of 4 trials diverged now and then: nothing to refine)
                          "--seed", "0"],
                         capture_output=True, text=True, timeout=300, env=dict(os.environ, PYTHONPATH=SDK))
    assert res.returncode == 0, res.stderr
    sweeps = {s["stage"]: s for s in _get(real.url, "/api/v1/sweeps?project=%s" % project)["sweeps"]}
    assert sorted(sweeps) == [1, 2], "no stage 2 (once in a fresh-clone CI run; why, the example says):\n%s\n%s" % (
        res.stdout[-2000:], res.stderr[-2000:])
    assert (sweeps[1]["trials"], sweeps[2]["trials"]) == (4, 2)
    assert sweeps[2]["parentId"] == sweeps[1]["id"]
    assert "best of stage 2: val/acc" in res.stdout


def test_trials_run_while_the_server_was_away_join_the_sweep_when_they_sync(spool_dir):
    srv = RealServer().start()
    try:
        srv.stop()  # the port is known, nothing listens
        project = "sdk-py-later-%s" % uuid.uuid4().hex[:6]
        space = {"lr": babysit.log_uniform(1e-4, 1e-1), "layers": babysit.int_uniform(1, 3)}
        sw = babysit.sweep(project=project, name="s", space=space, url=srv.url, timeout=0.2, quiet=True)
        assert sw.offline
        ids = []
        for trial in sw.trials(2):
            run = trial.init(init_timeout=0, quiet=True)
            run.log({"val/acc": 0.5 + trial.index / 10}, step=0)
            assert run.finish(timeout=0.2).pending_batches >= 1
            ids.append(run.id)
        srv.start()
        result = babysit.sync(url=srv.url, spool_dir=str(spool_dir), timeout=60)
        assert (result["runs"], result["runs_left"], result["rejected_points"]) == (2, 0, 0)
        listed = _get(srv.url, "/api/v1/sweeps?project=%s" % project)["sweeps"]
        assert [(s["name"], s["trials"]) for s in listed] == [("s", 2)]
        view = _get(srv.url, "/api/v1/sweeps/%s" % listed[0]["id"])["sweep"]
        assert view["space"] == space  # brought by the runs' config.sweep
        assert sorted((t["runId"], t["index"]) for t in view["trials"]) == sorted(zip(ids, [0, 1]))
        for t in view["trials"]:
            assert t["params"] == babysit.sample(space, S.default_seed(project, "s"), t["index"])
        # a worker started now joins that sweep
        again = babysit.sweep(project=project, name="s", space=space, url=srv.url, quiet=True)
        assert not again.offline and again.id == listed[0]["id"]
    finally:
        srv.close()
