"""``python -m bench.ab REV`` loads chainrule as of a commit beside this checkout's and times both
(with PyTorch) in one process. Timings are never asserted: the plumbing is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import ab

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git history of a checkout")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    return subprocess.run([sys.executable, "-m", "bench.ab", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_commit_runs_beside_this_checkout():
    proc = _run("HEAD", "--quick", "--threads", "1", "--only", "autograd_overhead", "--only", "mlp")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("before: chainrule at ") and "after: this checkout; 1 threads, 2 rounds" in lines[0]
    rows = [line for line in lines[1:] if "after/before" in line]
    assert [r.split()[0] for r in rows] == ["mlp_train_b128", "autograd_overhead"]


def test_the_older_package_is_a_separate_module(tmp_path):
    name = ab.extract("HEAD", str(tmp_path))
    assert name.startswith("chainrule_") and (tmp_path / name / "__init__.py").exists()
    assert not (tmp_path / "chainrule").exists()


def test_an_unknown_revision_is_one_clean_line():
    proc = _run("no-such-revision-xyz", "--quick")
    assert proc.returncode != 0
    assert "bench.ab: 'no-such-revision-xyz' is not a commit of this repository" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_options_are_refused():
    with pytest.raises(SystemExit):
        ab.parse_args(["HEAD", "--repeats", "0"])
