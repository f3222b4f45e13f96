"""Every bad input gets one clean line and the right exit status, never a traceback (issue 15):
2 for bad input, 1 for a failure of the run, 130 for Ctrl-C; no NumPy warning on the console."""

from __future__ import annotations

import errno

import numpy as np
import pytest

import chainrule as cr
import chainrule.cli.train as train_module

from . import checkpoint_files as cf
from .helpers import TINY, assert_clean_error, run_captured, run_cli, run_sub, snapshot


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished 2-epoch run of the mlp, never changed by the tests (they work on copies)."""
    out = tmp_path_factory.mktemp("earlier") / "run"
    status, _, err = run_captured("train", *TINY, "--epochs", "2", "--out", str(out))
    assert status == 0, err
    return out


# --- options ----------------------------------------------------------------------------------

BAD_OPTIONS = [
    (["--lr", "nan"], "argument --lr: expected a finite number in (0, inf), got nan"),
    (["--lr", "-1"], "argument --lr: expected a finite number in (0, inf), got -1"),
    (["--lr", "0"], "argument --lr"),
    (["--lr", "inf"], "argument --lr"),
    (["--weight-decay", "-5"], "argument --weight-decay: expected a finite number in [0, inf), got -5"),
    (["--momentum", "-0.1"], "argument --momentum"),
    (["--seed", "-1"], "argument --seed: expected a seed from 0 to 4294967295, got -1"),
    (["--seed", str(2**32)], "argument --seed"),
    (["--seed", "1.5"], "argument --seed: expected an integer seed"),
    (["--val-fraction", "0.999"], "argument --val-fraction: expected a finite number in [0, 0.9], got 0.999"),
    (["--val-fraction", "nan"], "argument --val-fraction"),
    (["--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
    (["--batch-size", "-3"], "argument --batch-size"),
    (["--test-limit", "0"], "argument --test-limit"),
    (["--gamma", "0", "--scheduler", "step"], "argument --gamma"),
    (["--step-size", "5"], "--step-size only apply to --scheduler step; this run uses --scheduler cosine"),
    (["--gamma", "0.5", "--scheduler", "onecycle"], "--gamma only apply to --scheduler step"),
]


@pytest.mark.parametrize("extra,message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_train_options(extra, message, tmp_path, capsys):
    try:
        status, _, err = run_cli(capsys, "train", *TINY, "--out", str(tmp_path / "run"), *extra)
    except SystemExit as e:  # argparse's usage errors
        status, err = e.code, capsys.readouterr().err
    line = assert_clean_error(status, err, 2)
    assert message in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("extra,message", [
    (["--test-limit", "-5"], "argument --test-limit: expected a positive integer, got -5"),
    (["--test-limit", "0"], "argument --test-limit: expected a positive integer, got 0"),
    (["--batch-size", "0"], "argument --batch-size: expected a positive integer, got 0"),
])
def test_bad_evaluate_options(extra, message, run_dir, capsys):
    with pytest.raises(SystemExit) as e:
        run_cli(capsys, "evaluate", "--checkpoint", str(run_dir), *extra)
    assert message in assert_clean_error(e.value.code, capsys.readouterr().err, 2)


def test_evaluate_of_an_empty_validation_split(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(capsys, "train", *TINY, "--epochs", "1", "--val-fraction", "0", "--out", str(out))[0] == 0
    status, _, err = run_cli(capsys, "evaluate", "--checkpoint", str(out), "--split", "val")
    assert "the val split of this run is empty" in assert_clean_error(status, err, 2)


@pytest.mark.parametrize("command", ["summary", "graph"])
def test_an_input_the_model_cannot_take(command, tmp_path, capsys):
    extra = ["--out", str(tmp_path / "g.svg")] if command == "graph" else []
    status, _, err = run_cli(capsys, command, "--model", "lenet5", "--input-size", "1,1,8,8", *extra)
    line = assert_clean_error(status, err, 2)
    assert "lenet5 cannot take 1x1x8x8 inputs" in line and "at least 28x28" in line


# --- hostile checkpoints ----------------------------------------------------------------------

def _edit(state):
    def no_config(s):
        del s["config"]

    def unknown_model(s):
        s["config"]["model"] = "gpt5"

    def garbage_rng(s):
        s["rng"]["shuffle"] = {"bit_generator": "PCG64", "state": {"state": "x", "inc": 3}}

    def wrong_shaped_optimizer_state(s):
        s["optimizer"]["state"][0]["exp_avg"] = cr.zeros(3)

    def weights_of_another_model(s):
        s["config"]["model"] = "digits_cnn"

    def lr_nan_in_config(s):
        s["config"]["lr"] = float("nan")

    def history_of_strings(s):
        s["history"] = ["epoch 1"]

    def best_from_the_future(s):
        s["best"]["epoch"] = 99

    def adam_state_for_sgd(s):  # found by the fuzz test: a KeyError at the first step
        s["config"]["optimizer"] = "sgd"

    def sgd_state_for_adam(s):
        s["optimizer"]["state"][0] = {"momentum_buffer": s["optimizer"]["state"][0]["exp_avg"]}

    def cosine_of_zero_epochs(s):  # would divide by zero at the first schedule step
        s["scheduler"]["T_max"] = 0

    def schedule_of_another_kind(s):
        s["scheduler"] = {"step_size": 1, "gamma": 0.5, "last_epoch": 1}

    return {f.__name__: f for f in (no_config, unknown_model, garbage_rng, wrong_shaped_optimizer_state,
                                    weights_of_another_model, lr_nan_in_config, history_of_strings,
                                    best_from_the_future, adam_state_for_sgd, sgd_state_for_adam,
                                    cosine_of_zero_epochs, schedule_of_another_kind)}


EDITS = list(_edit(None))
MESSAGES = {
    "no_config": "it has no run settings ('config')",
    "unknown_model": "the run setting model='gpt5' is not valid",
    "garbage_rng": "the random generator state 'shuffle' is not valid",
    "wrong_shaped_optimizer_state": "the checkpoint's optimiser state 'exp_avg' has shape (3,) for a parameter of "
                                    "shape (",
    "weights_of_another_model": "the checkpoint's weights do not fit the digits_cnn model it names",
    "lr_nan_in_config": "the run setting lr=nan is not valid",
    "history_of_strings": "the metrics history ('history') is malformed",
    "best_from_the_future": "the record of the best epoch ('best') is malformed",
    "adam_state_for_sgd": "the checkpoint's optimiser state does not fit the run's SGD optimiser (KeyError: 'momentum')",
    "sgd_state_for_adam": "the checkpoint's optimiser state does not fit the run's Adam optimiser (KeyError: 'step')",
    "cosine_of_zero_epochs": "the checkpoint's schedule state has T_max=0, which does not fit the run's "
                             "CosineAnnealingLR",
    "schedule_of_another_kind": "the checkpoint's schedule state is not that of a CosineAnnealingLR",
}


def _hostile_file(run_dir, tmp_path, edit: str):
    state = cr.load(str(run_dir / "checkpoint.safetensors"))
    _edit(state)[edit](state)
    path = tmp_path / "hostile" / "checkpoint.safetensors"
    path.parent.mkdir()
    cr.save(state, str(path))
    return path


@pytest.mark.parametrize("edit", EDITS)
def test_hostile_checkpoint_evaluate(edit, run_dir, tmp_path, capsys):
    path = _hostile_file(run_dir, tmp_path, edit)
    status, out, err = run_cli(capsys, "evaluate", "--checkpoint", str(path))
    if edit in ("wrong_shaped_optimizer_state", "adam_state_for_sgd", "sgd_state_for_adam", "cosine_of_zero_epochs",
                "schedule_of_another_kind"):  # evaluate needs the weights only
        assert status == 0, err
        return
    assert MESSAGES[edit] in assert_clean_error(status, err, 2)


@pytest.mark.parametrize("edit", EDITS)
def test_hostile_checkpoint_resume_is_refused_before_training(edit, run_dir, tmp_path, capsys):
    path = _hostile_file(run_dir, tmp_path, edit)
    before = snapshot(path.parent)
    status, out, err = run_cli(capsys, "train", "--resume", str(path), "--epochs", "3", "--no-progress", "--no-plots")
    assert MESSAGES[edit] in assert_clean_error(status, err, 2)
    assert "epoch 3/3" not in out
    assert snapshot(path.parent) == before


@pytest.mark.parametrize("kind", ["deep_nesting", "missing_tensor", "truncated", "not_json"])
def test_undecodable_checkpoint(kind, run_dir, tmp_path, capsys):
    data = (run_dir / "checkpoint.safetensors").read_bytes()
    if kind == "deep_nesting":
        header, body = cf.split(data)
        header["__metadata__"]["chainrule.tree"] = "[" * 100_000 + "]" * 100_000
        data = cf.join(header, body)
    elif kind == "missing_tensor":
        t = cf.tree(data)
        model = cf.entry(t, "model")
        model["__dict__"][0][1]["__tensor__"] = "no.such.tensor"
        data = cf.with_tree(data, t)
    elif kind == "truncated":
        data = data[: len(data) // 2]
    else:
        header, body = cf.split(data)
        header["__metadata__"]["chainrule.tree"] = "{not json"
        data = cf.join(header, body)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    for argv in (["evaluate", "--checkpoint", str(path)],
                 ["train", "--resume", str(path), "--out", str(tmp_path / "new"), "--no-progress"]):
        status, _, err = run_cli(capsys, *argv)
        line = assert_clean_error(status, err, 2)
        assert str(path) in line


# --- failures of the run ----------------------------------------------------------------------

def test_nan_validation_loss_is_divergence_and_never_best(tmp_path, capsys, monkeypatch):
    real = train_module.evaluate
    calls = []

    def nan_on_the_second_validation(model, loader):
        result = real(model, loader)
        calls.append(1)
        if len(calls) == 2:
            result.loss = float("nan")
        return result

    monkeypatch.setattr(train_module, "evaluate", nan_on_the_second_validation)
    out = tmp_path / "run"
    status, stdout, err = run_cli(capsys, "train", *TINY, "--epochs", "3", "--out", str(out))
    line = assert_clean_error(status, err, 1)
    assert "training diverged: the validation loss is nan after epoch 2" in line
    assert f"the last good checkpoint is {out / 'checkpoint.safetensors'} (epoch 1)" in line
    assert cr.load(str(out / "checkpoint.safetensors"))["epoch"] == 1
    assert cr.load(str(out / "best.safetensors"))["epoch"] == 1


def test_a_huge_learning_rate_diverges_cleanly_without_numpy_warnings(tmp_path):
    result = run_sub("train", *TINY, "--epochs", "2", "--optimizer", "sgd", "--lr", "1e8", "--out",
                     str(tmp_path / "run"))
    line = assert_clean_error(result.returncode, result.stderr, 1)
    assert "training diverged" in line
    assert "Warning" not in result.stderr and "Warning" not in result.stdout
    best = tmp_path / "run" / "best.safetensors"
    if best.exists():  # whatever was kept as best is finite
        state = cr.load(str(best))
        assert all(np.isfinite(v.numpy()).all() for v in state["model"].values())


def test_disk_full_says_so_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    import chainrule.serialization as serialization

    real, writes = serialization.atomic_write, []

    def full_at_the_second_checkpoint(path, data):
        writes.append(path)
        if sum(p.endswith("checkpoint.safetensors") for p in writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(serialization, "atomic_write", full_at_the_second_checkpoint)
    out = tmp_path / "run"
    status, _, err = run_cli(capsys, "train", *TINY, "--epochs", "3", "--out", str(out))
    line = assert_clean_error(status, err, 1)
    assert f"the disk is full: cannot write checkpoint.safetensors in {out}/" in line
    assert f"the last good checkpoint is {out / 'checkpoint.safetensors'} (epoch 1)" in line
    assert cr.load(str(out / "checkpoint.safetensors"))["epoch"] == 1


# --- Ctrl-C -----------------------------------------------------------------------------------

SIGINT_AT = r"""
import os, signal, sys, time
phase = sys.argv[1]

def interrupt(*a, **k):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the signal arrives as KeyboardInterrupt here

if phase == "import":  # while `python -m chainrule` imports the command's modules
    import importlib.abc

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "chainrule.cli.trainer":
                interrupt()

    sys.meta_path.insert(0, Finder())
    import runpy
    sys.argv = ["chainrule", *sys.argv[2:]]
    runpy.run_module("chainrule", run_name="__main__")
import chainrule.cli.main as m
import chainrule.cli.train as t
target = {"startup": (m, "build_parser"), "data": (t, "load_splits"), "report": (t, "confusion_matrix")}[phase]
setattr(target[0], target[1], interrupt)
raise SystemExit(m.main(sys.argv[2:]))
"""


@pytest.mark.parametrize("phase", ["import", "startup", "data", "report"])
def test_ctrl_c_anywhere_is_one_line_and_130(phase, tmp_path):
    result = run_sub(phase, "train", *TINY, "--epochs", "1", "--out", str(tmp_path / "run"), code=SIGINT_AT)
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("chainrule"), result.stderr
    assert "interrupted" in result.stderr


def test_ctrl_c_during_an_epoch_says_how_to_resume(tmp_path, capsys, monkeypatch):
    real = train_module.train_epoch
    calls = []

    def second_epoch_interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(train_module, "train_epoch", second_epoch_interrupted)
    out = tmp_path / "run"
    status, _, err = run_cli(capsys, "train", *TINY, "--epochs", "3", "--out", str(out))
    assert status == 130
    assert err == (f"chainrule train: interrupted during epoch 2; resume with: chainrule train --resume "
                   f"{out / 'checkpoint.safetensors'}\n")


@pytest.mark.parametrize("error", [ValueError("'data/x-idx3-ubyte' has the wrong magic number 2049"),
                                   EOFError("Compressed file ended before the end-of-stream marker was reached"),
                                   OSError(5, "Input/output error")])
def test_a_dataset_that_cannot_be_read_is_a_failure_of_the_run(error, tmp_path, capsys, monkeypatch):
    import dataclasses

    from chainrule.cli import datasets

    def broken(root, train):
        raise error

    monkeypatch.setitem(datasets.DATASETS, "digits", dataclasses.replace(datasets.DATASETS["digits"], load=broken))
    status, _, err = run_cli(capsys, "train", *TINY, "--out", str(tmp_path / "run"))
    line = assert_clean_error(status, err, 1)
    assert "cannot read the digits dataset under 'data'" in line and str(error) in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_an_empty_test_set_is_an_error_not_nan(command, run_dir, tmp_path, capsys, monkeypatch):
    import dataclasses

    from chainrule.cli import datasets

    real = datasets.DATASETS["digits"].load

    def no_test_images(root, train):
        images, labels = real(root, train)
        return (images, labels) if train else (images[:0], labels[:0])

    monkeypatch.setitem(datasets.DATASETS, "digits",
                        dataclasses.replace(datasets.DATASETS["digits"], load=no_test_images))
    argv = (["train", *TINY, "--out", str(tmp_path / "run")] if command == "train"
            else ["evaluate", "--checkpoint", str(run_dir)])
    status, out, err = run_cli(capsys, *argv)
    assert "the digits test set under 'data' holds no images" in assert_clean_error(status, err, 2)
    assert "nan" not in out
