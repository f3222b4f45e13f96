"""``chainrule train --compile``: the same run as without it, bit for bit, and the same checkpoint files.

The digits CNN has dropout, so the replayed graphs must draw the same masks from the same random
stream as the eager calls for the weights to agree; the last batch of an epoch (7 of 135 images)
is a second input signature, recorded once and replayed in the next epoch.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.cli.train as train_module
from chainrule.cli.main import build_parser

from .helpers import SMALL, model_arrays, run_cli

ARGS = [*SMALL, "--no-plots"]
UNTIMED = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy")


def _assert_same_run(a, b, epochs: int) -> None:
    """Two run folders hold the same weights (same keys), optimiser state and untimed history."""
    wa, wb = model_arrays(a / "checkpoint.safetensors"), model_arrays(b / "checkpoint.safetensors")
    assert list(wa) == list(wb)
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
    sa, sb = cr.load(str(a / "checkpoint.safetensors")), cr.load(str(b / "checkpoint.safetensors"))
    assert sa["epoch"] == sb["epoch"] == epochs
    for pa, pb in zip(sa["optimizer"]["state"].values(), sb["optimizer"]["state"].values(), strict=True):
        for key in pa:
            np.testing.assert_array_equal(np.asarray(pa[key].numpy()), np.asarray(pb[key].numpy()))
    assert [[h[c] for c in UNTIMED] for h in sa["history"]] == [[h[c] for c in UNTIMED] for h in sb["history"]]
    assert sa["rng"].keys() == sb["rng"].keys()


def _report(out: str) -> list[str]:
    """The lines of a run's output that carry no timing (epoch lines without their seconds and img/s)."""
    lines = []
    for line in out.splitlines():
        if line.startswith("epoch "):
            line = line.rsplit("|", 1)[0]
        if not line.startswith(("done in", "compiled (", "wrote to", "training", "2 epochs")):
            lines.append(line)
    return lines


@pytest.mark.parametrize("flag", [["--compile"], ["--compile", "eager"]])
def test_compiled_run_equals_the_eager_run_bitwise(flag, tmp_path, capsys):
    eager, compiled = tmp_path / "eager", tmp_path / "compiled"
    status, out_eager, err = run_cli(capsys, "train", *ARGS, "--epochs", "2", "--out", str(eager))
    assert status == 0, err
    status, out_compiled, err = run_cli(capsys, "train", *ARGS, "--epochs", "2", "--out", str(compiled), *flag)
    assert status == 0, err
    _assert_same_run(eager, compiled, 2)
    # the checkpoint keeps the model's own keys: no "_orig_mod." prefix from the compiled wrapper
    assert not [k for k in model_arrays(compiled / "checkpoint.safetensors") if "_orig_mod" in k]
    assert _report(out_eager) == _report(out_compiled)  # test loss, accuracy and confusion matrix too
    backend = flag[1] if len(flag) > 1 else "inductor"
    # 9 batches per epoch (8 of 16, one of 7): two signatures recorded in epoch 1, all replayed in epoch 2;
    # each signature's first replay records the backward, the others run as a flat schedule
    line = next(line for line in out_compiled.splitlines() if line.startswith("compiled ("))
    assert line.startswith(f"compiled ({backend}): 18 calls of the model: 2 recorded (2 graphs kept, 0 fused kernels, ")
    assert line.endswith("16 replayed (14 as a flat schedule), 0 eager; no input signature fell back to eager")
    assert "compiled (" not in out_eager


def _small_runs(tmp_path, capsys, model: str) -> tuple:
    """Two epochs of ``model`` on 48 digits, eager and with ``--compile``: the two run folders and
    the compiled run's ``compiled (...)`` line (6 training calls: batches of 16)."""
    args = ["--model", model, "--data", "digits", "--train-limit", "64", "--test-limit", "16", "--batch-size", "16",
            "--no-progress", "--no-plots", "--epochs", "2", "--val-fraction", "0.25"]
    eager, compiled = tmp_path / "eager", tmp_path / "compiled"
    assert run_cli(capsys, "train", *args, "--out", str(eager))[0] == 0
    status, out, err = run_cli(capsys, "train", *args, "--out", str(compiled), "--compile")
    assert status == 0, err
    return eager, compiled, next(line for line in out.splitlines() if line.startswith("compiled ("))


def test_a_model_with_fused_kernels_trains_bitwise_as_eager(tmp_path, capsys):
    """nf_resnet's scaled activations and residual sums are chains of element-wise operators: the
    default backend runs them as fused kernels (forward and gradient), and the weights still agree."""
    eager, compiled, line = _small_runs(tmp_path, capsys, "nf_resnet")
    fused = int(line.split(" fused kernel")[0].rsplit(" ", 1)[1])
    assert fused > 0 and "6 calls of the model: 1 recorded (1 graph kept, " in line, line
    assert line.endswith("5 replayed (4 as a flat schedule), 0 eager; no input signature fell back to eager"), line
    _assert_same_run(eager, compiled, 2)


def test_a_model_with_batch_norm_trains_compiled_bitwise_as_eager(tmp_path, capsys):
    """resnet's batch norms update their running statistics in place while training: those writes
    are steps of the graph, so every training call after the first replays, and the weights, the
    running statistics and the metrics all agree with the eager run."""
    eager, compiled, line = _small_runs(tmp_path, capsys, "resnet")
    assert "6 calls of the model: 1 recorded (1 graph kept, " in line, line
    # the running statistics' updates are writes into buffers, steps of the flat schedule too
    assert line.endswith("5 replayed (4 as a flat schedule), 0 eager; no input signature fell back to eager"), line
    _assert_same_run(eager, compiled, 2)
    assert any(k.endswith("running_var") for k in model_arrays(compiled / "checkpoint.safetensors"))


@pytest.mark.parametrize("first,second", [(["--compile", "eager"], []), ([], ["--compile", "eager"])])
def test_checkpoints_resume_across_compile_and_eager(first, second, tmp_path, capsys):
    """A run started with (without) --compile resumes without (with) it and ends where a straight run does
    (a step schedule: extending it changes no learning rate, where a cosine one would add a new cycle)."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = [*ARGS, "--scheduler", "step", "--step-size", "1", "--gamma", "0.7"]
    assert run_cli(capsys, "train", *args, "--epochs", "3", "--out", str(straight))[0] == 0
    assert run_cli(capsys, "train", *args, "--epochs", "2", "--out", str(split), *first)[0] == 0
    status, _, err = run_cli(capsys, "train", "--resume", str(split), "--epochs", "3", "--no-progress", "--no-plots",
                             *second)
    assert status == 0, err
    _assert_same_run(straight, split, 3)
    status, evaluated, err = run_cli(capsys, "evaluate", "--checkpoint", str(split / "checkpoint.safetensors"),
                                     "--test-limit", "40")
    assert status == 0, err
    assert "accuracy" in evaluated


def test_a_signature_that_cannot_be_captured_runs_eagerly_and_says_why(tmp_path, capsys, monkeypatch):
    """A forward hook (Python code on every call) cannot be captured: each signature falls back to
    eager, the run is unchanged, and the line names the reason."""
    real_build = train_module.build_model
    calls = []

    def build_with_hook(name, spec):
        model = real_build(name, spec)
        model.register_forward_hook(lambda module, args, output: calls.append(output.shape[0]))
        return model

    monkeypatch.setattr(train_module, "build_model", build_with_hook)
    eager, compiled = tmp_path / "eager", tmp_path / "compiled"
    assert run_cli(capsys, "train", *ARGS, "--epochs", "2", "--out", str(eager))[0] == 0
    n_eager = len(calls)
    status, out, err = run_cli(capsys, "train", *ARGS, "--epochs", "2", "--out", str(compiled), "--compile")
    assert status == 0, err
    assert len(calls) == 2 * n_eager  # the hook ran on every call of the compiled run too
    _assert_same_run(eager, compiled, 2)
    line = next(line for line in out.splitlines() if line.startswith("compiled ("))
    assert "18 calls of the model: 2 recorded (0 graphs kept, 0 fused kernels, 0.00s), 0 replayed (0 as a flat schedule), 16 eager" in line
    assert "2 input signatures fell back to eager: module hooks on the model (DigitsCNN)" in line
    assert line.endswith("(x2)")


def test_compile_flag_parses_to_a_backend(capsys):
    parse = build_parser().parse_args
    assert parse(["train"]).compile is None
    assert parse(["train", "--compile"]).compile == "inductor"
    assert parse(["train", "--compile", "eager"]).compile == "eager"
    assert parse(["demo", "--compile"]).compile == "inductor"
    with pytest.raises(SystemExit) as e:
        parse(["train", "--compile", "cudagraphs"])
    assert e.value.code == 2
    assert "argument --compile: invalid choice: 'cudagraphs'" in capsys.readouterr().err
