"""``--resume`` continues exactly: 2 epochs + 2 resumed epochs give the weights of 4 straight epochs."""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.cli.train as train_module

from .helpers import SMALL, model_arrays, run_cli

# a schedule that changes every epoch, and a model with dropout, so that the learning rate and
# every random stream (shuffling, dropout) must be restored for the weights to agree
ARGS = [*SMALL, "--scheduler", "step", "--step-size", "1", "--gamma", "0.7", "--no-plots"]


def _assert_same_run(a, b):
    wa, wb = model_arrays(a / "checkpoint.safetensors"), model_arrays(b / "checkpoint.safetensors")
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
    sa, sb = cr.load(str(a / "checkpoint.safetensors")), cr.load(str(b / "checkpoint.safetensors"))
    assert sa["epoch"] == sb["epoch"] == 4
    for pa, pb in zip(sa["optimizer"]["state"].values(), sb["optimizer"]["state"].values()):
        for key in pa:
            np.testing.assert_array_equal(np.asarray(pa[key].numpy()), np.asarray(pb[key].numpy()))
    untimed = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy")
    assert [[h[c] for c in untimed] for h in sa["history"]] == [[h[c] for c in untimed] for h in sb["history"]]


def test_two_plus_two_epochs_equal_four(tmp_path, capsys):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run_cli(capsys, "train", *ARGS, "--epochs", "4", "--out", str(straight))[0] == 0
    assert run_cli(capsys, "train", *ARGS, "--epochs", "2", "--out", str(split))[0] == 0
    status, out, err = run_cli(capsys, "train", "--resume", str(split / "checkpoint.safetensors"), "--epochs", "4",
                               "--no-progress", "--no-plots")
    assert status == 0, err
    assert "resuming digits_cnn" in out and "continuing after epoch 2" in out
    assert [line.split("|")[0].strip() for line in out.splitlines() if line.startswith("epoch")] == [
        "epoch 3/4", "epoch 4/4"]
    _assert_same_run(straight, split)
    with open(split / "metrics.csv") as f:
        assert [line.split(",")[0] for line in f.read().splitlines()] == ["epoch", "1", "2", "3", "4"]


def test_interrupted_run_resumes_exactly(tmp_path, capsys, monkeypatch):
    """The real use: a 4-epoch cosine run stopped (Ctrl-C) after epoch 2, then resumed as it was."""
    args = [*SMALL, "--no-plots", "--epochs", "4"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run_cli(capsys, "train", *args, "--out", str(straight))[0] == 0
    saves = []
    original = train_module.save_checkpoint

    def save_then_interrupt(state, path):
        original(state, path)
        saves.append(state["epoch"])
        if state["epoch"] == 2 and path.endswith("checkpoint.safetensors"):
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", save_then_interrupt)
    status, _, err = run_cli(capsys, "train", *args, "--out", str(split))
    assert status == 130 and "resume with: chainrule train --resume" in err
    monkeypatch.setattr(train_module, "save_checkpoint", original)
    status, _, err = run_cli(capsys, "train", "--resume", str(split), "--no-progress", "--no-plots")
    assert status == 0, err
    _assert_same_run(straight, split)


def test_resume_keeps_the_run_settings(tmp_path, capsys):
    assert run_cli(capsys, "train", *ARGS, "--epochs", "1", "--out", str(tmp_path))[0] == 0
    status, out, _ = run_cli(capsys, "train", "--resume", str(tmp_path), "--lr", "0.5", "--model", "mlp",
                             "--no-progress", "--no-plots")
    assert status == 0
    assert "note: --lr 0.5 ignored" in out and "note: --model mlp ignored" in out
    assert "note: the checkpoint is at epoch 1 of 1; nothing to train" in out


def test_resume_from_a_missing_or_foreign_file(tmp_path, capsys):
    status, _, err = run_cli(capsys, "train", "--resume", str(tmp_path / "nope.safetensors"))
    assert status == 2 and "cannot resume" in err and "no such file" in err
    cr.save({"w": cr.zeros(2)}, str(tmp_path / "weights.safetensors"))
    status, _, err = run_cli(capsys, "train", "--resume", str(tmp_path / "weights.safetensors"))
    assert status == 2 and "not a training checkpoint" in err
