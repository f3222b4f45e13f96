"""The run folder (issue 15, item 1 and the --out checks): a run is never silently replaced, and an
--out that cannot hold a run is refused before any training."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

import chainrule as cr

from .helpers import TINY, assert_clean_error, env, run_cli, snapshot


def _train(capsys, out, *extra):
    return run_cli(capsys, "train", *TINY, "--epochs", "1", "--out", str(out), *extra)


def test_a_second_run_into_the_same_folder_is_refused_and_the_first_kept(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(capsys, out, "--seed", "1")[0] == 0
    before = snapshot(out)
    status, stdout, err = _train(capsys, out, "--seed", "2")
    line = assert_clean_error(status, err, 2)
    assert f"{out} already holds a run" in line
    assert f"--resume {out}" in line and "--out DIR" in line and "--overwrite" in line
    assert snapshot(out) == before and stdout == ""


def test_the_default_folder_is_protected_too(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "train", *TINY, "--epochs", "1")[0] == 0
    before = snapshot(tmp_path / "runs" / "mlp-digits")
    status, _, err = run_cli(capsys, "train", *TINY, "--epochs", "2", "--seed", "3")
    assert status == 2 and "runs/mlp-digits already holds a run" in err
    assert snapshot(tmp_path / "runs" / "mlp-digits") == before


def test_overwrite_replaces_the_run_entirely(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(capsys, out, "--seed", "1", "--epochs", "2")[0] == 0
    status, stdout, err = _train(capsys, out, "--seed", "2", "--overwrite")
    assert status == 0, err
    state = cr.load(str(out / "checkpoint.safetensors"))
    assert state["config"]["seed"] == 2 and state["epoch"] == 1
    assert cr.load(str(out / "best.safetensors"))["config"]["seed"] == 2
    assert (out / "metrics.csv").read_text().count("\n") == 2


def test_demo_numbers_its_folder_instead_of_replacing_the_earlier_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--model", "mlp", "--train-limit", "60", "--test-limit", "10", "--epochs", "1", "--no-progress",
            "--no-plots"]
    assert run_cli(capsys, *args)[0] == 0
    first = snapshot(tmp_path / "runs" / "demo")
    status, out, _ = run_cli(capsys, *args, "--seed", "4")
    assert status == 0 and "-> runs/demo-2/" in out and "runs/demo-2/checkpoint.safetensors" in out
    assert snapshot(tmp_path / "runs" / "demo") == first
    assert cr.load("runs/demo-2/checkpoint.safetensors")["config"]["seed"] == 4


def test_resume_from_best_would_overwrite_later_epochs_and_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(capsys, out, "--epochs", "2")[0] == 0
    before = snapshot(out)
    status, _, err = run_cli(capsys, "train", "--resume", str(out / "best.safetensors"), "--epochs", "3",
                             "--no-progress", "--no-plots")
    assert status == 2 and "would overwrite the run's later checkpoint.safetensors" in err
    assert snapshot(out) == before
    # elsewhere it is fine
    status, _, err = run_cli(capsys, "train", "--resume", str(out / "best.safetensors"), "--epochs", "3",
                             "--out", str(tmp_path / "branch"), "--no-progress", "--no-plots")
    assert status == 0, err
    assert snapshot(out) == before


def test_out_that_is_a_file_or_under_a_file_is_refused_before_training(tmp_path, capsys, monkeypatch):
    import chainrule.cli.train as train_module

    monkeypatch.setattr(train_module, "load_splits", lambda *a, **k: pytest.fail("the data was loaded"))
    afile = tmp_path / "afile"
    afile.write_text("x")
    status, _, err = _train(capsys, afile)
    assert "is a file, not a folder" in assert_clean_error(status, err, 2)
    status, _, err = _train(capsys, afile / "sub" / "run")
    assert f"lies under '{afile}', which is a file" in assert_clean_error(status, err, 2)
    assert afile.read_text() == "x"


def test_read_only_out_is_refused_before_training():
    """As an unprivileged user (root writes anywhere): refused with exit 2 before the data is read."""
    base = tempfile.mkdtemp(prefix="cr-ro-")
    try:
        os.chmod(base, 0o755)
        ro = os.path.join(base, "ro")
        os.mkdir(ro)
        os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv: a read-only folder cannot be simulated")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        for out in (ro, os.path.join(ro, "new")):
            result = subprocess.run([*prefix, sys.executable, "-m", "chainrule", "train", *TINY, "--out", out],
                                    capture_output=True, text=True, cwd=base, env=env(), timeout=120, check=False)
            line = assert_clean_error(result.returncode, result.stderr, 2)
            assert "cannot be written: Permission denied" in line
            assert "training" not in result.stdout
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_temp_files_of_a_killed_write_are_removed_at_the_next_start(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(capsys, out)[0] == 0
    stale = [out / ".checkpoint.safetensors.a1b2c3.tmp", out / ".metrics.csv.zz9.tmp", out / ".best.safetensors.q.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    keep = out / ".my-notes.tmp"
    keep.write_text("not ours")
    status, _, err = run_cli(capsys, "train", "--resume", str(out), "--epochs", "2", "--no-progress", "--no-plots")
    assert status == 0, err
    assert not any(p.exists() for p in stale) and keep.exists()


def test_an_empty_out_is_refused(capsys):
    status, _, err = run_cli(capsys, "train", *TINY, "--out", "")
    assert "--out is empty" in assert_clean_error(status, err, 2)


@pytest.mark.parametrize("target,message,code", [("", "does not name a file", 2),
                                                  ("afile/g.svg", "cannot write afile/g.svg: ", 1)])
def test_graph_out_that_cannot_be_written(target, message, code, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    status, _, err = run_cli(capsys, "graph", "--model", "mlp", "--out", target)
    assert message in assert_clean_error(status, err, code)
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]
