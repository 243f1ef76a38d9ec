"""The offline install the README documents works and leaves nothing git would pick up in the checkout."""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import SDK

ROOT = os.path.dirname(os.path.dirname(SDK))


def _untracked():
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", SDK],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("??")]


@pytest.mark.skipif(shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")),
                    reason="needs the git checkout")
def test_offline_build_without_isolation_makes_a_wheel_and_leaves_the_checkout_clean(tmp_path):
    pytest.importorskip("setuptools")
    before = _untracked()
    # --no-index: no package index is asked, as on a machine without internet.
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-index", "--no-deps",
                          "-w", str(tmp_path), SDK], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    (wheel,) = [f for f in os.listdir(tmp_path) if f.endswith(".whl")]
    names = zipfile.ZipFile(os.path.join(tmp_path, wheel)).namelist()
    assert {"babysit/__init__.py", "babysit/__main__.py", "babysit/py.typed"} <= set(names)
    assert _untracked() == before
