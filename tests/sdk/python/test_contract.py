"""The Python SDK follows the one wire contract (docs/contract.json, generated from lib/contract/limits.ts).

The SDK carries its own copy of the limits (it is installed without the repository); these tests tie
every one of them, and the checks built on them, to the contract, so the two cannot drift again. The
server rejects a bad batch whole, so the SDK drops only the offending key or item, warns once per
kind of problem, and counts what it dropped (and what the server refused) in finish()'s result.
"""

import json
import os
import re
import shutil
import subprocess
import time
import warnings

import pytest

import babysit
from babysit import BabysitWarning, DeliveryResult
from babysit import _contract as C
from babysit import _values as V
from babysit import images
from conftest import HERE, wait_for

with open(os.path.join(HERE, "..", "..", "..", "docs", "contract.json")) as f:
    CONTRACT = json.load(f)
LIMIT = {k: v["value"] for k, v in CONTRACT["limits"].items()}
# limits of what only the server and the pages do (reading series, config.babysit.keys patterns)
NOT_FOR_SDKS = {"seriesKeysPerRequest", "keyPatternMaxLength", "keyPatternsMax",
                # sweeps: names, budgets and trial reads the server checks (the SDKs send what the user gave)
                "sweepBudgetMax", "sweepTrialsMax", "sweepListMax",
                # run management (dashboard and API), nothing the SDKs send (tags and notes they do: babysit.wandb)
                "bulkRunsMax", "runFilterMaxLength", "runConfigFiltersMax", "runListColumnsMax",
                "runListConfigKeys", "runListKeysRuns", "runListKeysMax", "shareListMax",
                # body limits of routes other than the log route: what the SDKs send there is far within them
                "runCreateBodyBytes", "editBodyBytes", "smallBodyBytes",
                # log import and console lines: the server checks these (importFileBytes and
                # importHparamsPeekBytes are the SDK's: `python -m babysit import` plans with them)
                "importPointsMax", "importRecordFieldsMax", "importPatternMaxLength", "importPatternsMax", "importSourceMaxLength",
                "runLogBodyBytes", "runLogLineMaxLength", "runLogLinesPerBatch", "runLogLinesPerRun", "runLogPageMax",
                # the server judges a run's startedAt / finishedAt against its own clock; SDKs send theirs as is
                "runTimeFutureSkew", "runTimeMaxAge", "runMetricFiltersMax"}


# ------------------------------------------------------------------------------ the numbers


def test_every_limit_of_the_contract_is_the_sdks():
    assert C.LIMITS == {k: v for k, v in LIMIT.items() if k not in NOT_FOR_SDKS}
    assert C.RUN_ID_PATTERN == CONTRACT["runIdPattern"]
    assert list(C.NON_FINITE_STRINGS) == CONTRACT["nonFiniteStrings"]
    assert CONTRACT["stringUnit"] == "code points"  # what len() counts, which the checks below use


# Each limit through a run: the value at the limit is stored, one past it is dropped by the SDK (and
# counted) or, for the per-batch counts, split so that every batch the server gets is within it.


def _quiet_run(make_run, **kw):
    kw.setdefault("flush_interval", 30.0)  # one flush at finish(): everything logged goes out at once
    kw.setdefault("batch_points", 10**9)
    return make_run(**kw)


def _finish(run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BabysitWarning)
        return run.finish(timeout=30)


@pytest.mark.parametrize("limit", ["rowsPerBatch", "histogramsPerBatch", "eventsPerBatch"])
def test_one_flush_over_a_per_batch_count_is_sent_in_batches_within_it(server, make_run, limit):
    n = LIMIT[limit] + 1
    run = _quiet_run(make_run)
    for i in range(n):
        if limit == "rowsPerBatch":
            run.log({"x": float(i)}, step=i)
        elif limit == "histogramsPerBatch":
            run.log_histogram("h", ([0.0, 1.0], [float(i)]), step=i)
        else:
            run.event("e", {"i": i}, step=i)
    result = _finish(run)
    assert result.delivered is True  # the server refuses a batch over the limit whole
    field = {"rowsPerBatch": "rows", "histogramsPerBatch": "histograms", "eventsPerBatch": "events"}[limit]
    sizes = [len(b.get(field, [])) for b in server.batches[run.id]]
    assert sum(sizes) == n and max(sizes) <= LIMIT[limit]


def _body_with_event_of(n_bytes):
    """Event data whose batch body, as the SDK sends it, is about `n_bytes` long."""
    seq = time.time_ns() // 1000  # as long as the SDK's seqs (microseconds since 1970)
    overhead = len(json.dumps({"rows": [], "events": [{"type": "blob", "data": {"s": "", "n": 1}, "step": 0}],
                               "seq": seq}, separators=(",", ":")))
    return {"s": "x" * (n_bytes - overhead), "n": 1}


@pytest.mark.parametrize("n_bytes, whole", [(LIMIT["bodyBytes"] - 1024, True), (LIMIT["bodyBytes"] + 1, False)])
def test_event_data_within_the_body_limit_is_sent_whole_larger_is_cut_with_a_marker(server, make_run, n_bytes, whole):
    run = _quiet_run(make_run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.event("blob", _body_with_event_of(n_bytes), step=0)
    run.log({"x": 1.0}, step=0)
    result = _finish(run)
    (event,) = server.events(run.id, "blob")
    assert event["data"]["n"] == 1  # the event is kept, only what does not fit is marked
    if whole:
        assert event["data"]["s"] == _body_with_event_of(n_bytes)["s"]
    else:
        assert re.fullmatch(r"\[babysit: truncated, [0-9]+ bytes\]", event["data"]["s"])
    assert bool(_warnings_about(caught, "[babysit: ")) is not whole
    assert server.series(run.id, "x") == {0: 1.0} and result.delivered is True


def _nested(levels):
    d = leaf = {}
    for _ in range(levels - 1):
        leaf["in"] = {}
        leaf = leaf["in"]
    return d


def _innermost(d):
    while isinstance(d, dict) and "in" in d:
        d = d["in"]
    return d


@pytest.mark.parametrize("levels", [LIMIT["jsonDepth"] - 3, LIMIT["jsonDepth"] - 2])
def test_event_data_within_the_json_depth_is_stored_deeper_levels_marked(server, make_run, levels):
    # the body's levels above the data: the body, its events list, the event
    allowed = LIMIT["jsonDepth"] - 3
    run = _quiet_run(make_run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BabysitWarning)
        run.event("deep", _nested(levels), step=0)
    result = _finish(run)
    (event,) = server.events(run.id, "deep")
    if levels <= allowed:
        assert event["data"] == _nested(levels)
    else:  # as the TypeScript SDK marks it
        assert _innermost(event["data"]) == "[babysit: truncated, deeper than %d levels]" % allowed
    assert result.delivered is True


def test_event_data_is_converted_as_config_is_and_the_event_kept(server, make_run):
    import dataclasses

    @dataclasses.dataclass
    class Ckpt:
        path: str = "c.pt"
        epoch: int = 3

    cyclic = {"a": 1}
    cyclic["self"] = cyclic
    run = _quiet_run(make_run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.event("checkpoint", {"ckpt": Ckpt(), "loss": float("nan"), "cyclic": cyclic}, step=0)
    result = _finish(run)
    (event,) = server.events(run.id, "checkpoint")
    assert event["data"] == {"ckpt": {"path": "c.pt", "epoch": 3}, "loss": "NaN",
                             "cyclic": {"a": 1, "self": "[babysit: circular reference]"}}
    assert len(_warnings_about(caught, "[babysit: ")) == 1 and result.delivered is True


@pytest.mark.parametrize("step, stored_at", [(LIMIT["stepMax"], LIMIT["stepMax"]), (LIMIT["stepMax"] + 1, 0)])
def test_a_step_at_the_limit_is_stored_one_past_it_replaced(server, make_run, step, stored_at):
    run = _quiet_run(make_run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log({"x": 1.0}, step=step)
    assert bool([w for w in caught if "step must be in" in str(w.message)]) is (step != stored_at)
    assert _finish(run).delivered is True
    assert server.series(run.id, "x") == {stored_at: 1.0}


@pytest.mark.parametrize("bins, stored", [(LIMIT["histogramBins"], True), (LIMIT["histogramBins"] + 1, False)])
def test_a_histogram_at_the_bin_limit_is_stored_one_over_dropped(server, make_run, bins, stored):
    run = _quiet_run(make_run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BabysitWarning)
        run.log_histogram("h", (list(range(bins + 1)), [1.0] * bins), step=0)
    result = _finish(run)
    assert len(server.histograms(run.id)) == (1 if stored else 0)
    assert result.rejected_points == (0 if stored else 1)


# ------------------------------------------------------------------------------ keys per run


def _warnings_about(caught, text):
    return [w for w in caught if issubclass(w.category, BabysitWarning) and text in str(w.message)]


def test_a_run_has_at_most_keys_per_run_metric_keys_new_ones_dropped_once_and_counted(server, make_run):
    n = LIMIT["keysPerRun"]
    run = _quiet_run(make_run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.log({"k%05d" % i: float(i) for i in range(n)}, step=0)  # at the limit: all stored
        run.log({"k00000": 1.0, "new": 1.0}, step=1)  # one past it: only the new key goes
        run.log({"new": 2.0, "other": 2.0}, step=2, epoch=1.0)  # the epoch is a key too
    result = _finish(run)
    assert len(server.keys(run.id)) == n and "new" not in server.keys(run.id)
    assert server.series(run.id, "k00000") == {0: 0.0, 1: 1.0}
    assert len(_warnings_about(caught, "(keysPerRun)")) == 1
    assert result.rejections == [("dropped by the SDK: runs may have at most %d distinct metric keys (keysPerRun)" % n, 4)]


@pytest.mark.parametrize("limit", ["histogramKeysPerRun", "imageKeysPerRun"])
def test_a_run_has_at_most_so_many_histogram_and_image_keys(server, make_run, limit):
    n = LIMIT[limit]
    run = _quiet_run(make_run)
    log = (lambda key: run.log_histogram(key, ([0.0, 1.0], [1.0]), step=0)) if limit == "histogramKeysPerRun" \
        else (lambda key: run.log_image(key, [[0, 255]], step=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(n + 2):
            log("k%05d" % i)
        log("k00000")  # a key the run has is still logged
    result = _finish(run)
    if limit == "histogramKeysPerRun":
        stored = [h["key"] for h in server.histograms(run.id)]
    else:
        stored = [e["data"]["key"] for e in server.events(run.id, "image")]
    assert len(stored) == n + 1 and len(set(stored)) == n
    assert len(_warnings_about(caught, "(%s)" % limit)) == 1
    what = "histogram" if limit == "histogramKeysPerRun" else "image"
    assert result.rejections == [("dropped by the SDK: runs may have at most %d distinct %s keys (%s)" % (n, what, limit), 2)]


def test_keys_the_server_refuses_for_the_runs_limit_are_counted_not_retried(server, make_run):
    # An earlier process gave the run all its keys; this one cannot know: the server refuses the new
    # key's points, stores the rest of the batch and says so in its answer.
    n = LIMIT["keysPerRun"]
    first = _quiet_run(make_run, id="full")
    first.log({"k%05d" % i: float(i) for i in range(n)}, step=0)
    assert _finish(first).delivered is True
    second = _quiet_run(make_run, id="full")
    second.log({"k00001": 5.0, "fresh": 1.0}, step=1)
    second.log({"fresh": 2.0}, step=2)
    result = _finish(second)
    assert server.series("full", "k00001") == {0: 1.0, 1: 5.0} and "fresh" not in server.keys("full")
    assert result.delivered is False and result.rejected_points == 2
    (reason, points), = result.rejections
    assert points == 2 and reason.startswith("rejected by the server: too_many_keys: run full: 1 new key(s)")
    assert len([r for r in server.log_requests if r[0] == "full"]) == 2  # each batch sent once


# ------------------------------------------------------------------------------ the checks


def _at(n, ch):
    return ch * n


KEY = LIMIT["keyMaxLength"]
ETYPE = LIMIT["eventTypeMaxLength"]

# (label, character): each counts as ONE code point, whatever its UTF-16 or UTF-8 length.
CHARACTERS = [("ascii", "k"), ("cjk", "损"), ("rocket", "🚀"), ("math-bold", "𝐱"), ("c1-control", "\u0085")]


@pytest.mark.parametrize("label, ch", CHARACTERS)
def test_keys_are_measured_in_code_points(label, ch):
    assert V.key_problem(_at(KEY, ch)) is None
    assert V.key_problem(_at(KEY + 1, ch)) == "keys must be at most %d code points" % KEY
    assert V.event_type_problem(_at(ETYPE, ch)) is None
    assert V.event_type_problem(_at(ETYPE + 1, ch)) == "event types must be at most %d code points" % ETYPE


BAD_NAMES = [
    ("lone-high-surrogate", "loss\ud800", "must be well-formed Unicode (no lone surrogates)"),
    ("lone-low-surrogate", "\udc00", "must be well-formed Unicode (no lone surrogates)"),
    ("surrogate-pair-as-two-code-points", "\ud83d\ude80", "must be well-formed Unicode (no lone surrogates)"),
    ("nul", "a\x00b", "must not contain control characters"),
    ("tab", "a\tb", "must not contain control characters"),
    ("newline", "train\nloss", "must not contain control characters"),
    ("unit-separator", "\x1f", "must not contain control characters"),
    ("del", "loss\x7f", "must not contain control characters"),
    ("empty", "", "must not be empty"),
]


@pytest.mark.parametrize("label, name, why", BAD_NAMES)
def test_malformed_names_are_refused_as_the_server_refuses_them(label, name, why):
    assert V.key_problem(name) == "keys " + why
    assert V.event_type_problem(name) == "event types " + why
    # Inside the name: names are trimmed first (a run name that trims to "" lets the server make one up).
    inner = "p%sq" % name if name else " "
    with pytest.raises(ValueError, match="project names " + why.split(" (")[0]):
        babysit.init(project=inner, url="http://127.0.0.1:9")
    if name:
        with pytest.raises(ValueError, match="run names " + why.split(" (")[0]):
            babysit.init(project="p", name=inner, url="http://127.0.0.1:9")


@pytest.mark.parametrize("label, ch", CHARACTERS[:3])
def test_project_and_run_name_lengths_are_code_points(label, ch, make_run, server):
    run = make_run(project=_at(LIMIT["projectMaxLength"], ch), name=_at(LIMIT["runNameMaxLength"], ch))
    assert run.finish().delivered is True
    assert server.runs[run.id]["project"] == _at(LIMIT["projectMaxLength"], ch)
    for kw in ({"project": _at(LIMIT["projectMaxLength"] + 1, ch)},
               {"project": "p", "name": _at(LIMIT["runNameMaxLength"] + 1, ch)}):
        with pytest.raises(ValueError, match="at most"):
            babysit.init(url=server.url, **kw)


# Where JavaScript's trim() (the server's, on project and run names) and Python's str.strip() differ,
# and two where they agree: (label, character, the project as stored, or None when refused).
TRIM_CASES = [
    ("bom-js-trims-it", "\ufeff", "proj"),
    ("nel-js-keeps-it", "\x85", "\x85proj\x85"),
    ("file-separator-a-control", "\x1c", None),
    ("group-separator-a-control", "\x1d", None),
    ("record-separator-a-control", "\x1e", None),
    ("unit-separator-a-control", "\x1f", None),
    ("ideographic-space", "\u3000", "proj"),
    ("space", " ", "proj"),
]


@pytest.mark.parametrize("label, ch, stored", TRIM_CASES, ids=[c[0] for c in TRIM_CASES])
def test_names_are_trimmed_as_the_server_trims_them(label, ch, stored, make_run, server):
    if stored is None:
        for kw in ({"project": ch + "proj" + ch}, {"project": "p", "name": ch + "n" + ch}):
            with pytest.raises(ValueError, match="must not contain control characters"):
                babysit.init(url=server.url, **kw)
        return
    run = make_run(project=ch + "proj" + ch, name=ch + "n" + ch)
    assert run.finish().delivered is True
    assert server.runs[run.id]["project"] == stored
    assert server.runs[run.id]["name"] == stored.replace("proj", "n")
    # At the length limit once trimmed: accepted, as the server accepts it
    at_limit = ch + "p" * LIMIT["projectMaxLength"] + ch
    if C.trim(at_limit) != at_limit:
        assert make_run(project=at_limit).finish().delivered is True
    else:
        with pytest.raises(ValueError, match="at most"):
            babysit.init(project=at_limit, url=server.url)


def test_the_trimmed_characters_are_javascripts():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("const o=[];for(let c=0;c<0x110000;c++){if(c>=0xd800&&c<0xe000)continue;"
              "if(('a'+String.fromCodePoint(c)).trim()==='a')o.push(c)}console.log(JSON.stringify(o))")
    js = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)
    assert sorted(ord(c) for c in C.JS_TRIM_CHARACTERS) == js


def test_steps_bins_and_epochs_follow_the_contract():
    assert V.coerce_step(LIMIT["stepMax"]) == LIMIT["stepMax"]
    with pytest.raises(ValueError):
        V.coerce_step(LIMIT["stepMax"] + 1)
    n = LIMIT["histogramBins"]
    V.check_histogram(list(range(n + 1)), [1] * n)
    with pytest.raises(ValueError, match="at most %d bins" % n):
        V.check_histogram(list(range(n + 2)), [1] * (n + 1))
    assert len(V.compute_histogram([0.0, 1.0], bins=n + 50)[1]) == n


def test_image_sides_follow_the_contract():
    np = pytest.importorskip("numpy")
    side = LIMIT["imageSideMax"]
    pixels, w, h, _ = images.to_pixels(np.zeros((1, side), dtype=np.uint8))
    assert (w, h) == (side, 1)
    with pytest.raises(ValueError, match="out of range"):
        images.to_pixels(np.zeros((1, side + 1), dtype=np.uint8))


@pytest.mark.parametrize("epoch, kept", [
    (float(LIMIT["epochAbsMax"]), True), (-float(LIMIT["epochAbsMax"]), True),
    (LIMIT["epochAbsMax"] * 1.5, False), (float("inf"), False), (float("nan"), False),
])
def test_epochs_beyond_the_contract_are_dropped_and_the_row_kept(server, make_run, epoch, kept):
    run = make_run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BabysitWarning)
        run.log({"x": 1.0}, step=0, epoch=epoch)
        result = run.finish()
    assert server.series(run.id, "x") == {0: 1.0}
    assert server.series(run.id, "epoch") == ({0: epoch} if kept else {})
    assert result.rejected_points == (0 if kept else 1)


@pytest.mark.parametrize("clock, sent", [(1.7e9, True), (float(LIMIT["timeMax"]), True),
                                         (LIMIT["timeMax"] + 1.0, False), (-1.0, False)])
def test_a_clock_outside_the_contracts_times_lets_the_server_stamp_the_row(server, make_run, monkeypatch, clock, sent):
    from babysit import _run

    run = make_run()
    monkeypatch.setattr(_run.time, "time", lambda: clock)
    run.log({"x": 1.0}, step=0)
    monkeypatch.undo()
    assert run.finish().delivered is True
    (row,) = server.rows(run.id)
    assert ("time" in row) is sent and row["metrics"] == {"x": 1.0}


# ------------------------------------------------------------------------------ through a run


def _log_five(run, extra_key):
    for step in range(5):
        run.log({"train/loss": 1.0 / (step + 1), extra_key: 2.0})


def test_the_rocket_key_within_the_limit_is_stored_with_the_loss(server, make_run):
    """The issue's example: 150 rockets are 150 code points (300 UTF-16 units), within 200."""
    run = make_run()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _log_five(run, "🚀" * 150)
        result = run.finish()
    assert result == DeliveryResult(delivered=True, pending_batches=0, spool_path=None, rejected_points=0, rejections=[])
    assert server.series(run.id, "train/loss") == {s: 1.0 / (s + 1) for s in range(5)}
    assert server.series(run.id, "🚀" * 150) == {s: 2.0 for s in range(5)}
    assert not [w for w in caught if issubclass(w.category, BabysitWarning)]


def test_a_rocket_key_over_the_limit_is_dropped_once_and_the_loss_kept(server, make_run, capfd):
    run = make_run()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _log_five(run, "🚀" * 201)
        result = run.finish()
    mine = [str(w.message) for w in caught if issubclass(w.category, BabysitWarning)]
    assert len(mine) == 1 and "at most 200 code points" in mine[0], mine
    assert server.series(run.id, "train/loss") == {s: 1.0 / (s + 1) for s in range(5)}
    assert server.keys(run.id) == {"train/loss"}
    assert not result and result.delivered is False
    assert result.rejected_points == 5
    assert result.rejections == [("dropped by the SDK: keys must be at most 200 code points", 5)]
    err = capfd.readouterr().err
    assert "5 point(s) of run %s were rejected" % run.id in err


@pytest.mark.parametrize("label, ch", CHARACTERS)
@pytest.mark.parametrize("n, stored", [(KEY, True), (KEY + 1, False)])
def test_keys_at_and_over_the_limit_in_every_kind_of_item(server, make_run, label, ch, n, stored):
    key = _at(n, ch)
    run = make_run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BabysitWarning)
        run.log({"ok": 1.0, key: 2.0}, step=0)
        run.log_histogram(key, ([0.0, 1.0], [3.0]), step=0)
        run.event(_at(ETYPE if stored else ETYPE + 1, ch), {"a": 1}, step=0)
        run.event("ok", {"b": 2}, step=0)
        result = run.finish()
    assert server.series(run.id, "ok") == {0: 1.0}
    assert len(server.events(run.id, "ok")) == 1
    assert (key in server.keys(run.id)) is stored
    assert len(server.histograms(run.id)) == (1 if stored else 0)
    assert len(server.events(run.id)) == (2 if stored else 1)
    assert result.delivered is stored
    assert result.rejected_points == (0 if stored else 3)


@pytest.mark.parametrize("label, name, why", BAD_NAMES)
def test_a_malformed_key_or_event_type_drops_only_itself(server, make_run, label, name, why):
    run = make_run()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(3):
            run.log({"train/loss": float(step), name: 1.0}, step=step)
            run.event(name, {"x": 1}, step=step)
        run.log_histogram(name, ([0.0, 1.0], [1.0]), step=0)
        run.log_image(name, [[0, 255]], step=0)
        run.event("kept", {"text": "lone \ud800 surrogate in data"}, step=0)
        result = run.finish()
    assert server.series(run.id, "train/loss") == {0: 0.0, 1: 1.0, 2: 2.0}
    assert server.keys(run.id) == {"train/loss"}
    (kept,) = server.events(run.id)
    assert kept["data"] == {"text": "lone \ufffd surrogate in data"}  # free text: replaced, not dropped
    assert result.rejected_points == 3 + 3 + 1 + 1
    kinds = {str(w.message) for w in caught if issubclass(w.category, BabysitWarning)}
    assert len(kinds) == 4, kinds  # once per kind: metric keys, event types, histogram keys, image keys


def test_a_batch_the_server_rejects_is_counted_not_retried_not_spooled(server, make_run, spool_dir, capfd):
    run = make_run(flush_interval=30.0)
    for step in range(3):
        run.log({"a": 1.0, "b": 2.0}, step=step)
    server.reject_logs = 1
    run._transport.wake.set()  # send these three rows now, as one batch
    wait_for(lambda: server.log_requests, what="the batch to reach the server")
    run.log({"a": 9.0}, step=3)
    result = run.finish()
    assert server.series(run.id, "a") == {3: 9.0}
    assert len(server.log_requests) == 2  # the refused batch was sent once
    assert result.delivered is False and result.pending_batches == 0 and result.spool_path is None
    assert result.rejected_points == 6
    (reason, points), = result.rejections
    assert points == 6 and reason.startswith("rejected by the server: 422 invalid_batch: rows[0].metrics")
    assert not os.path.exists(spool_dir) or not os.listdir(spool_dir)
    assert "6 point(s) of run %s were rejected" % run.id in capfd.readouterr().err


def test_a_batch_too_large_for_the_server_is_split_and_all_of_it_stored(server, make_run):
    server.max_body_bytes = 4000
    run = make_run(flush_interval=30.0)
    for step in range(200):
        run.log({"train/loss": 1.0 / (step + 1), "val/acc": step / 200}, step=step)
    result = run.finish()
    assert result.delivered is True and result.rejected_points == 0
    assert server.series(run.id, "train/loss") == {s: 1.0 / (s + 1) for s in range(200)}
    assert len(server.series(run.id, "val/acc")) == 200
    assert ("POST", "/api/v1/runs/%s/log" % run.id) in server.requests
    assert len(server.batches[run.id]) > 1


def test_a_wide_row_too_large_for_the_server_is_split_by_its_metrics(server, make_run):
    server.max_body_bytes = 300
    run = make_run()
    run.log({"k%03d" % i: float(i) for i in range(40)}, step=0, epoch=1.0)
    run.log_histogram("h", ([0.0, 1.0], [1.0]), step=0)
    result = run.finish()
    assert result.delivered is True
    assert server.series(run.id, "epoch") == {0: 1.0}
    assert len(server.batches[run.id]) > 2  # it had to be split, more than once
    assert {k: server.series(run.id, k) for k in server.keys(run.id) if k != "epoch"} == {
        "k%03d" % i: {0: float(i)} for i in range(40)}
    assert len(server.histograms(run.id)) == 1


def test_one_value_too_large_for_the_server_is_rejected_not_retried(server, make_run):
    server.max_body_bytes = 100
    run = make_run()
    run.log({"k" * 150: 1.0}, step=0)
    result = run.finish()
    assert result.rejected_points == 1
    assert result.rejections[0][0].startswith("rejected by the server: 413 payload_too_large")
    assert len(server.requests) == len(set(server.requests))  # sent once, not retried


def test_finish_result_is_truthy_only_when_delivered(server, make_run):
    run = make_run()
    run.log({"x": 1.0})
    result = run.finish()
    assert result and isinstance(result, babysit.DeliveryResult)
    assert run.finish() is result  # a second call says the same
    assert bool(DeliveryResult(delivered=False)) is False


def test_finish_keeps_twenty_distinct_reasons_and_counts_every_point(server, make_run):
    # As the TypeScript SDK: 20 distinct reasons, then "other reasons" for the points of all further ones.
    kinds = [type("Thing%02d" % i, (), {}) for i in range(25)]
    run = make_run()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BabysitWarning)
        for step in range(2):
            run.log({"loss": 1.0, **{"v%02d" % i: kind() for i, kind in enumerate(kinds)}}, step=step)
    result = run.finish()
    assert server.series(run.id, "loss") == {0: 1.0, 1: 1.0}
    assert result.rejected_points == 50
    assert len(result.rejections) == 21
    assert [r for r, _ in result.rejections[:20]] == [
        "dropped by the SDK: metric values of type Thing%02d that are not one number" % i for i in range(20)]
    assert result.rejections[20] == ("other reasons", 10)
    assert all(n == 2 for _, n in result.rejections[:20])
