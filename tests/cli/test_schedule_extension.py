"""``--resume --epochs N`` past the planned end of the schedule (issue 15, item 2): the extension
learns, does what the printed note says, and a resumed extension is itself resumable exactly."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import chainrule as cr

from .helpers import TINY, model_arrays, run_cli

LR = 0.003  # adam's default


def _lrs_and_val(out) -> tuple[list[float], list[float]]:
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [float(r["lr"]) for r in rows], [float(r["val_loss"]) for r in rows]


def _extend(capsys, out, scheduler, *extra):
    assert run_cli(capsys, "train", *TINY, "--epochs", "2", "--scheduler", scheduler, *extra, "--out", str(out))[0] == 0
    status, stdout, err = run_cli(capsys, "train", "--resume", str(out), "--epochs", "4", "--no-progress",
                                  "--no-plots")
    assert status == 0, err
    return stdout


def test_cosine_extension_is_a_warm_restart_that_learns(tmp_path, capsys):
    out = tmp_path / "run"
    stdout = _extend(capsys, out, "cosine")
    note = ("note: the cosine schedule of this run ends at epoch 2; --epochs 4 adds a new cycle for epochs 3-4: "
            f"the lr restarts at {LR:g} and follows a new cosine down to 0 (a warm restart)")
    assert note in stdout
    lrs, val = _lrs_and_val(out)
    # what the note says: epochs 1-2 the planned cosine over 2 epochs, 3-4 a new one over 2 epochs
    expected = [LR * (1 + math.cos(math.pi * e / 2)) / 2 for e in (0, 1)] * 2
    np.testing.assert_allclose(lrs, expected, rtol=1e-5)
    assert all(lr > 0 for lr in lrs[2:])
    assert val[3] < val[1], "the added epochs learn"
    assert cr.load(str(out / "checkpoint.safetensors"))["config"]["schedule_ends"] == [2, 4]


def test_onecycle_extension_is_a_new_cycle(tmp_path, capsys):
    out = tmp_path / "run"
    stdout = _extend(capsys, out, "onecycle")
    assert ("--epochs 4 adds a new cycle for epochs 3-4: the lr warms up again to 0.003 and anneals towards 0 "
            "(a new one-cycle)") in stdout
    lrs, val = _lrs_and_val(out)
    assert lrs[2:] == pytest.approx(lrs[:2])  # the same cycle again (epoch-start lrs)
    assert val[3] < val[1]


def test_step_extension_goes_on_decaying(tmp_path, capsys):
    out = tmp_path / "run"
    stdout = _extend(capsys, out, "step", "--step-size", "1", "--gamma", "0.5")
    assert "note: the step schedule goes on: lr x 0.5 every 1 epochs" in stdout
    lrs, val = _lrs_and_val(out)
    np.testing.assert_allclose(lrs, [LR * 0.5 ** e for e in range(4)], rtol=1e-6)
    assert val[3] < val[1]


def test_an_extended_run_resumes_exactly(tmp_path, capsys, monkeypatch):
    """2 epochs extended to 4 in one go, against 2 epochs extended to 4 but stopped after epoch 3 and
    resumed: the second cycle's schedule state is restored too."""
    import chainrule.cli.train as train_module

    a, b = tmp_path / "a", tmp_path / "b"
    _extend(capsys, a, "cosine")
    assert run_cli(capsys, "train", *TINY, "--epochs", "2", "--out", str(b))[0] == 0
    real = train_module.save_checkpoint

    def stop_after_epoch_3(state, path):
        real(state, path)
        if state["epoch"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", stop_after_epoch_3)
    assert run_cli(capsys, "train", "--resume", str(b), "--epochs", "4", "--no-progress", "--no-plots")[0] == 130
    monkeypatch.setattr(train_module, "save_checkpoint", real)
    status, _, err = run_cli(capsys, "train", "--resume", str(b), "--no-progress", "--no-plots")
    assert status == 0, err
    wa, wb = model_arrays(a / "checkpoint.safetensors"), model_arrays(b / "checkpoint.safetensors")
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])
    assert _lrs_and_val(a)[0] == _lrs_and_val(b)[0]


def test_shortening_says_the_schedule_keeps_its_plan(tmp_path, capsys, monkeypatch):
    import chainrule.cli.train as train_module

    out = tmp_path / "run"
    real = train_module.save_checkpoint

    def stop_after_epoch_1(state, path):
        real(state, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", stop_after_epoch_1)
    assert run_cli(capsys, "train", *TINY, "--epochs", "4", "--out", str(out))[0] == 130
    monkeypatch.setattr(train_module, "save_checkpoint", real)
    status, stdout, _ = run_cli(capsys, "train", "--resume", str(out), "--epochs", "2", "--no-progress", "--no-plots")
    assert status == 0
    assert "note: the run now stops at epoch 2; its cosine schedule keeps its plan to end at epoch 4" in stdout
    lrs, _ = _lrs_and_val(out)
    assert lrs[1] == pytest.approx(LR * (1 + math.cos(math.pi / 4)) / 2, rel=1e-5)
