"""The Python importer's directory walk on a folder that changes while it is walked: a file removed
between listing the directory and reading its size is left out, as the CLI (lib/import/plan.ts) leaves
it, and the walk goes on (it raised FileNotFoundError out of plan_import)."""

import os

import pytest

from babysit import importer


class _Gone:
    """A directory entry whose file was removed after the directory was listed."""

    def __init__(self, entry):
        self.name, self.path = entry.name, entry.path

    def is_dir(self, follow_symlinks=True):
        return False

    def is_file(self, follow_symlinks=True):
        return True

    def stat(self, follow_symlinks=True):
        raise FileNotFoundError(2, "No such file or directory", self.path)


@pytest.mark.parametrize("gone", ["b.log", "events.out.tfevents.1.host"])
def test_a_file_removed_while_the_walk_runs_is_left_out(tmp_path, monkeypatch, gone):
    for name in ("a.log", "b.log", "events.out.tfevents.1.host"):
        (tmp_path / name).write_text("epoch 1 loss 1\n")
    real = os.scandir

    def scandir(d):
        return [_Gone(e) if e.name == gone else e for e in real(d)]

    monkeypatch.setattr(os, "scandir", scandir)
    plan = importer.plan_import([str(tmp_path)])
    files = sorted(f["rel"] for r in plan["runs"] for f in r["files"])
    assert gone not in files
    assert "a.log" in files
    assert plan["failed"] == []
