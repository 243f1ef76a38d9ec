"""`python -m babysit import` against a real server: the fixture runs' TensorBoard directories (written by
torch's SummaryWriter) and console logs become runs holding exactly the points their source holds; a
second import stores nothing twice; a damaged file is refused with its reason and stores nothing; the
exit status is sync's (0 everything, 1 something failed, 3 the key)."""

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from babysit.__main__ import main
from real_server import ROOT, RealServer

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "runs")
RUNS = ["healthy", "overfit"]
_server = None


def setup_module(module):
    global _server
    _server = RealServer().start()


def teardown_module(module):
    if _server is not None:
        _server.close()


def get(path):
    with urllib.request.urlopen(_server.url + path, timeout=30) as resp:
        return json.loads(resp.read())


def runs_of(project):
    return [r for r in get("/api/v1/runs?limit=1000")["runs"] if r["project"] == project]


def unpack(run, into):
    """The fixture run's folder as the training script left it: tb/ (event files gunzipped) and the logs."""
    src = os.path.join(FIXTURES, run)
    for d, _, files in os.walk(os.path.join(src, "tb")):
        out = os.path.join(into, run, os.path.relpath(d, src))
        os.makedirs(out, exist_ok=True)
        for f in files:
            with gzip.open(os.path.join(d, f)) as fin, open(os.path.join(out, f[:-3]), "wb") as fout:
                shutil.copyfileobj(fin, fout)
    for f in ("log.txt", "keras_log.txt"):
        shutil.copyfile(os.path.join(src, f), os.path.join(into, run, f))
    return os.path.join(into, run)


def jsonl_scalars(run):
    """key -> {step: value} of the run's metrics.jsonl: what its TensorBoard directory holds."""
    out = {}
    with gzip.open(os.path.join(FIXTURES, run, "metrics.jsonl.gz"), "rt") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("kind") == "scalar":
                out.setdefault(rec["key"], {})[rec["step"]] = rec["value"]
    return out


def last_wall_time(run):
    with gzip.open(os.path.join(FIXTURES, run, "metrics.jsonl.gz"), "rt") as f:
        return max(json.loads(line).get("wall_time", 0) for line in f)


def stored(run_id, key):
    s = get("/api/v1/runs/%s/series?key=%s" % (run_id, urllib.parse.quote(key, safe="")))
    assert s["exact"]
    return {b["step"]: b["last"] for b in s["buckets"]}


def runs_points(out, *names):
    """The points the summary gives the named runs (`name: N points, ...`)."""
    n = 0
    for line in out.splitlines():
        for name in names:
            if line.startswith(name + ": "):
                n += int(line[len(name) + 2:].split(" ", 1)[0])
    return n


def cli(capsys, *args):
    code = main(["import", "--url", _server.url, *args])
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.mark.parametrize("run", RUNS)
def test_a_fixture_folder_imports_as_the_cli_groups_it_with_exactly_the_sources_points(tmp_path, capsys, run):
    folder = unpack(run, str(tmp_path))
    project = "py-import-" + run
    code, out, err = cli(capsys, folder, "--project", project)
    assert code == 0, out + err
    runs = {r["name"]: r for r in runs_of(project)}
    # one run per run directory (the hparams sub-run merged) and one per log file
    assert sorted(runs) == ["keras_log.txt", "log.txt", "tb"]
    assert all(r["status"] == "finished" for r in runs.values())
    tb = runs["tb"]
    expected = jsonl_scalars(run)
    keys = {k["key"]: k["count"] for k in get("/api/v1/runs/%s" % tb["id"])["keys"]}
    # exactly metrics.jsonl's scalars, and beyond them only the hparams sub-run's metrics
    assert {k: n for k, n in keys.items() if not k.startswith("hparam/")} == {k: len(v) for k, v in expected.items()}
    assert [k for k in keys if k.startswith("hparam/")], "the hparams sub-run's metrics are the run's"
    for key in ("train/loss", "val/loss", "val/acc"):
        got = stored(tb["id"], key)
        assert sorted(got) == sorted(expected[key])
        assert all(got[s] == pytest.approx(expected[key][s], rel=1e-6) for s in got)  # TensorBoard stores float32
    detail = get("/api/v1/runs/%s" % tb["id"])["run"]
    assert detail["config"], "the hparams sub-run's hyperparameters are the run's config"
    # the run spans the training (the log's times), not the import
    assert abs(detail["finishedAt"] - last_wall_time(run)) < 60
    # the summary names every run with its points and a link, and the total
    total = sum(keys.values())
    assert "tb: %d points" % total in out
    assert "%s/runs/%s" % (_server.url, tb["id"]) in out
    assert 'imported 3 runs into project "%s": %d points' % (project, total + runs_points(out, "log.txt", "keras_log.txt")) in out
    # a progress line per run where stderr is not a terminal
    assert "importing" in err and "| tb" in err

    # again: the same runs, nothing stored twice
    code, out, _ = cli(capsys, folder, "--project", project)
    assert code == 0
    assert sorted(r["name"] for r in runs_of(project)) == ["keras_log.txt", "log.txt", "tb"]
    assert "tb: 0 points" in out and "already there, not stored again" in out
    assert {k["key"]: k["count"] for k in get("/api/v1/runs/%s" % tb["id"])["keys"]} == keys


def test_the_name_flag_names_a_single_run(tmp_path, capsys):
    folder = unpack("healthy", str(tmp_path))
    code, out, _ = cli(capsys, os.path.join(folder, "log.txt"), "--project", "py-import-name", "--name", "cs231n solver")
    assert code == 0, out
    assert [r["name"] for r in runs_of("py-import-name")] == ["cs231n solver"]


def test_diagnoses_raised_live_while_the_files_were_sent_are_listed(tmp_path, capsys):
    # the finish answer holds only the diagnoses not yet handed out; one raised live while the run's
    # files were sent (handed out by a later file's ingest) must still be listed, as `babysit import` does
    tb = os.path.join(unpack("overfit", str(tmp_path)), "tb")
    main_file = next(os.path.join(tb, n) for n in sorted(os.listdir(tb)) if "tfevents" in n)
    code, _, _ = cli(capsys, main_file, "--project", "py-import-live", "--no-finish")
    assert code == 0
    run_id = runs_of("py-import-live")[0]["id"]
    deadline = time.time() + 60
    while not any(a["code"] == "overfitting" for a in get("/api/v1/runs/%s/alerts" % run_id)["alerts"]):
        assert time.time() < deadline, "overfitting was not raised live"
        time.sleep(0.1)
    code, out, _ = cli(capsys, tb, "--project", "py-import-live")
    assert code == 0
    lines = out.split("\n")
    assert "  overfit/tb: overfitting" in lines, out
    assert lines[lines.index("  overfit/tb: overfitting") - 1] == "diagnoses (details on each run's page):", out


def test_name_with_paths_that_hold_several_runs_is_refused_and_imports_nothing(tmp_path, capsys):
    folder = unpack("healthy", str(tmp_path))
    code, out, _ = cli(capsys, folder, "--name", "my run", "--project", "py-import-name-many")
    assert code == 1
    assert "--name: names one run, but the paths hold 3 runs" in out, out
    assert runs_of("py-import-name-many") == []


def test_a_damaged_event_file_is_refused_with_its_reason_stores_nothing_and_exits_1(tmp_path, capsys):
    folder = unpack("overfit", str(tmp_path))
    tb = os.path.join(folder, "tb")
    name = next(n for n in os.listdir(tb) if "tfevents" in n)
    data = bytearray(open(os.path.join(tb, name), "rb").read())
    data[-100] ^= 0xFF  # inside the last records' data: its checksum no longer matches
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    code, out, _ = cli(capsys, str(bad), "--project", "py-import-bad")
    assert code == 1
    assert "failed 1:" in out and "checksum" in out and "nothing of this file was imported" in out
    assert runs_of("py-import-bad") == []


@pytest.mark.parametrize("what", ["missing", "fifo"])
def test_a_path_that_is_not_there_fails_exit_1_and_the_others_are_imported(tmp_path, capsys, what):
    # a typo in a path is a failure, as cp or tar say, not a clean "imported 0 runs" with exit 0
    folder = unpack("healthy", str(tmp_path))
    bad = tmp_path / "nope"
    if what == "fifo":
        os.mkfifo(str(bad))
    code, out, _ = cli(capsys, str(bad), os.path.join(folder, "log.txt"), "--project", "py-import-none-" + what)
    assert code == 1
    reason = "no such file or directory" if what == "missing" else "not a file or directory"
    assert "failed 1:\n  %s: %s" % (bad, reason) in out
    assert [r["name"] for r in runs_of("py-import-none-" + what)] == ["log.txt"]


# A file name that is not UTF-8 (Python keeps its bytes as lone surrogates) made urlencode raise out of
# the whole import with a traceback; a tab, or a path longer than runNameMaxLength, had the run refused.
@pytest.mark.parametrize("dirname", [
    b"bad\xffname",
    b"latin1-caf\xe9",
    b"tab\tdir",
    b"/".join([b"lr_0.001_bs_128_" * 8] * 2),
])
def test_a_run_directory_with_an_odd_name_is_imported(tmp_path, capsys, dirname):
    d = os.path.join(os.fsencode(str(tmp_path)), dirname)
    os.makedirs(d)
    with open(os.path.join(d, b"m.csv"), "wb") as f:
        f.write(b"step,loss\n1,0.5\n2,0.25\n")
    project = "py-import-odd-%d" % abs(hash(dirname))
    code, out, _ = cli(capsys, str(tmp_path), "--project", project)
    assert code == 0, out
    runs = runs_of(project)
    assert len(runs) == 1, out
    assert [b["step"] for b in get("/api/v1/runs/%s/series?key=loss" % runs[0]["id"])["buckets"]] == [1, 2]


# a file's name quoted in the summary reached the terminal raw: its escape sequences set the window
# title or recoloured the screen
def test_a_file_named_with_escape_sequences_is_printed_without_them(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.out.tfevents.1.\x1b]0;pwned\x07\x1b[31mx").write_bytes(b"garbage that is long enough to look like a record")
    code, out, err = cli(capsys, str(tmp_path), "--project", "py-import-escapes")
    assert code == 1
    assert "bad length checksum" in out
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in out + err)


def test_a_server_that_is_away_exits_1_naming_it(tmp_path, capsys):
    folder = unpack("healthy", str(tmp_path))
    code = main(["import", "--url", "http://127.0.0.1:1", os.path.join(folder, "log.txt")])
    out = capsys.readouterr().out
    assert code == 1
    assert "did not answer" in out


def test_a_team_server_without_a_key_exits_3_and_stores_nothing(tmp_path, monkeypatch):
    team = RealServer(env={"BABYSIT_MODE": "team"})
    subprocess.run(["node", "--import", "tsx", "scripts/admin.ts", "create", "admin"], cwd=ROOT,
                   env=dict(os.environ, DATABASE_URL="file:" + team.db), check=True, capture_output=True)
    team.start()
    try:
        monkeypatch.delenv("BABYSIT_API_KEY", raising=False)
        folder = unpack("healthy", str(tmp_path))
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "sdk", "python"))
        env.pop("BABYSIT_API_KEY", None)
        p = subprocess.run([sys.executable, "-m", "babysit", "import", "--url", team.url, folder],
                           env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 3, p.stdout + p.stderr
        assert "set BABYSIT_API_KEY" in p.stdout
        assert "imported 0 runs" in p.stdout
    finally:
        team.close()
