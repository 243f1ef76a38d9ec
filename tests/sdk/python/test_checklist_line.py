"""The one-line checklist printed at finish(), in the same words as the TypeScript SDK."""

import pytest

CHECKLIST = {"summary": "7 passed, 1 raised (lr_too_high), 2 not checkable", "passed": 7, "raised": 1,
             "unknown": 2, "raisedCodes": ["lr_too_high"]}


def checklist_lines(err):
    return [line for line in err.splitlines() if "checklist" in line]


def test_finish_prints_the_servers_checklist_line_with_the_run_url(server, make_run, capfd):
    server.finish_checklist = CHECKLIST
    run = make_run(quiet=False)
    run.log({"loss": 1.0})
    assert run.finish().delivered
    assert checklist_lines(capfd.readouterr().err) == [
        "babysit: checklist 7 passed, 1 raised (lr_too_high), 2 not checkable -> %s" % run.url]


@pytest.mark.parametrize("answer, quiet, line", [
    (None, False, None),  # an older server: no checklist in the answer
    ({"summary": 7}, False, None),
    ("7 passed", False, None),
    (CHECKLIST, True, None),
    ({"summary": "1 passed\x1b[2J, 0 raised"}, False, "babysit: checklist 1 passed [2J, 0 raised"),
])
def test_no_line_or_a_clean_one(server, make_run, capfd, answer, quiet, line):
    server.finish_checklist = answer
    run = make_run(quiet=quiet)
    run.log({"loss": 1.0})
    assert run.finish().delivered
    assert checklist_lines(capfd.readouterr().err) == (["%s -> %s" % (line, run.url)] if line else [])
