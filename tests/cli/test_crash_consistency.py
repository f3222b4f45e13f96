"""The run's files agree with each other whatever instant the process dies at (issue 15, item 3).

A subprocess is killed (``os._exit``, no clean-up of any kind) at a chosen atomic write: just
before its rename (the temporary file is complete, the target still old) or just after it. Then
the run is resumed and must end exactly as an uninterrupted run: the same checkpoint, a
``best.safetensors`` holding the best epoch the checkpoint records, the same ``metrics.csv``, and
no temporary file left behind.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from .helpers import TINY, model_arrays, run_captured, run_sub

# 2 epochs, both the best so far: the writes are 1 checkpoint, 2 best, 3 metrics.csv (epoch 1),
# 4 checkpoint, 5 best, 6 metrics.csv (epoch 2)
ARGS = ["train", *TINY, "--epochs", "2", "--seed", "1"]
WRITES = 6

KILL_AT_WRITE = r"""
import os, sys
mode, k = sys.argv[1], int(sys.argv[2])
real_replace, count = os.replace, [0]

def replace(src, dst):  # the rename of chainrule._io.atomic_write
    count[0] += 1
    if count[0] == k and mode == "before":
        os._exit(137)
    real_replace(src, dst)
    if count[0] == k and mode == "after":
        os._exit(137)

os.replace = replace
from chainrule.cli.main import main
raise SystemExit(main(sys.argv[3:]))
"""

UNTIMED = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    status, _, err = run_captured(*ARGS, "--out", str(out))
    assert status == 0, err
    state = cr.load(str(out / "checkpoint.safetensors"))
    assert state["best"]["epoch"] == 2, "the setting must make epoch 2 a best epoch"
    return out


def _untimed_csv(path) -> list[list[str]]:
    rows = [line.split(",") for line in path.read_text().splitlines()]
    return [r[:len(UNTIMED)] for r in rows]


@pytest.mark.parametrize("mode", ["before", "after"])
@pytest.mark.parametrize("k", range(1, WRITES + 1))
def test_killed_at_any_write_then_resumed_ends_as_an_uninterrupted_run(k, mode, straight, tmp_path):
    out = tmp_path / "run"
    killed = run_sub(mode, str(k), *ARGS, "--out", str(out), code=KILL_AT_WRITE)
    assert killed.returncode == 137, killed.stderr
    if (out / "checkpoint.safetensors").exists():
        again = ["train", "--resume", str(out), "--no-progress", "--no-plots"]
    else:  # killed before the first checkpoint existed: the folder holds no run, start it again
        again = [*ARGS, "--out", str(out)]
    status, stdout, err = run_captured(*again)
    assert status == 0, err
    assert "Traceback" not in err
    assert not list(out.glob(".*.tmp")), "the temporary file of the killed write was removed"
    mine, theirs = cr.load(str(out / "checkpoint.safetensors")), cr.load(str(straight / "checkpoint.safetensors"))
    assert mine["epoch"] == 2 and mine["best"] == theirs["best"]
    for name in ("checkpoint.safetensors", "best.safetensors"):
        a, b = model_arrays(out / name), model_arrays(straight / name)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {key}")
    assert cr.load(str(out / "best.safetensors"))["epoch"] == mine["best"]["epoch"] == 2
    assert _untimed_csv(out / "metrics.csv") == _untimed_csv(straight / "metrics.csv")
    if mode == "after" and k == 4:  # died between the checkpoint and best.safetensors of the best epoch 2
        assert "best.safetensors did not hold the best epoch 2" in stdout
    # the report uses the best file only when it really holds the recorded epoch
    assert "with best.safetensors" not in stdout


def test_a_best_file_of_another_epoch_than_recorded_is_an_error_not_a_wrong_report(straight, tmp_path, capsys):
    """A best file holding another epoch than an earlier recorded best cannot come from a crash (only
    from tampering): refused, nothing changed."""
    import shutil

    from .helpers import run_cli, snapshot

    out = tmp_path / "run"
    shutil.copytree(straight, out)
    state = cr.load(str(out / "checkpoint.safetensors"))
    state["best"]["epoch"] = 1  # best.safetensors holds epoch 2
    cr.save(state, str(out / "checkpoint.safetensors"))
    before = snapshot(out)
    status, _, err = run_cli(capsys, "train", "--resume", str(out), "--epochs", "3", "--no-progress", "--no-plots")
    assert status == 2 and "holds epoch 2 but the run's checkpoint records epoch 1 as its best" in err
    assert snapshot(out) == before


def test_a_deleted_best_file_does_not_block_the_resume(straight, tmp_path, capsys):
    import shutil

    from .helpers import run_cli

    out = tmp_path / "run"
    shutil.copytree(straight, out)
    state = cr.load(str(out / "checkpoint.safetensors"))
    state["best"]["epoch"] = 1  # the record says epoch 1; its file is gone
    cr.save(state, str(out / "checkpoint.safetensors"))
    (out / "best.safetensors").unlink()
    status, stdout, err = run_cli(capsys, "train", "--resume", str(out), "--epochs", "3", "--no-progress", "--no-plots")
    assert status == 0, err
    assert "the weights of the best epoch 1 are lost" in stdout
    best = cr.load(str(out / "checkpoint.safetensors"))["best"]["epoch"]
    assert (out / "best.safetensors").exists() == (best == 3)
